"""The intake use cases against a real store and a real SMTP server, with an injected clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.datamap import DataMap
from personvern.domain.requests.identity import InvalidIdentityError
from personvern.domain.requests.lifecycle import RequestState
from personvern.errors import ErrorKind, PersonvernError
from personvern.intake import Channel, file_request, reject, resend_code, verify
from personvern.intake.errors import (
    CodeExpiredError,
    CodeLockedError,
    InvalidRequestError,
    NotAwaitingVerificationError,
    RateLimitedError,
    StaffOnlyError,
    VerificationUnavailableError,
    WrongCodeError,
)
from personvern.mail import MailDeliveryError
from personvern.settings import Settings
from personvern.store.models import VerificationChallenge
from personvern.store.requests import RequestRepository
from tests.integration.intake.conftest import EMPTY, make_settings, row_counts
from tests.integration.intake.smtp import Inbox, closed_port, code_in, text_of

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
KARI = "kari.nordmann@example.no"


def public(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    *,
    identities: list[tuple[str, str]] | None = None,
    request_type: str = "access",
    now: datetime = T0,
    client_ip: str | None = "198.51.100.7",
    **extra: Any,
) -> Any:
    """File a request as an anonymous subject would through the API."""
    return file_request(
        session,
        settings,
        datamap,
        type=request_type,
        identities=identities or [("email", KARI)],
        language=extra.pop("language", "nb"),
        channel=extra.pop("channel", Channel.PUBLIC),
        actor=extra.pop("actor", "subject"),
        client_ip=client_ip,
        now=now,
        **extra,
    )


def wrong(code: str) -> str:
    """A six-digit code that is not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_public_request_is_verified_by_the_code_in_the_mail(
    session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    filed = public(session, settings, datamap, identities=[("email", "Kari.Nordmann@Example.no")])
    session.commit()
    assert (True, "awaiting_verification") == (filed.challenge_sent, filed.request.state)
    assert date(2026, 4, 10) == filed.request.deadline
    [mail] = inbox.to(KARI)
    assert "Bekreft forespørselen din om innsyn" == mail["Subject"]
    assert filed.request.id in text_of(mail)

    verified = verify(session, settings, filed.request.id, inbox.last_code(KARI), now=T0)
    session.commit()
    assert ("verified", "email_code", T0) == (
        verified.state,
        verified.verification_method,
        verified.verified_at,
    )
    events = [(e.state, e.message) for e in RequestRepository(session).events(verified.id)]
    assert [
        ("received", "received through public"),
        ("awaiting_verification", "waiting for the e-mail code"),
        ("awaiting_verification", "code sent by e-mail"),
        ("verified", "identity verified: email_code"),
    ] == events


def test_the_code_and_the_address_are_stored_only_as_keyed_hashes(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    public(sqlite_session, settings, datamap)
    sqlite_session.commit()
    code = inbox.last_code(KARI)
    dump = " ".join(
        str(row)
        for table in ("verification_challenges", "intake_attempts", "request_events")
        for row in sqlite_session.execute(sa.text(f"SELECT * FROM {table}")).all()
    )
    assert code not in dump
    assert KARI not in dump
    assert "198.51.100.7" not in dump


def test_five_wrong_codes_lock_the_code_until_a_new_one_is_sent(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    request_id = public(sqlite_session, settings, datamap).request.id
    sqlite_session.commit()
    code = inbox.last_code(KARI)
    messages = []
    for _ in range(5):
        with pytest.raises(WrongCodeError) as caught:
            verify(sqlite_session, settings, request_id, wrong(code), now=T0)
        # The caller rolls back on an error; the attempt must have been kept regardless.
        sqlite_session.rollback()
        messages.append(caught.value.message)
    assert "the code is wrong; 4 attempts left" == messages[0]
    assert "the code is wrong; 1 attempt left" == messages[3]
    assert messages[4].endswith("that was the last attempt for this code")
    with pytest.raises(CodeLockedError):
        verify(sqlite_session, settings, request_id, code, now=T0)
    sqlite_session.rollback()
    assert [5] == list(sqlite_session.scalars(sa.select(VerificationChallenge.attempts)))

    resend_code(sqlite_session, settings, datamap, request_id, now=T0 + timedelta(minutes=1))
    sqlite_session.commit()
    new_code = inbox.last_code(KARI)
    if new_code != code:  # one in a million they coincide; then the old one is the new one
        with pytest.raises(WrongCodeError):
            verify(sqlite_session, settings, request_id, code, now=T0 + timedelta(minutes=2))
        sqlite_session.rollback()
    verified = verify(sqlite_session, settings, request_id, new_code, now=T0 + timedelta(minutes=2))
    assert "verified" == verified.state


def test_a_code_expires_after_ten_minutes(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    early = public(sqlite_session, settings, datamap, request_type="access").request.id
    late = public(sqlite_session, settings, datamap, request_type="erasure").request.id
    sqlite_session.commit()
    early_code, late_code = (code_in(m) for m in inbox.to(KARI))
    just_in_time = T0 + timedelta(minutes=9, seconds=59)
    assert "verified" == verify(sqlite_session, settings, early, early_code, now=just_in_time).state
    with pytest.raises(CodeExpiredError) as caught:
        verify(sqlite_session, settings, late, late_code, now=T0 + timedelta(minutes=10))
    assert "the code has expired: codes work for 10 minutes" == caught.value.message


def test_codes_per_address_are_limited_but_filing_is_not(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    attacker = "198.51.100.66"
    types = ["access", "portability", "erasure", "restriction", "objection"]
    for minute, request_type in enumerate(types):
        public(
            sqlite_session,
            settings,
            datamap,
            request_type=request_type,
            now=T0 + timedelta(minutes=minute),
            client_ip=attacker,
        )
    sqlite_session.commit()
    # Someone filed five times for Kari's address from their network: a sixth from there
    # is registered, but its code waits until that network's share frees.
    held = public(
        sqlite_session, settings, datamap, now=T0 + timedelta(minutes=5), client_ip=attacker
    )
    sqlite_session.commit()
    assert (False, timedelta(minutes=55), "awaiting_verification", date(2026, 4, 10)) == (
        held.challenge_sent,
        held.code_wait,
        held.request.state,
        held.request.deadline,
    )
    assert 5 == len(inbox.to(KARI))
    with pytest.raises(RateLimitedError) as caught:
        resend_code(
            sqlite_session,
            settings,
            datamap,
            held.request.id,
            client_ip=attacker,
            now=T0 + timedelta(minutes=6),
        )
    assert (
        ErrorKind.TOO_MANY,
        54 * 60,
        "too many codes have been sent to this e-mail address",
    ) == (
        caught.value.kind,
        caught.value.retry_after,
        caught.value.message,
    )
    assert "try again in 54 minutes" == caught.value.hint
    sqlite_session.rollback()
    # Kari, from her own network, is not locked out by what the attacker did.
    own = public(
        sqlite_session, settings, datamap, now=T0 + timedelta(minutes=7), client_ip="192.0.2.9"
    )
    sqlite_session.commit()
    assert (True, 6) == (own.challenge_sent, len(inbox.to(KARI)))
    verify(
        sqlite_session,
        settings,
        own.request.id,
        inbox.last_code(KARI),
        now=T0 + timedelta(minutes=8),
    )
    assert "verified" == own.request.state


def test_codes_per_address_are_limited_per_day_across_networks(
    sqlite_session: Session, tmp_path: Path, datamap: DataMap, inbox: Inbox
) -> None:
    settings = make_settings(tmp_path / "home", inbox, intake_codes_per_address_daily=3)
    for n in range(3):
        assert public(
            sqlite_session, settings, datamap, client_ip=f"203.0.113.{n}", now=T0
        ).challenge_sent
    held = public(sqlite_session, settings, datamap, client_ip="203.0.113.99", now=T0)
    assert (False, timedelta(days=1)) == (held.challenge_sent, held.code_wait)
    assert 3 == len(inbox.to(KARI))


def test_codes_per_client_ip_are_limited(
    sqlite_session: Session, tmp_path: Path, datamap: DataMap, inbox: Inbox
) -> None:
    settings = make_settings(tmp_path / "home", inbox, intake_codes_per_client=3)
    for n in range(3):
        public(sqlite_session, settings, datamap, identities=[("email", f"p{n}@example.no")])
    with pytest.raises(RateLimitedError) as caught:
        public(sqlite_session, settings, datamap, identities=[("email", "p3@example.no")])
    assert "too many requests have been filed from your network" == caught.value.message
    assert 3600 == caught.value.retry_after
    other_network = public(
        sqlite_session,
        settings,
        datamap,
        identities=[("email", "p3@example.no")],
        client_ip="203.0.113.1",
    )
    assert other_network.challenge_sent


def test_a_public_duplicate_closes_when_its_code_is_entered_and_links_to_the_proven_one(
    session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    identities = [("email", KARI), ("phone_number", "912 34 567")]
    original = public(session, settings, datamap, identities=identities).request
    verify(session, settings, original.id, inbox.last_code(KARI), now=T0)
    again = public(
        session, settings, datamap, identities=identities[::-1], now=T0 + timedelta(minutes=1)
    )
    session.commit()
    # To the anonymous caller the second filing looks like any other.
    assert (True, "awaiting_verification", None) == (
        again.challenge_sent,
        again.request.state,
        again.request.linked_request_id,
    )

    duplicate = verify(session, settings, again.request.id, inbox.last_code(KARI), now=T0)
    session.commit()
    assert ("rejected", "duplicate", original.id) == (
        duplicate.state,
        duplicate.rejection_reason,
        duplicate.linked_request_id,
    )
    repository = RequestRepository(session)
    assert "the subject asked again" in repository.events(original.id)[-1].message


def test_an_unverified_request_never_inherits_a_later_requests_proof(
    session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    # The attack: someone files first for Kari's address and cannot read her mail; when
    # Kari files and proves the address, hers is the request that runs, not theirs.
    attacker = public(session, settings, datamap, client_ip="203.0.113.66").request
    session.commit()
    victim = public(session, settings, datamap, now=T0 + timedelta(minutes=1)).request
    session.commit()
    verified = verify(session, settings, victim.id, inbox.last_code(KARI), now=T0)
    session.commit()
    repository = RequestRepository(session)
    assert ("verified", None, "awaiting_verification", None) == (
        verified.state,
        verified.linked_request_id,
        repository.get(attacker.id).state,
        repository.get(attacker.id).verified_at,
    )
    # If the earlier request is verified later after all, it is the duplicate.
    first_code = inbox.to(KARI)[0]
    late = verify(session, settings, attacker.id, code_in(first_code), now=T0)
    assert ("rejected", "duplicate", victim.id) == (
        late.state,
        late.rejection_reason,
        late.linked_request_id,
    )


def test_a_staff_duplicate_of_a_proven_request_closes_at_once(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    original = public(sqlite_session, settings, datamap).request
    verify(sqlite_session, settings, original.id, inbox.last_code(KARI), now=T0)
    inbox.clear()
    duplicate = public(
        sqlite_session,
        settings,
        datamap,
        channel=Channel.STAFF,
        actor="api-token:1",
        verification_method="staff_in_person",
        verification_note="passport checked at the Oslo office",
    )
    assert (False, "rejected", "duplicate", original.id) == (
        duplicate.challenge_sent,
        duplicate.request.state,
        duplicate.request.rejection_reason,
        duplicate.request.linked_request_id,
    )
    assert ("verified", "email_code") == (original.state, original.verification_method)
    assert [] == inbox.messages


def test_staff_verifying_a_subject_does_not_verify_someone_elses_earlier_claim(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    unproven = public(sqlite_session, settings, datamap).request
    staff = public(
        sqlite_session,
        settings,
        datamap,
        channel=Channel.STAFF,
        actor="api-token:1",
        verification_method="staff_in_person",
        verification_note="passport checked at the Oslo office",
    ).request
    assert ("verified", None, "awaiting_verification", None) == (
        staff.state,
        staff.linked_request_id,
        unproven.state,
        unproven.verified_at,
    )


def test_staff_record_how_they_verified_and_no_code_is_sent(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    filed = public(
        sqlite_session,
        settings,
        datamap,
        identities=[("customer_id", "C-10001")],
        channel=Channel.CLI,
        actor="cli:agent",
        verification_method="staff_id_document",
        verification_note="driving licence checked",
    )
    request = filed.request
    assert (False, "verified", "staff_id_document", "driving licence checked", "cli:agent") == (
        filed.challenge_sent,
        request.state,
        request.verification_method,
        request.verification_note,
        request.created_by,
    )
    assert [] == inbox.messages


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            {"identities": [("email", "kari@")]},
            InvalidIdentityError,
            "that is not an e-mail address",
        ),
        (
            {"identities": [("phone_number", "12")]},
            InvalidIdentityError,
            "that is not a valid phone number",
        ),
        (
            {"identities": [("shoe_size", "42")]},
            InvalidIdentityError,
            "unknown identity type 'shoe_size'",
        ),
        ({"request_type": "deletion"}, InvalidRequestError, "unknown request type 'deletion'"),
        ({"language": "de"}, InvalidRequestError, "we cannot answer in the language 'de'"),
        (
            {"identities": [("customer_id", "C-1")]},
            InvalidRequestError,
            "we confirm requests with a code sent by e-mail, and no e-mail address was given",
        ),
        (
            {"request_type": "rectification"},
            InvalidRequestError,
            "a rectification must say what to correct",
        ),
        (
            {"request_type": "rectification", "details": {"corrections": {"shoe.size": "44"}}},
            InvalidRequestError,
            "we hold no data called 'shoe.size' that could be corrected",
        ),
        (
            {"request_type": "rectification", "details": {"corrections": {"user.name": ""}}},
            InvalidRequestError,
            "the correction of 'user.name' needs the new value as text",
        ),
        (
            {"request_type": "objection", "details": {"purposes": ["world_domination"]}},
            InvalidRequestError,
            "'world_domination' is not one of the purposes in the privacy notice",
        ),
        (
            {"details": {"purposes": ["site_security"]}},
            InvalidRequestError,
            "a access request does not take 'purposes'",
        ),
        (
            {"verification_method": "staff_in_person", "verification_note": "trust me"},
            StaffOnlyError,
            "only staff may record how identity was verified",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_stored(
    sqlite_session: Session,
    settings: Settings,
    datamap: DataMap,
    inbox: Inbox,
    changes: dict[str, Any],
    error: type[PersonvernError],
    message: str,
) -> None:
    with pytest.raises(error) as caught:
        public(sqlite_session, settings, datamap, **changes)
    assert message == caught.value.message
    assert caught.value.kind in {ErrorKind.FORBIDDEN, ErrorKind.INVALID}
    assert EMPTY == row_counts(sqlite_session)
    assert [] == inbox.messages


def test_a_valid_rectification_and_objection_keep_their_cleaned_details(
    sqlite_session: Session, settings: Settings, datamap: DataMap
) -> None:
    rectification = public(
        sqlite_session,
        settings,
        datamap,
        request_type="rectification",
        details={"corrections": {"user.contact.address": "  Storgata 1, 0155 Oslo "}},
    ).request
    objection = public(
        sqlite_session,
        settings,
        datamap,
        request_type="objection",
        details={"purposes": ["marketing_newsletter", "marketing_newsletter"]},
    ).request
    assert {
        "corrections": {"user.contact.address": "Storgata 1, 0155 Oslo"}
    } == rectification.details
    assert {"purposes": ["marketing_newsletter"]} == objection.details


def test_when_the_mail_server_is_down_nothing_is_stored(
    sqlite_session: Session, tmp_path: Path, datamap: DataMap
) -> None:
    settings = make_settings(
        tmp_path / "home", None, smtp_host="127.0.0.1", smtp_port=closed_port()
    )
    with pytest.raises(MailDeliveryError) as caught:
        public(sqlite_session, settings, datamap)
    assert ErrorKind.UNAVAILABLE is caught.value.kind
    sqlite_session.rollback()  # what the API and CLI sessions do with an error
    assert EMPTY == row_counts(sqlite_session)


def test_without_a_mail_server_a_code_cannot_be_sent(
    sqlite_session: Session, tmp_path: Path, datamap: DataMap
) -> None:
    settings = make_settings(tmp_path / "home", None)
    with pytest.raises(VerificationUnavailableError) as caught:
        public(sqlite_session, settings, datamap)
    assert (ErrorKind.UNAVAILABLE, "e-mail verification is not configured") == (
        caught.value.kind,
        caught.value.message,
    )
    assert EMPTY == row_counts(sqlite_session)


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (datetime(2026, 1, 31, 12, tzinfo=UTC), date(2026, 3, 2)),  # 28 Feb is a Saturday
        (datetime(2026, 4, 17, 12, tzinfo=UTC), date(2026, 5, 18)),  # 17 May is a Sunday
        (datetime(2026, 3, 2, 12, tzinfo=UTC), date(2026, 4, 7)),  # Easter
    ],
)
def test_the_deadline_follows_the_controller_countrys_calendar(
    sqlite_session: Session,
    settings: Settings,
    datamap: DataMap,
    received: datetime,
    deadline: date,
) -> None:
    filed = public(
        sqlite_session,
        settings,
        datamap,
        channel=Channel.STAFF,
        verification_method="staff_known_contact",
        verification_note="called from the number on file",
        now=received,
    )
    assert deadline == filed.request.deadline


def test_a_rejected_request_takes_no_code(
    sqlite_session: Session, settings: Settings, datamap: DataMap, inbox: Inbox
) -> None:
    request_id = public(sqlite_session, settings, datamap).request.id
    rejected = reject(sqlite_session, request_id, "withdrawn_by_subject", actor="api-token:1")
    assert (RequestState.REJECTED.value, "withdrawn_by_subject") == (
        rejected.state,
        rejected.rejection_reason,
    )
    assert rejected.completed_at is not None
    with pytest.raises(NotAwaitingVerificationError):
        verify(sqlite_session, settings, request_id, inbox.last_code(KARI))


def test_wrong_codes_per_client_ip_are_limited(
    sqlite_session: Session, tmp_path: Path, datamap: DataMap, inbox: Inbox
) -> None:
    settings = make_settings(tmp_path / "home", inbox, intake_codes_per_client=2)
    first = public(sqlite_session, settings, datamap).request.id
    second = public(
        sqlite_session, settings, datamap, client_ip="203.0.113.1", request_type="erasure"
    ).request.id
    sqlite_session.commit()
    for request_id in (first, second):
        with pytest.raises(WrongCodeError):
            verify(sqlite_session, settings, request_id, "abcdef", client_ip="192.0.2.66", now=T0)
        sqlite_session.rollback()
    with pytest.raises(RateLimitedError) as caught:
        verify(sqlite_session, settings, first, "abcdef", client_ip="192.0.2.66", now=T0)
    assert "too many codes were entered from your network" == caught.value.message


def test_staff_filings_are_not_counted_per_client_ip(
    sqlite_session: Session, tmp_path: Path, datamap: DataMap, inbox: Inbox
) -> None:
    settings = make_settings(tmp_path / "home", inbox, intake_codes_per_client=1)
    for n in range(3):
        filed = public(
            sqlite_session,
            settings,
            datamap,
            identities=[("email", f"customer{n}@example.no")],
            channel=Channel.STAFF,
            actor="api-token:1",
            client_ip="192.0.2.1",
        )
        assert filed.challenge_sent
