"""Extending the deadline (Art. 12(3)): once, within the first month, with the reasons mailed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from personvern.domain.datamap import DataMap
from personvern.domain.roles import Role
from personvern.intake.extension import ExtensionRefusedError, extend_deadline
from personvern.intake.service import file_request
from personvern.settings import Settings
from tests.integration.intake.conftest import TokenFactory, bearer
from tests.integration.intake.smtp import Inbox, text_of

KARI = "kari.nordmann@example.no"
RECEIVED = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def _staff_request(session: Session, settings: Settings, datamap: DataMap) -> str:
    filed = file_request(
        session,
        settings,
        datamap,
        type="access",
        identities=[("email", KARI)],
        language="nb",
        channel="staff",
        actor="agent",
        verification_method="staff_in_person",
        verification_note="passport checked",
        now=RECEIVED,
    )
    session.commit()
    return filed.request.id


def test_an_extension_moves_the_deadline_two_months_and_mails_the_reasons(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    request_id = _staff_request(sqlite_session, settings, datamap)
    request = extend_deadline(
        sqlite_session,
        settings,
        datamap,
        request_id,
        "Vi henter opplysninger fra elleve systemer.",
        actor="dpo",
        now=RECEIVED + timedelta(days=10),
    )
    # Received 31 January 2026: one month is 28 February (a Saturday, so Monday 2
    # March); three months is 30 April 2026 (a Thursday).
    assert date(2026, 3, 2) == request.deadline
    assert date(2026, 4, 30) == request.extended_deadline
    assert "Vi henter opplysninger fra elleve systemer." == request.extension_reason
    mail = inbox.to(KARI)[-1]
    assert "Vi henter opplysninger fra elleve systemer." in text_of(mail)
    assert "2026-04-30" in text_of(mail)
    assert "Datatilsynet" in text_of(mail)


def test_an_extension_after_the_first_month_is_refused(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    request_id = _staff_request(sqlite_session, settings, datamap)
    with pytest.raises(ExtensionRefusedError, match="too late"):
        extend_deadline(
            sqlite_session,
            settings,
            datamap,
            request_id,
            "late",
            actor="dpo",
            now=datetime(2026, 3, 3, tzinfo=UTC),
        )
    assert [] == inbox.to(KARI)


def test_a_second_extension_is_refused(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    request_id = _staff_request(sqlite_session, settings, datamap)
    now = RECEIVED + timedelta(days=3)
    extend_deadline(sqlite_session, settings, datamap, request_id, "complex", actor="dpo", now=now)
    with pytest.raises(ExtensionRefusedError, match="already extended"):
        extend_deadline(
            sqlite_session, settings, datamap, request_id, "again", actor="dpo", now=now
        )


def test_the_api_extends_and_shows_the_new_deadline(
    client: TestClient, inbox: Inbox, make_token: TokenFactory
) -> None:
    officer = bearer(make_token(Role.PRIVACY_OFFICER))
    filed = client.post(
        "/api/v1/requests",
        headers=officer,
        json={
            "type": "erasure",
            "identities": [{"kind": "email", "value": KARI}],
            "verification_method": "staff_known_contact",
            "verification_note": "called back",
        },
    ).json()
    empty = client.post(
        f"/api/v1/requests/{filed['id']}/extend", headers=officer, json={"reason": ""}
    )
    assert 422 == empty.status_code
    extended = client.post(
        f"/api/v1/requests/{filed['id']}/extend",
        headers=officer,
        json={"reason": "Many systems to search."},
    )
    assert 200 == extended.status_code, extended.text
    assert extended.json()["extended_deadline"] is not None
    assert "Many systems to search." in text_of(inbox.to(KARI)[-1])
    auditor = client.post(
        f"/api/v1/requests/{filed['id']}/extend",
        headers=bearer(make_token(Role.AUDITOR)),
        json={"reason": "x"},
    )
    assert 403 == auditor.status_code


class _DownMailer:
    """A mail server that refuses everything."""

    def send(self, to: str, subject: str, body_text: str) -> None:
        """Refuse."""
        from personvern.mail import MailDeliveryError

        raise MailDeliveryError("the e-mail could not be sent")


def test_an_extension_whose_reasons_cannot_be_mailed_is_taken_back(
    sqlite_session: Session, settings: Settings, datamap: DataMap
) -> None:
    from personvern.mail import MailDeliveryError
    from personvern.store.requests import RequestRepository

    request_id = _staff_request(sqlite_session, settings, datamap)
    with pytest.raises(MailDeliveryError):
        extend_deadline(
            sqlite_session,
            settings,
            datamap,
            request_id,
            "Vi henter opplysninger fra elleve systemer.",
            actor="dpo",
            now=RECEIVED + timedelta(days=10),
            mailer=_DownMailer(),
        )
    repository = RequestRepository(sqlite_session)
    request = repository.get(request_id)
    assert (None, None) == (request.extended_deadline, request.extension_reason)
    assert "extension withdrawn: the reasons could not be mailed" == (
        repository.events(request_id)[-1].message
    )
