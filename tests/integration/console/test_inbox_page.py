"""The inbox page: filters in the query string, a search by identity only in a posted form."""

from __future__ import annotations

from fastapi import FastAPI

from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.intake.service import Channel, file_request
from tests.support.console import csrf_token, signed_in


def file(app: FastAPI, request_type: str, email: str) -> str:
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        filed = file_request(
            uow.session,
            context.settings,
            context.application.datamap.require(),
            type=request_type,
            identities=[("email", email)],
            language=None,
            channel=Channel.STAFF,
            actor="test:agent",
            verification_method="staff_in_person",
            verification_note="seen in person",
        )
        return filed.request.id


def test_search_by_identity_is_posted_and_needs_personal_data_read(app: FastAPI) -> None:
    with signed_in(app, Role.PRIVACY_OFFICER) as client:
        wanted = file(app, "access", "kari.nordmann@example.no")
        other = file(app, "erasure", "ola@example.no")
        page = client.get("/staff/")
        assert wanted in page.text
        assert other in page.text
        assert 'method="post" action="/staff/"' in page.text
        filtered = client.get("/staff/?type=erasure")
        assert (other in filtered.text, wanted in filtered.text) == (True, False)
        token = csrf_token(client, "/staff/")
        found = client.post("/staff/", data={"csrf_token": token, "q": "Kari.Nordmann@Example.no"})
        assert 200 == found.status_code
        assert (wanted in found.text, other in found.text) == (True, False)
        assert "kari.nordmann" not in str(found.url)
    with signed_in(app, Role.AUDITOR) as client:
        token = csrf_token(client, "/staff/")
        blind = client.post("/staff/", data={"csrf_token": token, "q": "kari.nordmann@example.no"})
        assert 200 == blind.status_code
        assert wanted not in blind.text, "an auditor may not look people up by identity"
