"""The work a request leaves to people after its run, and when the request is done.

A run does what personvern can do itself. What is left becomes a task: telling each
recipient that received the subject's data of the erasure, rectification or
restriction (Art. 19), and every manual step of the plan (restricting records in a
system that declares no restriction field, a system that could not be searched). A
run with open tasks ends ``partially_completed``; a person marks each task done with
a note saying what they did, and the request becomes ``completed`` with the last one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from personvern.domain.datamap import DataMap
from personvern.domain.errors import DomainError
from personvern.domain.requests.request_plan import RequestPlan
from personvern.domain.text_input import refuse_control_characters
from personvern.errors import ErrorKind

#: The longest note a task may be marked done with.
MAX_NOTE = 2000


class TaskKind(StrEnum):
    """What kind of work a task is."""

    #: Tell a recipient of the erasure, rectification or restriction (Art. 19).
    NOTIFY_RECIPIENT = "notify_recipient"
    #: Do by hand what the run could not (see personvern.domain.requests.request_plan).
    MANUAL_STEP = "manual_step"


class TaskStatus(StrEnum):
    """Whether a task still needs doing."""

    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True)
class PlannedTask:
    """A task a run leaves, before it is stored."""

    kind: TaskKind
    #: The recipient's key, or "system.dataset" (the system's key for a whole system).
    key: str
    #: What to do, in plain English.
    description: str
    #: The structured facts behind the description (recipient, records, reason).
    details: Mapping[str, Any] = field(default_factory=dict)


class TaskAlreadyDoneError(DomainError):
    """A task was marked done a second time."""

    kind = ErrorKind.CONFLICT
    title = "Task already done"


class InvalidTaskNoteError(DomainError):
    """A task was to be marked done without a usable note of what was done."""

    kind = ErrorKind.INVALID
    title = "Invalid note"


def task_note(text: str) -> str:
    """The note a task is marked done with, checked: 1 to MAX_NOTE characters, nothing hidden."""
    # Shown on staff terminals and kept as the record of what was done.
    note = refuse_control_characters(text.strip(), "the note", allow_newlines=True)
    if not note or len(note) > MAX_NOTE:
        raise InvalidTaskNoteError(
            f"say what was done in 1 to {MAX_NOTE} characters (got {len(note)})",
            hint="e.g. who was told, when and how; the note is kept with the task",
        )
    return note


def planned_tasks(datamap: DataMap, plan: RequestPlan) -> list[PlannedTask]:
    """The tasks a run of ``plan`` leaves: recipients to tell (Art. 19), then manual steps."""
    recipients = {recipient.key: recipient for recipient in datamap.recipients}
    tasks = [
        PlannedTask(
            kind=TaskKind.NOTIFY_RECIPIENT,
            key=key,
            # Art. 19 spares the telling only where it proves impossible or would take
            # disproportionate effort: the note of a task done says which.
            description=f"tell {recipients[key].name} ({recipients[key].country}) of the "
            f"{plan.request_type.value} (Art. 19)",
            details={
                "recipient": key,
                "name": recipients[key].name,
                "country": recipients[key].country,
                "tell": plan.request_type.value,
            },
        )
        for key in plan.recipients
        if key in recipients
    ]
    tasks.extend(
        PlannedTask(
            kind=TaskKind.MANUAL_STEP,
            key=step.key,
            description=step.description,
            details={"reason": step.reason, "records": step.records},
        )
        for step in plan.manual_steps
    )
    return tasks


def open_tasks_text(tasks: Sequence[tuple[int, str]]) -> str:
    """The open tasks as one line for the request's history: "to do: #4 tell ...; #5 ..."."""
    noun = "task" if len(tasks) == 1 else "tasks"
    return f"{len(tasks)} {noun} to do: " + "; ".join(
        f"#{task_id} {description}" for task_id, description in tasks
    )


def check_may_mark_done(request_id: str, task_id: int, status: str, done_by: str | None) -> None:
    """Refuse to mark a task done that is done already."""
    if TaskStatus(status) is TaskStatus.DONE:
        raise TaskAlreadyDoneError(
            f"task {task_id} of request {request_id} is already done"
            + (f" (by {done_by})" if done_by else ""),
            hint="`personvern request show` lists the tasks still open",
        )
