"""What the inbox says about an open request: how urgent, and what it waits for."""

from __future__ import annotations

import pytest

from personvern.domain.requests.lifecycle import RequestState
from personvern.domain.requests.urgency import Urgency, WaitingFor, urgency, waiting_for

S = RequestState


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(None, Urgency.CLOSED), (-1, Urgency.OVERDUE), (0, Urgency.AT_RISK), (6, Urgency.AT_RISK),
     (7, Urgency.FINE), (60, Urgency.FINE)],
)  # fmt: skip
def test_urgency_by_days_left(days_left: int | None, expected: Urgency) -> None:
    assert expected is urgency(days_left)
    assert expected.at_risk is (expected in (Urgency.OVERDUE, Urgency.AT_RISK))


@pytest.mark.parametrize(
    ("state", "awaits_approval", "open_tasks", "expected"),
    [
        (S.RECEIVED, False, 0, WaitingFor.VERIFICATION),
        (S.AWAITING_VERIFICATION, False, 0, WaitingFor.VERIFICATION),
        (S.NEEDS_REVIEW, True, 2, WaitingFor.REVIEW),
        (S.WAITING_FOR_SYSTEM, False, 1, WaitingFor.SYSTEM),
        (S.VERIFIED, True, 0, WaitingFor.APPROVAL),
        (S.VERIFIED, False, 0, WaitingFor.RUN),
        (S.IN_PROGRESS, False, 0, WaitingFor.RUNNING),
        (S.PARTIALLY_COMPLETED, False, 2, WaitingFor.MANUAL_STEPS),
        (S.PARTIALLY_COMPLETED, False, 0, WaitingFor.NOTHING),
        (S.COMPLETED, False, 0, WaitingFor.NOTHING),
        (S.REJECTED, False, 0, WaitingFor.NOTHING),
    ],
)
def test_what_a_request_waits_for(
    state: RequestState, awaits_approval: bool, open_tasks: int, expected: WaitingFor
) -> None:
    assert expected is waiting_for(state, awaits_approval=awaits_approval, open_tasks=open_tasks)
