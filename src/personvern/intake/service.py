"""Filing, verifying and rejecting data subject requests: the use cases behind the API and CLI.

Everything a caller gives is checked before anything is written, so bad input leaves
no trace. Functions work in the caller's session; the caller commits (the API's
session dependency and the CLI's unit of work do, and roll back on an error).

Duplicates: a request of the same type for the same subject (the same identities)
while an earlier one whose identity was *proven* is still open is closed as a
duplicate of that one (rejected, reason ``duplicate``, linked by
``linked_request_id``) and never run. The link is made when the later request is
verified, never before, and only to a verified request: an unverified request never
inherits another's proof, so someone who files first for a stranger's address gains
nothing when the stranger later proves it. Through the public channel a duplicate is
verified like any new request, so the answer to an anonymous caller does not tell
whether someone already asked.

Limits: codes per address protect an inbox from being flooded. They limit the codes
sent, never the filing: a request filed while its address has had its share of codes
is registered (its deadline runs) and its code can be asked for again once a slot
frees, so nobody can lock a person out of filing. Filings, code requests and guesses
per client network limit one client.

Mail: the code is sent last, after the filing is committed (a transaction on the
embedded store holds its only write lock, which must not wait for a mail server). If
the mail server fails, what was stored is deleted again and MailDeliveryError (503)
raised: no request is kept, and the subject simply files again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from sqlalchemy.orm import Session

from personvern.domain.datamap import DataMap
from personvern.domain.requests.deadline import CountryHolidays, RequestClock
from personvern.domain.requests.identity import SubjectIdentity, parse_identities
from personvern.domain.requests.lifecycle import (
    RejectionReason,
    RequestState,
    RequestType,
    VerificationMethod,
)
from personvern.domain.text_input import refuse_control_characters
from personvern.intake import rate_limit, verification
from personvern.intake.details import validate_details
from personvern.intake.errors import (
    InvalidRequestError,
    NotAwaitingVerificationError,
    RateLimitedError,
    RequestNotFoundError,
    StaffOnlyError,
    VerificationUnavailableError,
)
from personvern.mail import MailDeliveryError, Mailer, mailer_from_settings
from personvern.security.subject_hash import (
    identity_hash,
    identity_hash_pairs,
    keyed_hash,
    subject_key,
)
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.errors import RecordNotFoundError
from personvern.store.models import DataSubjectRequest
from personvern.store.requests import RequestRepository

#: The actor recorded for what a subject does through the public API.
SUBJECT_ACTOR = "subject"
MAX_NOTE = 2000
#: How staff may say they verified identity; e-mail codes are verified by personvern itself.
STAFF_METHODS = frozenset(
    {
        VerificationMethod.STAFF_IN_PERSON,
        VerificationMethod.STAFF_KNOWN_CONTACT,
        VerificationMethod.STAFF_ID_DOCUMENT,
    }
)


class Channel(StrEnum):
    """Where a request came in."""

    #: The public API: an anonymous caller, who must prove the address by code.
    PUBLIC = "public"
    #: The API with a staff token (requests:write).
    STAFF = "staff"
    #: The command line, run by staff with access to the store.
    CLI = "cli"

    @property
    def is_staff(self) -> bool:
        """Whether the caller is an authenticated member of staff."""
        return self is not Channel.PUBLIC


class FiledRequest(NamedTuple):
    """What filing produced: the stored request and whether a code was e-mailed."""

    request: DataSubjectRequest
    challenge_sent: bool
    #: Set when a code was due but held back by the per-address limit: the wait for one.
    code_wait: timedelta | None = None


class _Weekends:
    """A calendar with no public holidays, for countries the holidays package lacks."""

    def is_public_holiday(self, day: date) -> bool:
        return False


def file_request(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    *,
    type: str,
    identities: Iterable[tuple[str, str]],
    language: str | None,
    channel: Channel | str,
    actor: str,
    client_ip: str | None = None,
    details: Mapping[str, Any] | None = None,
    verification_method: VerificationMethod | str | None = None,
    verification_note: str | None = None,
    mailer: Mailer | None = None,
    now: datetime | None = None,
) -> FiledRequest:
    """Check and store a new request; e-mail a code unless staff verified the subject."""
    now = now or utcnow()
    request_type = parse_request_type(type)
    channel = _channel(channel)
    lang = _language(datamap, language)
    country = datamap.organization.controllers[0].country
    parsed = parse_identities(identities, country=country)
    clean_details = validate_details(request_type, details, datamap)
    method, note = _staff_verification(channel, verification_method, verification_note)
    secret = settings.secret()
    repository = RequestRepository(session)
    key = subject_key(secret, parsed)
    address = _email(parsed) if method is None else None
    code_mailer: Mailer | None = None
    original = repository.find_verified_original(key, request_type) if channel.is_staff else None
    if method is None and original is None:
        if address is None:
            raise InvalidRequestError(
                "we confirm requests with a code sent by e-mail, and no e-mail address was given",
                hint="add your e-mail address, e.g. email=name@example.com",
            )
        code_mailer = _mailer(settings, mailer)
    # Staff file from a few office addresses all day; only anonymous callers are counted
    # per client (codes per address still limit what any one inbox receives).
    counted: list[int] = []
    if not channel.is_staff and client_ip:
        counted = rate_limit.take(
            session, _client_limits(settings, secret, client_ip), _window(settings), now
        )

    request = repository.add(
        type=request_type,
        identities=[{"kind": i.kind.value, "value": i.value} for i in parsed],
        identity_hashes=identity_hash_pairs(secret, parsed),
        subject_key=key,
        language=lang,
        requested_language=lang if (language or "").strip() else None,
        channel=channel.value,
        created_by=actor,
        deadline=initial_deadline(country, now.date()),
        received_at=now,
        details=clean_details,
    )
    if method is not None:
        _verify(repository, request, method, note, actor, now)
        _close_if_duplicate(repository, request, actor, now)
        return FiledRequest(request, challenge_sent=False)
    if original is not None:
        # Staff filed again for a subject whose proven request is still open: that one
        # is answered, and staff see the link at once.
        request.linked_request_id = original.id
        _close_as_duplicate(repository, request, original, actor, now)
        return FiledRequest(request, challenge_sent=False)
    assert address is not None
    assert code_mailer is not None
    repository.transition(
        request,
        request.lifecycle.await_verification(),
        "waiting for the e-mail code",
        actor,
        at=now,
    )
    prepared = _prepare_code(session, settings, datamap, request, address, client_ip, now)
    if isinstance(prepared, timedelta):
        return FiledRequest(request, challenge_sent=False, code_wait=prepared)
    _mail_after_commit(session, code_mailer, prepared, undo=_forget_filing(request.id, counted))
    return FiledRequest(request, challenge_sent=True)


def verify(
    session: Session,
    settings: Settings,
    request_id: str,
    code: str,
    *,
    client_ip: str | None = None,
    actor: str = SUBJECT_ACTOR,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Check the e-mailed code; on success the request is verified.

    Returns the request; one whose subject already has a proven open request of the
    same type comes back closed as its duplicate, linked to it.
    """
    now = now or utcnow()
    secret = settings.secret()
    repository = RequestRepository(session)
    request = _awaiting(repository, request_id)
    if client_ip:
        # Every guess from a network counts, right or wrong, taken before the code is
        # compared: guesses spread over many requests cannot outrun it either.
        rate_limit.take(session, _guess_limits(settings, secret, client_ip), _window(settings), now)
    verification.check_code(session, secret, request, code, now)
    _verify(repository, request, VerificationMethod.EMAIL_CODE, None, actor, now)
    _close_if_duplicate(repository, request, actor, now)
    return request


