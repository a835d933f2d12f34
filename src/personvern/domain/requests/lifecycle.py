"""What a data subject request is, and the states it moves through (GDPR Art. 12, 15-22).

A request is received, its identity verified (Art. 12(6): only where there is
reasonable doubt, so staff may record another verification), then run, and ends
completed, partially completed (work is left to people: a store could not be reached,
records must be restricted by hand, recipients told under Art. 19) or rejected with a
reason the subject is told (Art. 12(4)). A partially completed request becomes
completed when the last of those tasks is marked done, and in no other way. A run that
finds identities pointing at different people stops in ``needs_review``: merging two
people's data into one answer would disclose one to the other.
"""

from __future__ import annotations

from enum import StrEnum

from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind


class RequestType(StrEnum):
    """The rights of Art. 15-22 a subject can exercise through personvern."""

    ACCESS = "access"
    PORTABILITY = "portability"
    ERASURE = "erasure"
    RECTIFICATION = "rectification"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    WITHDRAW_CONSENT = "withdraw-consent"

    @property
    def changes_data(self) -> bool:
        """Whether running the request writes to the company's stores (its handler says)."""
        # Imported here: the handlers are written against this enum.
        from personvern.domain.requests.handlers import handler_for

        return handler_for(self).changes_data


class RequestState(StrEnum):
    """Where a request is in its life."""

    RECEIVED = "received"
    AWAITING_VERIFICATION = "awaiting_verification"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    #: A store was unreachable; the run is retried and the deadline keeps running.
    WAITING_FOR_SYSTEM = "waiting_for_system"
    NEEDS_REVIEW = "needs_review"
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        """Whether the request still needs work (and its deadline still matters)."""
        return self not in _FINAL

    @property
    def is_runnable(self) -> bool:
        """Whether the engine may run the request now."""
        return self in _RUNNABLE


_FINAL = frozenset(
    {RequestState.COMPLETED, RequestState.PARTIALLY_COMPLETED, RequestState.REJECTED}
)
_RUNNABLE = frozenset(
    {RequestState.VERIFIED, RequestState.IN_PROGRESS, RequestState.WAITING_FOR_SYSTEM}
)

_TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    RequestState.RECEIVED: frozenset(
        {RequestState.AWAITING_VERIFICATION, RequestState.VERIFIED, RequestState.REJECTED}
    ),
    RequestState.AWAITING_VERIFICATION: frozenset({RequestState.VERIFIED, RequestState.REJECTED}),
    RequestState.VERIFIED: frozenset(
        {
            RequestState.IN_PROGRESS,
            RequestState.NEEDS_REVIEW,
            RequestState.WAITING_FOR_SYSTEM,
            RequestState.REJECTED,
        }
    ),
    RequestState.IN_PROGRESS: frozenset(
        {
            RequestState.IN_PROGRESS,
            RequestState.WAITING_FOR_SYSTEM,
            RequestState.NEEDS_REVIEW,
            RequestState.COMPLETED,
            RequestState.PARTIALLY_COMPLETED,
        }
    ),
    RequestState.WAITING_FOR_SYSTEM: frozenset(
        {
            RequestState.IN_PROGRESS,
            RequestState.WAITING_FOR_SYSTEM,
            RequestState.NEEDS_REVIEW,
            RequestState.COMPLETED,
            RequestState.PARTIALLY_COMPLETED,
            RequestState.REJECTED,
        }
    ),
    RequestState.NEEDS_REVIEW: frozenset({RequestState.VERIFIED, RequestState.REJECTED}),
    RequestState.COMPLETED: frozenset(),
    # Only through its tasks: the last one marked done completes the request.
    RequestState.PARTIALLY_COMPLETED: frozenset({RequestState.COMPLETED}),
    RequestState.REJECTED: frozenset(),
}


class RejectionReason(StrEnum):
    """Why a request was refused (Art. 12(4)-(6)); the subject is told and may complain."""

    IDENTITY_NOT_VERIFIED = "identity_not_verified"
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"
    EXCESSIVE = "excessive"
    DUPLICATE = "duplicate"
    WITHDRAWN_BY_SUBJECT = "withdrawn_by_subject"


class VerificationMethod(StrEnum):
    """How the subject's identity was established."""

    EMAIL_CODE = "email_code"
    #: Staff checked identity themselves (at the counter, by a known phone number, ...).
    STAFF_IN_PERSON = "staff_in_person"
    STAFF_KNOWN_CONTACT = "staff_known_contact"
    STAFF_ID_DOCUMENT = "staff_id_document"
    #: Signed in through the company's identity provider.
    AUTHENTICATED_SESSION = "authenticated_session"


class InvalidTransitionError(DomainError):
    """A request was asked to move to a state it cannot reach from where it is."""

    kind = ErrorKind.CONFLICT
    title = "Request is not in a state that allows this"


def check_transition(current: RequestState, target: RequestState) -> RequestState:
    """Return ``target`` if a request in ``current`` may move there, else raise."""
    if target not in _TRANSITIONS[current]:
        allowed = ", ".join(sorted(_TRANSITIONS[current])) or "none: the request is closed"
        raise InvalidTransitionError(
            f"a request that is {current.value} cannot become {target.value}",
            hint=f"from {current.value} it can become: {allowed}",
        )
    return target
