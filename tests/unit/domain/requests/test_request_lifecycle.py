"""The request's state machine: each move is a method, and an illegal one is refused."""

from __future__ import annotations

import pytest

from personvern.domain.requests.lifecycle import (
    InvalidTransitionError,
    RequestLifecycle,
)
from personvern.domain.requests.lifecycle import RequestState as S


def test_a_request_goes_from_received_to_completed_through_its_moves() -> None:
    request = RequestLifecycle(S.RECEIVED)

    assert S.AWAITING_VERIFICATION == request.await_verification()
    assert S.VERIFIED == request.verify()
    assert S.IN_PROGRESS == request.start_run()
    assert S.WAITING_FOR_SYSTEM == request.wait_for("crm")
    assert S.IN_PROGRESS == request.start_run()
    assert S.PARTIALLY_COMPLETED == request.complete(open_tasks=2)
    assert S.COMPLETED == request.finish_tasks()
    assert S.COMPLETED == request.state


def test_a_run_that_died_in_progress_may_start_again() -> None:
    assert S.IN_PROGRESS == RequestLifecycle(S.IN_PROGRESS).start_run()


def test_a_review_stops_the_run_and_its_resolution_lets_it_run_again() -> None:
    request = RequestLifecycle(S.IN_PROGRESS)

    assert S.NEEDS_REVIEW == request.stop_for_review()
    assert S.VERIFIED == request.resolve_review()
    assert S.IN_PROGRESS == request.start_run()


@pytest.mark.parametrize(
    ("state", "move"),
    [
        (S.RECEIVED, RequestLifecycle.start_run),
        (S.AWAITING_VERIFICATION, RequestLifecycle.start_run),
        (S.NEEDS_REVIEW, RequestLifecycle.start_run),
        (S.COMPLETED, RequestLifecycle.start_run),
        (S.REJECTED, RequestLifecycle.verify),
        (S.COMPLETED, RequestLifecycle.reject),
        (S.IN_PROGRESS, RequestLifecycle.reject),
        (S.VERIFIED, RequestLifecycle.resolve_review),
        (S.COMPLETED, RequestLifecycle.finish_tasks),
        (S.IN_PROGRESS, RequestLifecycle.finish_tasks),
        (S.RECEIVED, RequestLifecycle.stop_for_review),
    ],
)
def test_an_illegal_move_is_refused_and_changes_nothing(state: S, move: object) -> None:
    request = RequestLifecycle(state)

    with pytest.raises(InvalidTransitionError) as refused:
        move(request)  # type: ignore[operator]
    assert state == request.state
    assert refused.value.hint


def test_only_a_request_being_run_waits_for_a_system() -> None:
    with pytest.raises(InvalidTransitionError, match="cannot wait for crm"):
        RequestLifecycle(S.NEEDS_REVIEW).wait_for("crm")


def test_a_run_ends_partially_completed_while_tasks_are_open() -> None:
    assert S.COMPLETED == RequestLifecycle(S.IN_PROGRESS).complete(open_tasks=0)
    assert S.PARTIALLY_COMPLETED == RequestLifecycle(S.WAITING_FOR_SYSTEM).complete(1)