def resend_code(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    request_id: str,
    *,
    client_ip: str | None = None,
    actor: str = SUBJECT_ACTOR,
    mailer: Mailer | None = None,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """E-mail a new code for a request that waits for one; the previous code stops working."""
    now = now or utcnow()
    repository = RequestRepository(session)
    request = _awaiting(repository, request_id)
    address = verification.verification_address(request)
    if address is None:  # pragma: no cover - requests awaiting a code always have an address
        raise NotAwaitingVerificationError("this request is not verified by e-mail")
    mailer = _mailer(settings, mailer)
    secret = settings.secret()
    counted: list[int] = []
    if client_ip:
        counted = rate_limit.take(
            session, _client_limits(settings, secret, client_ip), _window(settings), now
        )
    repository.add_event(request, "a new e-mail code was asked for", actor, now)
    prepared = _prepare_code(session, settings, datamap, request, address, client_ip, now)
    if isinstance(prepared, timedelta):
        # Asked for explicitly: the caller must learn when to ask again (429).
        raise RateLimitedError(
            "too many codes have been sent to this e-mail address",
            retry_after=prepared.total_seconds(),
            hint=rate_limit.wait_hint(prepared),
        )
    _mail_after_commit(session, mailer, prepared, undo=_forget_resend(request.id, counted))
    return request


def reject(
    session: Session,
    request_id: str,
    reason: RejectionReason | str,
    *,
    actor: str,
    now: datetime | None = None,
) -> DataSubjectRequest:
    """Close an open request as rejected, for a reason the subject will be told."""
    now = now or utcnow()
    parsed = _enum(RejectionReason, reason, "rejection reason")
    repository = RequestRepository(session)
    request = repository.get(request_id)
    repository.transition(
        request,
        request.lifecycle.reject(),
        f"rejected: {parsed.value}",
        actor,
        at=now,
        rejection_reason=parsed,
    )
    verification.retire_codes(session, request, now)
    return request


def parse_request_type(value: RequestType | str) -> RequestType:
    """A RequestType from user input, or InvalidRequestError listing the types."""
    return _enum(RequestType, value, "request type")


def parse_request_state(value: RequestState | str) -> RequestState:
    """A RequestState from user input, or InvalidRequestError listing the states."""
    return _enum(RequestState, value, "request state")


def initial_deadline(country: str, received_on: date) -> date:
    """One month from receipt, moved past weekends and the country's public holidays."""
    clock = RequestClock(received_on=received_on, holiday_calendar=CountryHolidays(country))
    try:
        return clock.initial_deadline
    except NotImplementedError:
        # A country the holidays package does not know: weekends still count.
        return RequestClock(received_on=received_on, holiday_calendar=_Weekends()).initial_deadline


_E = TypeVar("_E", bound=StrEnum)


def _enum(kind: type[_E], value: _E | str, what: str) -> _E:
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidRequestError(
            f"unknown {what} '{value}'", hint=f"use one of {choices}"
        ) from None


def _channel(value: Channel | str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise InvalidRequestError(f"unknown channel '{value}'") from None


def _language(datamap: DataMap, language: str | None) -> str:
    languages = datamap.organization.languages
    chosen = (language or "").strip().lower() or languages[0]
    if chosen not in languages:
        raise InvalidRequestError(
            f"we cannot answer in the language '{chosen}'",
            hint="choose one of " + ", ".join(languages),
        )
    return chosen


def _staff_verification(
    channel: Channel, method: VerificationMethod | str | None, note: str | None
) -> tuple[VerificationMethod | None, str | None]:
    if method is None or (isinstance(method, str) and not method.strip()):
        if note and note.strip():
            raise InvalidRequestError(
                "a verification note needs the verification method it explains"
            )
        return None, None
    if not channel.is_staff:
        raise StaffOnlyError(
            "only staff may record how identity was verified",
            hint="leave out the verification method; we will send you a code by e-mail",
        )
    parsed = _enum(VerificationMethod, method, "verification method")
    if parsed not in STAFF_METHODS:
        allowed = ", ".join(sorted(m.value for m in STAFF_METHODS))
        raise InvalidRequestError(
            f"staff cannot record '{parsed.value}' as how identity was verified",
            hint=f"use one of {allowed}, or leave it out to send an e-mail code",
        )
    text = refuse_control_characters((note or "").strip(), "the note", allow_newlines=True)
    if not text:
        raise InvalidRequestError(
            "say how identity was checked in a note",
            hint="e.g. 'passport checked at the Oslo office'; it is kept with the request",
        )
    if len(text) > MAX_NOTE:
        raise InvalidRequestError(f"the verification note is longer than {MAX_NOTE} characters")
    return parsed, text


def _email(identities: Iterable[SubjectIdentity]) -> str | None:
    return next((i.value for i in identities if i.kind.value == "email"), None)


def _mailer(settings: Settings, mailer: Mailer | None) -> Mailer:
    chosen = mailer or mailer_from_settings(settings)
    if chosen is None:
        raise VerificationUnavailableError(
            "e-mail verification is not configured",
            hint="contact us another way, or ask the operator to set PERSONVERN_SMTP_HOST",
        )
    return chosen


def _window(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.intake_rate_window_seconds)


def _address_limits(
    settings: Settings, secret: str, address: str, client_ip: str | None
) -> tuple[rate_limit.Limit, rate_limit.Limit]:
    """Codes to an address from one network per window, and to the address per day.

    Per network, so that someone filing for a stranger's address from their own network
    uses up only their own share, never the stranger's; per day in all, so that no number
    of networks floods an inbox.
    """
    network = rate_limit.client_network(client_ip) if client_ip else "staff"
    return (
        rate_limit.Limit(
            "address",
            keyed_hash(secret, "address-network", f"{address}\x00{network}"),
            settings.intake_codes_per_address,
            "too many codes have been sent to this e-mail address",
        ),
        rate_limit.Limit(
            "address-day",
            identity_hash(secret, "email", address),
            settings.intake_codes_per_address_daily,
            "too many codes have been sent to this e-mail address today",
        ),
    )


def _client_limits(settings: Settings, secret: str, client_ip: str) -> list[rate_limit.Limit]:
    return _network_limits(
        "client", settings, secret, client_ip, "too many requests have been filed from your network"
    )


def _guess_limits(settings: Settings, secret: str, client_ip: str) -> list[rate_limit.Limit]:
    return _network_limits(
        "guess", settings, secret, client_ip, "too many codes were entered from your network"
    )


def _network_limits(
    kind: str, settings: Settings, secret: str, client_ip: str, message: str
) -> list[rate_limit.Limit]:
    """One limit per network the client is counted in (its /64, and its site's /48)."""
    return [
        rate_limit.Limit(
            kind if scale == 1 else f"{kind}-site",
            keyed_hash(secret, "client", network),
            settings.intake_codes_per_client * scale,
            message,
        )
        for network, scale in rate_limit.client_networks(client_ip)
    ]


@dataclass(frozen=True)
class _CodeMail:
    """A code mail ready to go, and what to take back if it cannot be delivered."""

    address: str
    subject: str
    body: str
    challenge_id: int
    counted: tuple[int, ...]


def _prepare_code(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    request: DataSubjectRequest,
    address: str,
    client_ip: str | None,
    now: datetime,
) -> timedelta | _CodeMail:
    """Issue a code and record it; or, if the address has had its share, the wait."""
    secret = settings.secret()
    repository = RequestRepository(session)
    network_limit, daily_limit = _address_limits(settings, secret, address, client_ip)
    taken = rate_limit.try_take(session, network_limit, _window(settings), now)
    if not isinstance(taken, timedelta):
        daily = rate_limit.try_take(session, daily_limit, timedelta(days=1), now)
        if isinstance(daily, timedelta):
            rate_limit.forget(session, taken)
            taken = daily
        else:
            taken += daily
    if isinstance(taken, timedelta):
        repository.add_event(
            request,
            "no code sent: this address has had its share of codes for now "
            f"({rate_limit.wait_hint(taken)})",
            "personvern",
            now,
        )
        return taken
    issued = verification.issue_code(session, secret, request, address, now)
    repository.add_event(request, "code sent by e-mail", "personvern", now)
    subject, body = verification.code_message(
        request.language,
        datamap.organization.name,
        RequestType(request.type),
        request.id,
        issued.code,
    )
    return _CodeMail(address, subject, body, issued.challenge.id, tuple(taken))


def _mail_after_commit(
    session: Session,
    mailer: Mailer,
    mail: _CodeMail,
    *,
    undo: Callable[[Session, _CodeMail], None],
) -> None:
    """Commit, then mail; if the mail cannot go, undo what was stored and raise.

    The mail goes after the commit, never inside the transaction: on the embedded store
    a transaction holds the one write lock, and a mail server's second of latency would
    then queue every other filing behind it (50 concurrent clients timed out).
    """
    session.commit()
    try:
        mailer.send(mail.address, mail.subject, mail.body)
    except MailDeliveryError:
        session.rollback()
        undo(session, mail)
        session.commit()
        raise


def _forget_filing(request_id: str, counted: list[int]) -> Callable[[Session, _CodeMail], None]:
    """Undo a filing whose code could not be mailed: as if it never came in."""

    def undo(session: Session, mail: _CodeMail) -> None:
        rate_limit.forget(session, [*counted, *mail.counted])
        RequestRepository(session).delete_unverified(request_id)

    return undo


def _forget_resend(request_id: str, counted: list[int]) -> Callable[[Session, _CodeMail], None]:
    """Undo a new code that could not be mailed: it never works, and it is not counted."""

    def undo(session: Session, mail: _CodeMail) -> None:
        rate_limit.forget(session, [*counted, *mail.counted])
        repository = RequestRepository(session)
        request = repository.get(request_id)
        verification.retire_codes(session, request, utcnow())
        repository.add_event(request, "the new code could not be mailed", "personvern")

    return undo


def _verify(
    repository: RequestRepository,
    request: DataSubjectRequest,
    method: VerificationMethod,
    note: str | None,
    actor: str,
    now: datetime,
    *,
    via: str | None = None,
) -> None:
    request.verification_method = method.value
    request.verification_note = note
    request.verified_at = now
    message = f"identity verified: {method.value}"
    if via is not None:
        message += f" (given with the later request {via})"
    repository.transition(request, request.lifecycle.verify(), message, actor, at=now)


def _close_if_duplicate(
    repository: RequestRepository, request: DataSubjectRequest, actor: str, now: datetime
) -> None:
    """Close a just-verified request as a duplicate if its subject has a proven open one."""
    original = repository.find_verified_original(
        request.subject_key, RequestType(request.type), exclude=request.id
    )
    if original is not None:
        request.linked_request_id = original.id
        _close_as_duplicate(repository, request, original, actor, now)


def _close_as_duplicate(
    repository: RequestRepository,
    request: DataSubjectRequest,
    original: DataSubjectRequest,
    actor: str,
    now: datetime,
) -> None:
    repository.transition(
        request,
        request.lifecycle.reject(),
        f"duplicate of the open request {original.id}",
        actor,
        at=now,
        rejection_reason=RejectionReason.DUPLICATE,
    )
    repository.add_event(original, f"the subject asked again ({request.id})", actor, now)


def _awaiting(repository: RequestRepository, request_id: str) -> DataSubjectRequest:
    try:
        request = repository.get(request_id)
    except RecordNotFoundError:
        raise RequestNotFoundError(
            "no request with this reference", hint="check the reference in our e-mail"
        ) from None
    if request.state is not RequestState.AWAITING_VERIFICATION:
        raise NotAwaitingVerificationError(
            "this request is not waiting for a code",
            hint="it has been verified or closed already",
        )
    return request
