"""A request with work left to people ends partially completed, and completes with its tasks.

Before, ``partially_completed`` was a dead end: nothing could ever complete such a
request, so a restriction that found records it could not mark had to claim
``completed`` or stay unfinished forever.
"""

from __future__ import annotations

from datetime import date

import pytest

from personvern.domain.datamap import DataMap
from personvern.domain.requests.lifecycle import (
    InvalidTransitionError,
    RequestLifecycle,
    RequestState,
    RequestType,
    check_transition,
)
from personvern.domain.requests.request_plan import ManualStep, RequestPlan
from personvern.domain.requests.tasks import (
    MAX_NOTE,
    InvalidTaskNoteError,
    PlannedTask,
    TaskAlreadyDoneError,
    TaskKind,
    check_may_mark_done,
    open_tasks_text,
    planned_tasks,
    task_note,
)
from personvern.domain.text_input import UnsafeTextError
from personvern.errors import ErrorKind
from tests.unit.domain.sample_datamap import sample_datamap

S = RequestState


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.PARTIALLY_COMPLETED, S.COMPLETED, True),
        (S.PARTIALLY_COMPLETED, S.IN_PROGRESS, False),
        (S.PARTIALLY_COMPLETED, S.VERIFIED, False),
        (S.PARTIALLY_COMPLETED, S.REJECTED, False),
        (S.PARTIALLY_COMPLETED, S.PARTIALLY_COMPLETED, False),
        (S.COMPLETED, S.PARTIALLY_COMPLETED, False),
        (S.COMPLETED, S.IN_PROGRESS, False),
        (S.IN_PROGRESS, S.PARTIALLY_COMPLETED, True),
        (S.IN_PROGRESS, S.COMPLETED, True),
    ],
)
def test_only_its_tasks_move_a_partially_completed_request_on(
    current: RequestState, target: RequestState, allowed: bool
) -> None:
    try:
        check_transition(current, target)
    except InvalidTransitionError:
        moved = False
    else:
        moved = True
    assert allowed == moved


def test_a_partially_completed_request_stays_closed_for_deadlines_and_runs() -> None:
    assert (False, False) == (S.PARTIALLY_COMPLETED.is_open, S.PARTIALLY_COMPLETED.is_runnable)


@pytest.mark.parametrize(
    ("open_tasks", "expected"),
    [(0, S.COMPLETED), (1, S.PARTIALLY_COMPLETED), (7, S.PARTIALLY_COMPLETED)],
)
def test_a_run_completes_only_with_nothing_left_to_do(
    open_tasks: int, expected: RequestState
) -> None:
    assert expected == RequestLifecycle(S.IN_PROGRESS).complete(open_tasks)


def _datamap() -> DataMap:
    return sample_datamap()


def test_a_run_leaves_a_task_per_recipient_and_per_manual_step() -> None:
    datamap = _datamap()
    recipient = datamap.recipients[0]
    plan = RequestPlan(
        request_type=RequestType.RESTRICTION,
        computed_on=date(2026, 12, 1),
        recipients=(recipient.key, "no-longer-in-the-map"),
        manual_steps=(
            ManualStep(
                key="crm.prospects",
                reason="no_restriction",
                description="restrict 1 record in CRM (crm), dataset prospects, by hand",
                records=1,
            ),
        ),
    )
    assert [
        PlannedTask(
            kind=TaskKind.NOTIFY_RECIPIENT,
            key=recipient.key,
            description=f"tell {recipient.name} ({recipient.country}) of the restriction (Art. 19)",
            details={
                "recipient": recipient.key,
                "name": recipient.name,
                "country": recipient.country,
                "tell": "restriction",
            },
        ),
        PlannedTask(
            kind=TaskKind.MANUAL_STEP,
            key="crm.prospects",
            description="restrict 1 record in CRM (crm), dataset prospects, by hand",
            details={"reason": "no_restriction", "records": 1},
        ),
    ] == planned_tasks(datamap, plan)


def test_the_open_tasks_read_as_one_line() -> None:
    assert "2 tasks to do: #4 tell A (NO) of the erasure (Art. 19); #5 erase in X by hand" == (
        open_tasks_text([(4, "tell A (NO) of the erasure (Art. 19)"), (5, "erase in X by hand")])
    )
    assert "1 task to do: #9 do it" == open_tasks_text([(9, "do it")])


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("Mailed the agency on 3 December", "Mailed the agency on 3 December"),
        ("  Called them.\r\nThey confirmed.\n", "Called them.\r\nThey confirmed."),
        ("Told\tthem", "Told\tthem"),
        ("x" * MAX_NOTE, "x" * MAX_NOTE),
    ],
)
def test_a_note_keeps_what_was_written(note: str, expected: str) -> None:
    assert expected == task_note(note)


@pytest.mark.parametrize(
    ("note", "error", "message"),
    [
        ("", InvalidTaskNoteError, "say what was done in 1 to 2000 characters (got 0)"),
        ("  \n ", InvalidTaskNoteError, "say what was done in 1 to 2000 characters (got 0)"),
        ("x" * (MAX_NOTE + 1), InvalidTaskNoteError, "say what was done in 1 to 2000 characters"),
        ("done\x1b[2J", UnsafeTextError, "the note contains an ESC (escape) character"),
        ("done\u202e", UnsafeTextError, "the note contains an invisible character"),
        ("done\x00", UnsafeTextError, "the note contains a NUL character"),
    ],
)
def test_a_note_that_says_nothing_or_hides_something_is_refused(
    note: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        task_note(note)
    assert str(caught.value).startswith(message)
    assert ErrorKind.INVALID is getattr(caught.value, "kind", None)


def test_a_task_is_done_once() -> None:
    check_may_mark_done("r1", 4, "open", None)
    with pytest.raises(TaskAlreadyDoneError) as caught:
        check_may_mark_done("r1", 4, "done", "api-token:3")
    assert ("task 4 of request r1 is already done (by api-token:3)", ErrorKind.CONFLICT) == (
        caught.value.message,
        caught.value.kind,
    )
