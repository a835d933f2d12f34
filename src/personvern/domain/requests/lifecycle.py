"""What a data subject request is, and the states it moves through (GDPR Art. 12, 15-22).

A request is received, its identity verified (Art. 12(6): only where there is
reasonable doubt, so staff may record another verification), then run, and ends
completed, partially completed (work is left to people: a store could not be reached,
records must be restricted by hand, recipients told under Art. 19) or rejected with a
reason the subject is told (Art. 12(4)). A partially completed request becomes
completed when the last of those tasks is marked done, and in no other way. A run that
finds identities pointing at different people stops in ``needs_review``: merging two
people's data into one answer would disclose one to the other.

Each move is a method of :class:`RequestLifecycle`, which refuses an illegal one.
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


#: The history's entry for a run asked for and not yet begun (store.requests, engine).
RUN_REQUESTED = "run requested"


def run_under_way(state: RequestState, last_event: str | None) -> bool:
    """Whether a run of the request is queued or running, from its state and latest event."""
    return state is RequestState.IN_PROGRESS or (state.is_runnable and last_event == RUN_REQUESTED)


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


#: The history entry of a request that waits for a system: the system key is read back
#: from it by the overview (personvern.domain.requests.statistics), so keep both in step.
_WAITING_PREFIX = "waiting for "
_WAITING_SUFFIX = "; retried automatically"


def waiting_message(system: str) -> str:
    """The history entry recorded when a request starts waiting for ``system``."""
    return f"{_WAITING_PREFIX}{system}{_WAITING_SUFFIX}"


def waited_system(message: str) -> str | None:
    """The system a ``waiting_message`` names; None for any other history entry."""
    if message.startswith(_WAITING_PREFIX) and message.endswith(_WAITING_SUFFIX):
        system = message[len(_WAITING_PREFIX) : len(message) - len(_WAITING_SUFFIX)]
        return system or None
    return None


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


class RequestLifecycle:
    """A request's state machine: each move a request makes is a method, and an illegal
    move is refused (InvalidTransitionError) before anything is recorded."""

    def __init__(self, state: RequestState) -> None:
        self._state = RequestState(state)

    @property
    def state(self) -> RequestState:
        """Where the request is now."""
        return self._state

    def await_verification(self) -> RequestState:
        """Wait for the subject to prove their address with the mailed code."""
        return self.move_to(RequestState.AWAITING_VERIFICATION)

    def verify(self) -> RequestState:
        """Record the subject's identity as verified: the request may run."""
        return self.move_to(RequestState.VERIFIED)

    def start_run(self) -> RequestState:
        """Start a run, or resume one a dead worker left in progress."""
        return self.move_to(RequestState.IN_PROGRESS)

    def wait_for(self, system: str) -> RequestState:
        """Wait for ``system``, unreachable now; the run is retried and the deadline runs."""
        if not self._state.is_runnable:
            raise InvalidTransitionError(
                f"a request that is {self._state.value} cannot wait for {system}",
                hint="only a request being run waits for a system",
            )
        return self.move_to(RequestState.WAITING_FOR_SYSTEM)

    def stop_for_review(self) -> RequestState:
        """Stop the run: a person must decide something before it can go on."""
        return self.move_to(RequestState.NEEDS_REVIEW)

    def resolve_review(self) -> RequestState:
        """A person decided: the request may run again."""
        if self._state is not RequestState.NEEDS_REVIEW:
            raise InvalidTransitionError(
                f"a request that is {self._state.value} has no review to resolve",
                hint="only a request that needs review can be resolved",
            )
        return self.move_to(RequestState.VERIFIED)

    def complete(self, open_tasks: int) -> RequestState:
        """End a run: completed with nothing left to people, else partially completed."""
        if open_tasks:
            return self.move_to(RequestState.PARTIALLY_COMPLETED)
        return self.move_to(RequestState.COMPLETED)

    def finish_tasks(self) -> RequestState:
        """Complete a partially completed request: its last task was marked done."""
        if self._state is not RequestState.PARTIALLY_COMPLETED:
            raise InvalidTransitionError(
                f"a request that is {self._state.value} is not waiting for its tasks",
                hint="only a partially completed request is completed by its tasks",
            )
        return self.move_to(RequestState.COMPLETED)

    def reject(self) -> RequestState:
        """Close the request as rejected (the subject is told why)."""
        return self.move_to(RequestState.REJECTED)

    def move_to(self, target: RequestState) -> RequestState:
        """Move to ``target`` if the request may go there from where it is, else raise."""
        self._state = check_transition(self._state, RequestState(target))
        return self._state
