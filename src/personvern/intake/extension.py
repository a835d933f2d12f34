"""Extending a request's deadline by two months (Art. 12(3)), with the reasons sent to the subject.

The extension is allowed once, for complex or numerous requests, and only if the
subject is told, with the reasons, within the first month. personvern therefore
refuses an extension after the initial deadline, and sends the reasons by e-mail in
the same transaction: if the mail cannot be sent, nothing is extended.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from personvern.domain.datamap import DataMap
from personvern.domain.errors import DomainError
from personvern.domain.requests.deadline import CountryHolidays, RequestClock
from personvern.domain.text_input import refuse_control_characters
from personvern.errors import ErrorKind
from personvern.intake.errors import InvalidRequestError
from personvern.intake.verification import verification_address
from personvern.mail import MailDeliveryError, Mailer, mailer_from_settings
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.models import DataSubjectRequest
from personvern.store.requests import RequestRepository

MAX_REASON = 2000

_MESSAGES = {
    "nb": (
        "Vi trenger mer tid til henvendelsen din",
        "Vi har mottatt henvendelsen din ({request_id}) og trenger mer tid for å besvare den.\n\n"
        "Begrunnelse: {reason}\n\n"
        "Du får svar senest {deadline}. Du kan klage til {authority} dersom du mener vi "
        "ikke behandler henvendelsen riktig.\n",
    ),
    "en": (
        "We need more time for your request",
        "We have received your request ({request_id}) and need more time to answer it.\n\n"
        "Reason: {reason}\n\n"
        "You will have our answer by {deadline} at the latest. You may complain to "
        "{authority} if you think we are not handling your request properly.\n",
    ),
}


class ExtensionRefusedError(DomainError):
    """The deadline cannot be extended (again, too late, or the request is closed)."""

    kind = ErrorKind.CONFLICT
    title = "Deadline cannot be extended"


def extend_deadline(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    request_id: str,
    reason: str,
    *,
    actor: str,
    now: datetime | None = None,
    mailer: Mailer | None = None,
) -> DataSubjectRequest:
    """Extend the request's deadline by two months and mail the subject the reasons."""
    now = now or utcnow()
    # The reason is mailed to the subject: no control or hiding characters in it.
    reason = refuse_control_characters(reason.strip(), "the reason", allow_newlines=True)
    if not reason or len(reason) > MAX_REASON:
        raise InvalidRequestError(
            f"give the reason for the extension in 1 to {MAX_REASON} characters",
            hint="the subject must be told why the request needs more time (Art. 12(3))",
        )
    repository = RequestRepository(session)
    request = repository.get(request_id)
    if not request.state.is_open:
        raise ExtensionRefusedError(f"request {request_id} is closed ({request.state})")
    if request.extended_deadline is not None:
        raise ExtensionRefusedError(
            f"request {request_id} was already extended to {request.extended_deadline}",
            hint="Art. 12(3) allows one extension of at most two further months",
        )
    country = datamap.organization.controllers[0].country
    clock = RequestClock(
        received_on=request.received_at.date(), holiday_calendar=CountryHolidays(country)
    )
    today = now.date()
    if not clock.may_extend(today):
        raise ExtensionRefusedError(
            f"the first month ended on {clock.initial_deadline}: it is too late to extend",
            hint="the reasons must reach the subject within one month of receipt",
        )
    extended = RequestClock(
        received_on=request.received_at.date(),
        holiday_calendar=CountryHolidays(country),
        extended=True,
    ).deadline
    request.extended_deadline = extended
    request.extension_reason = reason
    repository.add_event(request, f"deadline extended to {extended}", actor, at=now)
    # The complaint route of the company that answers this subject, once a run decided it.
    authority = (request.answer_profile or {}).get(
        "supervisory_authority", datamap.organization.supervisory_authority.name
    )
    # Committed before the mail goes: a transaction on the embedded store holds its one
    # write lock, which must not wait for a mail server. If the reasons cannot be mailed,
    # the extension is taken back: it counts only once the subject has been told.
    session.commit()
    try:
        _tell_the_subject(settings, request, reason, extended, str(authority), mailer)
    except MailDeliveryError:
        session.rollback()
        request = repository.get(request_id)
        request.extended_deadline = None
        request.extension_reason = None
        repository.add_event(
            request, "extension withdrawn: the reasons could not be mailed", actor, at=now
        )
        session.commit()
        raise
    return request


def _tell_the_subject(
    settings: Settings,
    request: DataSubjectRequest,
    reason: str,
    deadline: date,
    authority: str,
    mailer: Mailer | None,
) -> None:
    address = verification_address(request)
    chosen = mailer or mailer_from_settings(settings)
    if address is None or chosen is None:
        # Staff who took the request by phone or at the counter tell the subject
        # themselves; the event history records that the extension was made.
        return
    subject, body = _MESSAGES.get(request.language, _MESSAGES["en"])
    chosen.send(
        address,
        subject,
        body.format(
            request_id=request.id,
            reason=reason,
            deadline=deadline.isoformat(),
            authority=authority,
        ),
    )
