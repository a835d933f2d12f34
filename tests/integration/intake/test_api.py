"""`/api/v1/requests` over HTTP: the public filing and code, staff filing, reading and rejecting."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.domain.roles import Role
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.conftest import (
    EMPTY,
    TokenFactory,
    bearer,
    make_settings,
    row_counts,
)
from tests.integration.intake.smtp import Inbox, closed_port

KARI = "kari.nordmann@example.no"
PROBLEM = "application/problem+json"
#: Why staff read a request's personal data: handling it is a legal obligation.
PURPOSE = {"X-Personvern-Purpose": "legal_compliance"}


def body(**changes: Any) -> dict[str, Any]:
    """A valid public access request, with ``changes`` applied."""
    return {"type": "access", "identities": [{"kind": "email", "value": KARI}]} | changes


def test_file_verify_and_read_back_a_request(
    client: TestClient, inbox: Inbox, make_token: TokenFactory
) -> None:
    filed = client.post("/api/v1/requests", json=body(language="en"))
    assert 201 == filed.status_code, filed.text
    answer = filed.json()
    assert ("access", "awaiting_verification", "k***@example.no", None) == (
        answer["type"],
        answer["state"],
        answer["code_sent_to"],
        answer["linked_request_id"],
    )
    assert "Confirm your request for access to your data" == inbox.to(KARI)[0]["Subject"]

    verified = client.post(
        f"/api/v1/requests/{answer['id']}/verify", json={"code": inbox.last_code(KARI)}
    )
    assert 200 == verified.status_code, verified.text
    assert ("verified", "email_code") == (
        verified.json()["state"],
        verified.json()["verification_method"],
    )

    agent = bearer(make_token(Role.AGENT)) | PURPOSE
    listed = client.get("/api/v1/requests", headers=agent).json()["requests"]
    assert [(answer["id"], "verified", ["email=k***@example.no"])] == [
        (r["id"], r["state"], r["identities"]) for r in listed
    ]
    # One month, moved past weekends and holidays (Christmas or Easter can add four days).
    assert 28 <= listed[0]["days_left"] <= 36
    detail = client.get(f"/api/v1/requests/{answer['id']}", headers=agent).json()
    assert [{"kind": "email", "value": KARI}] == detail["identities"]
    assert ("public", "subject", "en") == (
        detail["channel"],
        detail["created_by"],
        detail["language"],
    )
    assert [
        "received through public",
        "waiting for the e-mail code",
        "code sent by e-mail",
        "identity verified: email_code",
    ] == [e["message"] for e in detail["events"]]
    assert (None, None) == (detail["plan"], detail["receipt"])


@pytest.mark.parametrize(
    ("identity", "detail"),
    [
        ({"kind": "email", "value": "kari@example"}, "that is not an e-mail address"),
        ({"kind": "phone_number", "value": "+47 12"}, "that is not a valid phone number"),
        ({"kind": "passport", "value": "X1234"}, "unknown identity type 'passport'"),
    ],
)
def test_bad_identities_are_422_problems_and_store_nothing(
    app: FastAPI, client: TestClient, inbox: Inbox, identity: dict[str, str], detail: str
) -> None:
    response = client.post("/api/v1/requests", json=body(identities=[identity]))
    assert (422, PROBLEM, detail) == (
        response.status_code,
        response.headers["content-type"],
        response.json()["detail"],
    )
    assert "Traceback" not in response.text
    assert EMPTY == row_counts(app.state.context.application.store)
    assert [] == inbox.messages


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"identities": []}, "body.identities"),
        ({"identities": [{"kind": "email", "value": "x" * 300}]}, "body.identities.0.value"),
        ({"type": "deletion"}, "body.type"),
        ({"colour": "blue"}, "body.colour"),
        ({"details": {"corrections": {"user.name": "y" * 1001}}}, "body.details.corrections"),
    ],
)
def test_malformed_bodies_are_422_problems(
    client: TestClient, changes: dict[str, Any], location: str
) -> None:
    response = client.post("/api/v1/requests", json=body(**changes))
    assert (422, PROBLEM) == (response.status_code, response.headers["content-type"])
    assert response.json()["errors"][0]["location"].startswith(location)


def test_codes_are_limited_per_address_but_filing_is_not(
    client: TestClient, inbox: Inbox, app: FastAPI
) -> None:
    for _ in range(5):
        assert 201 == client.post("/api/v1/requests", json=body()).status_code
    filed = client.post("/api/v1/requests", json=body())
    assert (201, None) == (filed.status_code, filed.json()["code_sent_to"])
    assert "ask for yours with /resend-code: try again in 60 minutes" in filed.json()["message"]
    assert 5 == len(inbox.to(KARI))
    response = client.post(f"/api/v1/requests/{filed.json()['id']}/resend-code")
    assert (429, PROBLEM) == (response.status_code, response.headers["content-type"])
    retry_after = int(response.headers["retry-after"])
    assert 3590 <= retry_after <= 3600
    assert (
        "too many codes have been sent to this e-mail address",
        retry_after,
    ) == (response.json()["detail"], response.json()["retry_after"])
    assert 5 == len(inbox.to(KARI))


def test_resending_codes_is_limited_per_client_ip(tmp_path: Any, inbox: Inbox) -> None:
    settings = make_settings(tmp_path / "home", inbox, intake_codes_per_client=2)
    app = create_app(settings, EXAMPLE_DATAMAP)
    with TestClient(app, client=("192.0.2.20", 50000)) as client:
        request_id = client.post("/api/v1/requests", json=body()).json()["id"]
        assert 202 == client.post(f"/api/v1/requests/{request_id}/resend-code").status_code
        limited = client.post(f"/api/v1/requests/{request_id}/resend-code")
        assert (429, "too many requests have been filed from your network") == (
            limited.status_code,
            limited.json()["detail"],
        )
        assert "retry-after" in limited.headers
    # Another network is not held back by the first one's limit.
    other = TestClient(app, client=("203.0.113.50", 50000))
    assert 202 == other.post(f"/api/v1/requests/{request_id}/resend-code").status_code
    assert 3 == len(inbox.to(KARI))


def test_a_mail_server_that_is_down_gives_503_and_stores_nothing(tmp_path: Any) -> None:
    settings = make_settings(
        tmp_path / "home", None, smtp_host="127.0.0.1", smtp_port=closed_port()
    )
    app = create_app(settings, EXAMPLE_DATAMAP)
    with TestClient(app) as client:
        response = client.post("/api/v1/requests", json=body())
    assert (503, PROBLEM) == (response.status_code, response.headers["content-type"])
    assert (
        "the e-mail could not be sent: the mail server is unavailable or refused it"
        == response.json()["detail"]
    )
    assert EMPTY == row_counts(app.state.context.application.store)


def test_without_a_mail_server_public_filing_is_503(tmp_path: Any) -> None:
    app = create_app(make_settings(tmp_path / "home", None), EXAMPLE_DATAMAP)
    with TestClient(app) as client:
        response = client.post("/api/v1/requests", json=body())
    assert (503, "e-mail verification is not configured") == (
        response.status_code,
        response.json()["detail"],
    )


def test_an_agent_files_a_verified_request_on_a_customers_behalf(
    client: TestClient, inbox: Inbox, make_token: TokenFactory
) -> None:
    agent = bearer(make_token(Role.AGENT)) | PURPOSE
    response = client.post(
        "/api/v1/requests",
        headers=agent,
        json=body(
            type="erasure",
            identities=[{"kind": "phone_number", "value": "+47 912 34 567"}],
            verification_method="staff_known_contact",
            verification_note="called back on the number in the CRM",
        ),
    )
    assert 201 == response.status_code, response.text
    answer = response.json()
    assert ("verified", "staff_known_contact", None) == (
        answer["state"],
        answer["verification_method"],
        answer["code_sent_to"],
    )
    detail = client.get(f"/api/v1/requests/{answer['id']}", headers=agent).json()
    assert ("staff", "api-token:1", "called back on the number in the CRM") == (
        detail["channel"],
        detail["created_by"],
        detail["verification_note"],
    )
    assert [{"kind": "phone_number", "value": "+4791234567"}] == detail["identities"]
    assert [] == inbox.messages


def test_an_agent_sees_a_duplicate_linked_while_the_public_does_not(
    client: TestClient, inbox: Inbox, make_token: TokenFactory
) -> None:
    first = client.post("/api/v1/requests", json=body()).json()
    again = client.post("/api/v1/requests", json=body()).json()
    assert (again["state"], again["linked_request_id"]) == (first["state"], None)
    assert first["id"] != again["id"]

    agent = bearer(make_token(Role.AGENT)) | PURPOSE
    staff = client.post(
        "/api/v1/requests",
        headers=agent,
        json=body(verification_method="staff_in_person", verification_note="at the counter"),
    ).json()
    # The agent's proof is the first: the public filings are unproven claims and never
    # inherit it; once one of them is verified, it closes as the agent's duplicate.
    assert ("verified", None) == (staff["state"], staff["linked_request_id"])
    assert (
        "awaiting_verification"
        == client.get(f"/api/v1/requests/{first['id']}", headers=agent).json()["state"]
    )
    code = inbox.last_code(KARI)
    verified = client.post(f"/api/v1/requests/{again['id']}/verify", json={"code": code}).json()
    assert ("rejected", staff["id"]) == (verified["state"], verified["linked_request_id"])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Authorization": "Bearer pv_" + "x" * 43}, 401),
        ("marketing", 403),
        (None, 403),
    ],
)
def test_only_staff_may_record_a_verification(
    client: TestClient, make_token: TokenFactory, headers: Any, status: int
) -> None:
    if headers == "marketing":
        headers = bearer(make_token(Role.MARKETING_SYSTEM))
    response = client.post(
        "/api/v1/requests",
        headers=headers,
        json=body(verification_method="staff_in_person", verification_note="trust me"),
    )
    assert (status, PROBLEM) == (response.status_code, response.headers["content-type"])


def test_wrong_and_unknown_codes_are_clear_problems(client: TestClient, inbox: Inbox) -> None:
    request_id = client.post("/api/v1/requests", json=body()).json()["id"]
    code = inbox.last_code(KARI)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(f"/api/v1/requests/{request_id}/verify", json={"code": wrong})
    assert (422, "Wrong code", "the code is wrong; 4 attempts left") == (
        response.status_code,
        response.json()["title"],
        response.json()["detail"],
    )
    unknown = client.post(f"/api/v1/requests/{'0' * 32}/verify", json={"code": code})
    assert (404, "no request with this reference") == (
        unknown.status_code,
        unknown.json()["detail"],
    )
    ok = client.post(f"/api/v1/requests/{request_id}/verify", json={"code": code})
    assert 200 == ok.status_code
    again = client.post(f"/api/v1/requests/{request_id}/verify", json={"code": code})
    assert (409, "this request is not waiting for a code") == (
        again.status_code,
        again.json()["detail"],
    )


def test_agents_reject_and_auditors_only_read(
    client: TestClient, inbox: Inbox, make_token: TokenFactory
) -> None:
    request_id = client.post("/api/v1/requests", json=body()).json()["id"]
    auditor = bearer(make_token(Role.AUDITOR))
    # The auditor reads the audit trail, not the subject's personal data.
    assert (
        403 == client.get(f"/api/v1/requests/{request_id}", headers=auditor | PURPOSE).status_code
    )
    refused = client.post(
        f"/api/v1/requests/{request_id}/reject", headers=auditor, json={"reason": "excessive"}
    )
    assert 403 == refused.status_code

    agent = bearer(make_token(Role.AGENT)) | PURPOSE
    rejected = client.post(
        f"/api/v1/requests/{request_id}/reject",
        headers=agent,
        json={"reason": "manifestly_unfounded"},
    )
    assert 200 == rejected.status_code, rejected.text
    answer = rejected.json()
    assert ("rejected", "manifestly_unfounded", None) == (
        answer["state"],
        answer["rejection_reason"],
        answer["days_left"],
    )
    twice = client.post(
        f"/api/v1/requests/{request_id}/reject", headers=agent, json={"reason": "excessive"}
    )
    assert (409, PROBLEM) == (twice.status_code, twice.headers["content-type"])
    listed = client.get("/api/v1/requests?state=rejected", headers=agent).json()["requests"]
    assert [request_id] == [r["id"] for r in listed]
    bad_filter = client.get("/api/v1/requests?state=lost", headers=agent)
    assert (422, "unknown request state 'lost'") == (
        bad_filter.status_code,
        bad_filter.json()["detail"],
    )
    missing = client.get(f"/api/v1/requests/{'f' * 32}", headers=agent)
    assert 404 == missing.status_code


def test_settings_fixture_is_independent_of_the_environment(settings: Settings) -> None:
    # The app under test must mail the test server, whatever PERSONVERN_SMTP_* says.
    assert settings.smtp_host == "127.0.0.1"


def test_a_code_entered_wrongly_too_often_is_410_as_the_schema_says(
    client: TestClient, inbox: Inbox
) -> None:
    request_id = client.post("/api/v1/requests", json=body()).json()["id"]
    code = inbox.last_code(KARI)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [
        client.post(f"/api/v1/requests/{request_id}/verify", json={"code": wrong}) for _ in range(6)
    ]
    assert [422] * 4 == [a.status_code for a in answers[:4]]
    locked = answers[-1]
    assert (410, "Code locked") == (locked.status_code, locked.json()["title"])
    # The right code no longer works either: a new one must be asked for.
    assert (
        410 == client.post(f"/api/v1/requests/{request_id}/verify", json={"code": code}).status_code
    )
    schema = client.get("/api/v1/openapi.json").json()
    documented = schema["paths"]["/api/v1/requests/{request_id}/verify"]["post"]["responses"]
    assert "410" in documented
