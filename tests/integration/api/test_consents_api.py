"""The consent ledger and decision API: record, read, receipts, decisions, bulk, permissions."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.access_log import RedactDownloadLinks
from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.security.subject_hash import identity_hash
from personvern.store.requests import RequestRepository
from tests.integration.api.conftest import TokenFactory, bearer

NEWS = "marketing_newsletter"
CUSTOMERS = "marketing_existing_customers"
WHY = {"X-Personvern-Purpose": "legal_compliance"}


@pytest.fixture
def dpo(make_token: TokenFactory) -> dict[str, str]:
    """Headers of a privacy officer."""
    return bearer(make_token(Role.PRIVACY_OFFICER))


@pytest.fixture
def marketing(make_token: TokenFactory) -> dict[str, str]:
    """Headers of the marketing system."""
    return bearer(make_token(Role.MARKETING_SYSTEM))


def give(
    client: TestClient, headers: dict[str, str], value: str, action: str = "granted", **extra: Any
) -> dict[str, Any]:
    body = {"identity": {"kind": "email", "value": value}, "purpose": NEWS, "action": action}
    body.update(extra)
    response = client.post("/api/v1/consents", json=body, headers=headers)
    assert 201 == response.status_code, response.text
    answer: dict[str, Any] = response.json()
    return answer


def decide(
    client: TestClient, headers: dict[str, str], email: str, **params: Any
) -> dict[str, Any]:
    response = client.get(
        "/api/v1/decisions/marketing",
        params={"email": email, "channel": "email", **params},
        headers=headers,
    )
    assert 200 == response.status_code, response.text
    answer: dict[str, Any] = response.json()
    return answer


def flag(app: FastAPI, kind: str, email: str, purpose: str | None = None) -> None:
    """Record a flag the way a run of a request does (personvern.engine.runner._flag)."""
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        hashed = identity_hash(context.settings.secret(), "email", email)
        RequestRepository(uow.session).add_flag(kind, "email", hashed, purpose, None)


def test_a_grant_is_recorded_with_its_text_and_proof_and_read_back(
    client: TestClient, dpo: dict[str, str]
) -> None:
    given = give(
        client,
        dpo,
        " Kari.Nordmann@Example.COM ",
        channel="email",
        language="en",
        source="privacy_centre",
        proof={"ip": "203.0.113.77", "user_agent": "Mozilla/5.0 Firefox/133.0"},
    )
    assert ("granted", "203.0.113.0/24", "Firefox 133") == (
        given["action"],
        given["ip_prefix"],
        given["user_agent_family"],
    )
    history = client.get(
        "/api/v1/consents", params={"identity": "kari.nordmann@example.com"}, headers={**dpo, **WHY}
    )
    assert 200 == history.status_code, history.text
    body = history.json()
    assert [given["id"]] == [r["id"] for r in body["records"]]
    assert [(NEWS, "email", True, False)] == [
        (s["purpose"], s["channel"], s["granted"], s["stale"]) for s in body["current"]
    ]
    assert "kari" not in history.text.lower()


def test_reading_the_history_needs_a_purpose_and_is_audited(
    client: TestClient, app: FastAPI, dpo: dict[str, str]
) -> None:
    give(client, dpo, "ola@example.com")
    missing = client.get("/api/v1/consents", params={"identity": "ola@example.com"}, headers=dpo)
    assert 422 == missing.status_code
    flag(app, "restriction", "ola@example.com")
    refused = client.get(
        "/api/v1/consents",
        params={"identity": "ola@example.com"},
        headers={**dpo, "X-Personvern-Purpose": "marketing_newsletter"},
    )
    assert 403 == refused.status_code
    allowed = client.get(
        "/api/v1/consents", params={"identity": "ola@example.com"}, headers={**dpo, **WHY}
    )
    assert 200 == allowed.status_code
    trail = client.get("/api/v1/audit/events", headers=dpo)
    assert 200 == trail.status_code, trail.text
    events = trail.json()
    events = events.get("events", events) if isinstance(events, dict) else events
    reads = [e for e in events if e["action"] == "personal_data.read"]
    assert ["denied", "success"] == [e["outcome"] for e in reads][-2:]
    assert any(e["action"] == "consent.changed" for e in events)
    assert "ola@example.com" not in trail.text


def test_decisions_follow_the_ledger_and_the_requests_flags(
    client: TestClient, app: FastAPI, dpo: dict[str, str], marketing: dict[str, str]
) -> None:
    email = "per@example.com"
    assert ("deny", "no_consent") == _answer(decide(client, marketing, email))
    give(client, dpo, "PER@example.com", channel="email")
    assert ("allow", "consent_given") == _answer(decide(client, marketing, email))
    # By SMS, the phone number is asked for; no consent was given for it.
    sms = client.get(
        "/api/v1/decisions/marketing",
        params={"phone": "+47 912 34 567", "channel": "sms"},
        headers=marketing,
    )
    assert ("deny", "no_consent") == _answer(sms.json())
    give(client, dpo, email, action="withdrawn")
    assert ("deny", "consent_withdrawn") == _answer(decide(client, marketing, email))
    # The § 15 exception: only a customer, only where the data map allows it.
    customer = decide(client, marketing, email, existing_customer="true")
    assert ("allow", "existing_customer", CUSTOMERS) == (*_answer(customer), customer["purpose"])
    flag(app, "restriction", email)
    assert ("deny", "restriction") == _answer(
        decide(client, marketing, email, existing_customer="true")
    )
    flag(app, "objection", email)
    answer = decide(client, marketing, email, existing_customer="true")
    assert ("deny", "objection") == _answer(answer)
    assert email not in json.dumps(answer)


def test_an_erasure_under_way_stops_marketing(
    client: TestClient, dpo: dict[str, str], marketing: dict[str, str]
) -> None:
    email = "lise@example.com"
    give(client, dpo, email)
    filed = client.post(
        "/api/v1/requests",
        json={
            "type": "erasure",
            "identities": [{"kind": "email", "value": "Lise@Example.com"}],
            "verification_method": "staff_in_person",
            "verification_note": "passport checked",
        },
        headers=dpo,
    )
    assert 201 == filed.status_code, filed.text
    assert "verified" == filed.json()["state"]
    assert ("deny", "erasure_in_progress") == _answer(decide(client, marketing, email))
    processing = client.get(
        "/api/v1/decisions/processing",
        params={"identity": email, "purpose": "legal_compliance"},
        headers=marketing,
    )
    assert ("allow", "legal_basis") == _answer(processing.json())


def test_processing_decisions(
    client: TestClient, app: FastAPI, dpo: dict[str, str], marketing: dict[str, str]
) -> None:
    def ask(purpose: str) -> tuple[str, str]:
        response = client.get(
            "/api/v1/decisions/processing",
            params={"identity": "eva@example.com", "purpose": purpose},
            headers=marketing,
        )
        assert 200 == response.status_code, response.text
        return _answer(response.json())

    assert ("allow", "legal_basis") == ask("technical_support")
    assert ("deny", "no_consent") == ask("service_improvement")
    flag(app, "objection", "eva@example.com", "call_quality")
    assert ("deny", "objection") == ask("call_quality")
    unknown = client.get(
        "/api/v1/decisions/processing",
        params={"identity": "eva@example.com", "purpose": "nope"},
        headers=marketing,
    )
    assert 422 == unknown.status_code
    assert "eva@example.com" not in unknown.text


def test_a_receipt_is_a_signed_kantara_receipt(client: TestClient, dpo: dict[str, str]) -> None:
    given = give(client, dpo, "nils@example.com", language="nb", channel="email")
    response = client.get(f"/api/v1/consents/{given['id']}/receipt", headers=dpo)
    assert 200 == response.status_code, response.text
    body = response.json()
    claims = jwt.decode(body["jwt"], body["public_key"], algorithms=["EdDSA"])
    for field in (
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
    ):
        assert field in claims
    assert ("KI-CR-v1.1.0", given["id"], "NO") == (
        claims["version"],
        claims["consentReceiptID"],
        claims["jurisdiction"],
    )
    assert claims["personvern"]["text"].startswith("Ja, jeg vil motta nyhetsbrev")
    assert "nils" not in json.dumps(claims)
    assert body["key_id"] == jwt.get_unverified_header(body["jwt"])["kid"]
    tampered = body["jwt"][:-4] + ("AAAA" if not body["jwt"].endswith("AAAA") else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, body["public_key"], algorithms=["EdDSA"])
    assert 404 == client.get(f"/api/v1/consents/{'0' * 32}/receipt", headers=dpo).status_code


def test_bad_input_is_refused_and_nothing_recorded(client: TestClient, dpo: dict[str, str]) -> None:
    cases = [
        {"identity": {"kind": "email", "value": "not an address"}, "purpose": NEWS},
        {"identity": {"kind": "email", "value": "a@example.com"}, "purpose": "nope"},
        # A purpose with no consent text cannot be consented to (it can be opted out of).
        {"identity": {"kind": "email", "value": "a@example.com"}, "purpose": CUSTOMERS},
        {
            "identity": {"kind": "email", "value": "a@example.com"},
            "purpose": NEWS,
            "text_version": "0" * 64,
        },
        {
            "identity": {"kind": "email", "value": "a@example.com"},
            "purpose": NEWS,
            "at": "2024-01-01T00:00:00Z",
        },
        {
            "identity": {"kind": "email", "value": "a@example.com"},
            "purpose": NEWS,
            "proof": {"ip": "999.1.1.1"},
        },
    ]
    for case in cases:
        response = client.post("/api/v1/consents", json={**case, "action": "granted"}, headers=dpo)
        assert response.status_code in {409, 422}, (case, response.text)
        assert "hint" in response.json(), response.text
    history = client.get(
        "/api/v1/consents", params={"identity": "a@example.com"}, headers={**dpo, **WHY}
    )
    assert [] == history.json()["records"]
    opt_out = client.post(
        "/api/v1/consents",
        json={
            "identity": {"kind": "email", "value": "a@example.com"},
            "purpose": CUSTOMERS,
            "action": "withdrawn",
        },
        headers=dpo,
    )
    assert 201 == opt_out.status_code
    imported = client.post(
        "/api/v1/consents",
        json={
            "identity": {"kind": "email", "value": "a@example.com"},
            "purpose": NEWS,
            "action": "granted",
            "source": "import",
            "at": "2024-01-01T00:00:00Z",
        },
        headers=dpo,
    )
    assert "2024-01-01T00:00:00Z" == imported.json()["at"]


def test_bulk_decisions_take_json_and_csv(
    client: TestClient, app: FastAPI, dpo: dict[str, str], marketing: dict[str, str]
) -> None:
    give(client, dpo, "yes@example.com")
    give(client, dpo, "gone@example.com")
    give(client, dpo, "gone@example.com", action="withdrawn")
    flag(app, "objection", "objects@example.com")
    addresses = [
        "yes@example.com",
        "YES@example.com",
        "gone@example.com",
        "objects@example.com",
        "customer@example.com",
        "nobody@example.com",
        "not an address",
    ]
    response = client.post(
        "/api/v1/decisions/marketing/bulk",
        json={
            "channel": "email",
            "addresses": addresses,
            "existing_customers": ["Customer@example.com"],
        },
        headers=marketing,
    )
    assert 200 == response.status_code, response.text
    body = response.json()
    assert ["yes@example.com", "customer@example.com"] == body["contactable"]
    assert {
        "consent_given": 1,
        "consent_withdrawn": 1,
        "objection": 1,
        "existing_customer": 1,
        "no_consent": 1,
    } == body["counts"]
    assert (7, 1, 1) == (body["total"], body["invalid"], body["duplicates"])

    csv_body = "address,existing_customer\n" + "\n".join(
        f"{a},{'true' if a.startswith('customer') else ''}" for a in addresses
    )
    as_csv = client.post(
        "/api/v1/decisions/marketing/bulk?channel=email",
        content=csv_body.encode(),
        headers={**marketing, "Content-Type": "text/csv"},
    )
    assert 200 == as_csv.status_code, as_csv.text
    assert body["contactable"] == as_csv.json()["contactable"]
    for content, kind in [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "text/csv"),
        (b"a@example.com", "text/plain"),
    ]:
        refused = client.post(
            "/api/v1/decisions/marketing/bulk?channel=email",
            content=content,
            headers={**marketing, "Content-Type": kind},
        )
        assert 422 == refused.status_code, (content, refused.text)


def test_bulk_decisions_on_100k_addresses_in_under_10_seconds(
    client: TestClient, dpo: dict[str, str], marketing: dict[str, str]
) -> None:
    for n in range(0, 100_000, 10_000):
        give(client, dpo, f"person{n}@example.com")
    addresses = [f"person{n}@example.com" for n in range(100_000)]
    started = time.perf_counter()
    response = client.post(
        "/api/v1/decisions/marketing/bulk",
        json={"channel": "email", "addresses": addresses},
        headers=marketing,
    )
    elapsed = time.perf_counter() - started
    assert 200 == response.status_code, response.text[:500]
    body = response.json()
    assert [f"person{n}@example.com" for n in range(0, 100_000, 10_000)] == body["contactable"]
    assert {"consent_given": 10, "no_consent": 99_990} == body["counts"]
    assert elapsed < 10, f"100k bulk decisions took {elapsed:.1f} s"


def test_the_marketing_system_decides_and_sees_nothing_personal(
    client: TestClient, app: FastAPI, dpo: dict[str, str], marketing: dict[str, str]
) -> None:
    given = give(client, dpo, "siri@example.com")
    for method, path, kwargs in [
        ("GET", "/api/v1/consents", {"params": {"identity": "siri@example.com"}}),
        ("POST", "/api/v1/consents", {"json": {}}),
        ("GET", f"/api/v1/consents/{given['id']}/receipt", {}),
        ("GET", "/api/v1/requests", {}),
        ("GET", "/api/v1/audit/events", {}),
    ]:
        response = client.request(method, path, headers={**marketing, **WHY}, **kwargs)
        assert 403 == response.status_code, (path, response.status_code)
    # Every operation the role can reach is a decision, or public.
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            permissions = set(operation.get("x-permissions", ()))
            if permissions and permissions <= {"decisions:read"}:
                assert path.startswith("/api/v1/decisions/"), (method, path)


def test_the_access_log_hides_identities_in_queries() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            "/api/v1/decisions/marketing?channel=email&email=kari%40example.com&purpose=x",
            "1.1",
            200,
        ),
        None,
    )
    RedactDownloadLinks().filter(record)
    line = record.getMessage()
    assert "kari" not in line
    assert "email=<redacted>" in line
    assert "channel=email" in line
    for query in ("?identity=12345678901", "?phone=%2B4791234567", "?kind=email&identity=a@b.no"):
        record.args = ("c", "GET", f"/api/v1/consents{query}", "1.1", 200)
        RedactDownloadLinks().filter(record)
        assert "<redacted>" in record.getMessage()
        assert query.split("=")[-1] not in record.getMessage()


def _answer(body: dict[str, Any]) -> tuple[str, str]:
    return body["decision"], body["reason"]


def test_an_erasure_whose_subject_key_is_destroyed_still_stops_marketing_until_it_closes(
    client: TestClient, app: FastAPI, dpo: dict[str, str], marketing: dict[str, str]
) -> None:
    email = "tore@example.com"
    give(client, dpo, email)
    filed = client.post(
        "/api/v1/requests",
        json={
            "type": "erasure",
            "identities": [{"kind": "email", "value": email}],
            "verification_method": "staff_in_person",
            "verification_note": "passport checked",
        },
        headers=dpo,
    )
    assert 201 == filed.status_code, filed.text
    assert ("deny", "erasure_in_progress") == _answer(decide(client, marketing, email))
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        vault = uow.vault
        assert vault is not None
        subject = uow.requests.get(filed.json()["id"]).subject_key
        assert vault.shred(subject) == 1
    # Its identities cannot be read any more; the decision needs no more than the keyed
    # hash kept while the request is open, and the person still asked to be erased.
    assert ("deny", "erasure_in_progress") == _answer(decide(client, marketing, email))


def test_a_processing_decision_for_a_category_the_map_does_not_declare_is_denied(
    client: TestClient, marketing: dict[str, str]
) -> None:
    def ask(purpose: str, category: str) -> Any:
        return client.get(
            "/api/v1/decisions/processing",
            params={"identity": "eva@example.com", "purpose": purpose, "category": category},
            headers=marketing,
        )

    assert ("allow", "legal_basis") == _answer(ask("technical_support", "user.contact").json())
    assert ("deny", "not_declared") == _answer(
        ask("technical_support", "user.government_id.national_identification_number").json()
    )
    unknown = ask("technical_support", "user.contactt")
    assert 422 == unknown.status_code
    assert "user.contact" in unknown.json()["hint"]
