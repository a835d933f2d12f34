"""How urgent an open request is, and what it waits for: the inbox's two questions.

Art. 12(3) gives one month (extendable by two): a request past its deadline is overdue,
one with under a week left is at risk, the rest are fine. What a request waits for is
read off its state, its approval and its open manual steps, so the privacy office sees
who has to act: the subject (verification), staff (review, approval, manual steps), a
system that is down, or nobody (it is being worked on).
"""

from __future__ import annotations

from enum import StrEnum

from personvern.domain.requests.lifecycle import RequestState

#: Fewer days left than this and the request is at risk.
AT_RISK_DAYS = 7


class Urgency(StrEnum):
    """How close an open request is to its deadline."""

    OVERDUE = "overdue"
    AT_RISK = "at_risk"
    FINE = "fine"
    CLOSED = "closed"

    @property
    def at_risk(self) -> bool:
        """Whether staff should look at the request now (overdue or under a week left)."""
        return self in (Urgency.OVERDUE, Urgency.AT_RISK)


#: The urgencies an open request can have, most urgent first.
OPEN_URGENCIES = (Urgency.OVERDUE, Urgency.AT_RISK, Urgency.FINE)


class WaitingFor(StrEnum):
    """Who or what must act next for an open request to move."""

    VERIFICATION = "verification"
    REVIEW = "review"
    SYSTEM = "system"
    APPROVAL = "approval"
    MANUAL_STEPS = "manual_steps"
    RUN = "run"
    RUNNING = "running"
    NOTHING = "nothing"


def urgency(days_left: int | None) -> Urgency:
    """The urgency for ``days_left`` to the deadline in force (None: the request is closed)."""
    if days_left is None:
        return Urgency.CLOSED
    if days_left < 0:
        return Urgency.OVERDUE
    if days_left < AT_RISK_DAYS:
        return Urgency.AT_RISK
    return Urgency.FINE


def waiting_for(state: RequestState, *, awaits_approval: bool, open_tasks: int) -> WaitingFor:
    """What the request waits for, the most pressing reason first."""
    if state in (RequestState.RECEIVED, RequestState.AWAITING_VERIFICATION):
        return WaitingFor.VERIFICATION
    if state is RequestState.NEEDS_REVIEW:
        return WaitingFor.REVIEW
    if state is RequestState.WAITING_FOR_SYSTEM:
        return WaitingFor.SYSTEM
    if open_tasks and (state.is_open or state is RequestState.PARTIALLY_COMPLETED):
        return WaitingFor.MANUAL_STEPS
    if state is RequestState.VERIFIED:
        return WaitingFor.APPROVAL if awaits_approval else WaitingFor.RUN
    return WaitingFor.RUNNING if state is RequestState.IN_PROGRESS else WaitingFor.NOTHING
