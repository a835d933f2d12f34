"""Purpose-bound reads and the audit trail at the API, on a real SQLite store.

Reading a request's personal data names a purpose from the data map; the subject's
restriction forbids every purpose but those based on a legal obligation; each read,
refused read and failed sign-in is in the audit trail, which auditors can page through.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.security.subject_hash import identity_hash
from personvern.store.audit_events import AuditTrail
from tests.integration.api.conftest import TokenFactory, bearer

EMAIL = "kari.nordmann@example.no"
PURPOSE = "X-Personvern-Purpose"


def _file(client: TestClient, agent: dict[str, str]) -> str:
    filed = client.post(
        "/api/v1/requests",
        headers=agent,
        json={
            "type": "access",
            "identities": [{"kind": "email", "value": EMAIL}],
            "verification_method": "staff_in_person",
            "verification_note": "passport checked at the counter",
        },
    )
    assert 201 == filed.status_code, filed.text
    request_id: str = filed.json()["id"]
    return request_id


def _events(client: TestClient, auditor: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    page = client.get("/api/v1/audit/events", headers=auditor, params=params)
    assert 200 == page.status_code, page.text
    events: list[dict[str, Any]] = page.json()["events"]
    return events


def test_reading_a_request_needs_a_declared_purpose(
    client: TestClient, make_token: TokenFactory
) -> None:
    agent = bearer(make_token(Role.AGENT))
    request_id = _file(client, agent)
    url = f"/api/v1/requests/{request_id}"

    missing = client.get(url, headers=agent)
    assert (422, "application/problem+json") == (
        missing.status_code,
        missing.headers["content-type"],
    )
    assert "legal_compliance" in missing.json()["hint"]
    unknown = client.get(url, headers=agent | {PURPOSE: "curiosity"})
    assert 422 == unknown.status_code
    assert "'curiosity' is not a purpose" in unknown.json()["detail"]

    assert 200 == client.get(url, headers=agent | {PURPOSE: "legal_compliance"}).status_code
    assert (
        200 == client.get(url, headers=agent, params={"purpose": "technical_support"}).status_code
    )


def test_a_restricted_subject_is_read_only_for_a_legal_obligation(
    app: FastAPI, client: TestClient, make_token: TokenFactory
) -> None:
    agent = bearer(make_token(Role.AGENT))
    auditor = bearer(make_token(Role.AUDITOR))
    request_id = _file(client, agent)
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        hashed = identity_hash(context.settings.secret(), "email", EMAIL)
        uow.requests.add_flag("restriction", "email", hashed, None, None)
    url = f"/api/v1/requests/{request_id}"

    refused = client.get(url, headers=agent | {PURPOSE: "contract_administration"})
    assert 403 == refused.status_code
    assert "Art. 18" in refused.json()["detail"]
    assert 200 == client.get(url, headers=agent | {PURPOSE: "legal_compliance"}).status_code

    reads = _events(client, auditor, action="personal_data.read")
    assert [("contract_administration", "denied"), ("legal_compliance", "success")] == [
        (e["purpose"], e["outcome"]) for e in reads
    ]
    assert {request_id} == {e["detail"]["request_id"] for e in reads}
    assert EMAIL not in repr(_events(client, auditor, limit=1000))


def test_failed_sign_ins_are_recorded_without_the_credential(
    client: TestClient, make_token: TokenFactory
) -> None:
    auditor = bearer(make_token(Role.AUDITOR))
    forged = "pv_" + "x" * 43
    assert 401 == client.get("/api/v1/datamap", headers=bearer(forged)).status_code
    assert 401 == client.get("/api/v1/datamap").status_code

    failed = _events(client, auditor, action="login.failed")
    assert [("api_token", "denied"), ("none", "denied")] == [
        (e["detail"]["credential"], e["outcome"]) for e in failed
    ]
    assert forged[:12] not in repr(failed)
    assert ["login.succeeded"] == [e["action"] for e in _events(client, auditor)][-1:]


def test_only_auditors_and_the_privacy_office_read_the_trail(
    app: FastAPI, client: TestClient, make_token: TokenFactory
) -> None:
    agent = bearer(make_token(Role.AGENT))
    assert 403 == client.get("/api/v1/audit/events", headers=agent).status_code
    officer = bearer(make_token(Role.PRIVACY_OFFICER))
    first = client.get("/api/v1/audit/events", headers=officer, params={"limit": 1}).json()
    assert (1, 1) == (len(first["events"]), first["next_after"])
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        verdict = AuditTrail(uow.session).verify()
    assert verdict.intact
    assert verdict.events >= 4
