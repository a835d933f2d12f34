"""Marking the tasks a run left as done, and completing the request with the last one.

A task is done when a person says so, with a note of what they did (who was told,
when, how; which records were restricted by hand). Whoever marks it is recorded, the
request's history says which task was done, and the receipt's entry for the task shows
it. When no task is left open, the partially completed request becomes completed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import RequestState
from personvern.domain.requests.tasks import TaskStatus, check_may_mark_done, task_note
from personvern.store.base import utcnow
from personvern.store.models import DataSubjectRequest, RequestTask
from personvern.store.requests import RequestRepository


def mark_task_done(
    session: Session,
    request_id: str,
    task_id: int,
    note: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> RequestTask:
    """Mark task ``task_id`` of the request done by ``actor``; the last one completes it."""
    now = now or utcnow()
    note = task_note(note)
    repository = RequestRepository(session)
    # Locked: two people marking the last two tasks at once must not each see the
    # other's still open and both leave the request partially completed.
    request = repository.get(request_id, for_update=True)
    task = repository.task(request_id, task_id)
    check_may_mark_done(request_id, task_id, task.status, task.done_by)
    task.status = TaskStatus.DONE.value
    task.done_by = actor
    task.done_at = now
    task.note = note
    session.flush()
    repository.add_event(request, f"task {task.id} done: {task.kind} {task.key}", actor, at=now)
    _show_in_receipt(repository, request, task)
    if repository.open_tasks(request_id) == 0 and request.state is RequestState.PARTIALLY_COMPLETED:
        repository.transition(
            request, request.lifecycle.finish_tasks(), "all tasks done", actor, at=now
        )
        if request.receipt is not None:
            repository.save_receipt(
                request, {**request.receipt, "completed_at": now.isoformat(timespec="seconds")}
            )
        # An erasure's data key outlives this until its letter is sent (see
        # responses.handover.send_answer and housekeeping).
    return task


def _show_in_receipt(
    repository: RequestRepository, request: DataSubjectRequest, task: RequestTask
) -> None:
    """Set the task's status where the receipt lists it (receipts before tasks list none)."""
    if request.receipt is None:
        return
    receipt: dict[str, Any] = dict(request.receipt)
    done_at = task.done_at.isoformat(timespec="seconds") if task.done_at else None
    for section in ("notify_recipients", "manual_steps"):
        if section not in receipt:
            continue
        receipt[section] = [
            {**entry, "status": task.status, "done_at": done_at}
            if isinstance(entry, dict) and entry.get("task") == task.id
            else entry
            for entry in receipt.get(section, [])
        ]
    repository.save_receipt(request, receipt)
