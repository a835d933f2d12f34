"""Tasks in personvern's own store, on SQLite and PostgreSQL: once each, and the last completes.

Two people may mark the last two open tasks of a request at the same moment. Each
must not see the other's task still open and leave the request partially completed
for ever: the request's row is locked while a task is marked.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.requests.tasks import PlannedTask, TaskAlreadyDoneError, TaskKind
from personvern.errors import ErrorKind
from personvern.intake.tasks import mark_task_done
from personvern.store.db import make_session_factory, session_scope
from personvern.store.errors import RecordNotFoundError
from personvern.store.requests import RequestRepository


def _finished_with_tasks(engine: Engine, *keys: str) -> tuple[str, list[int]]:
    """A request that ended partially completed with an Art. 19 task per key."""
    with session_scope(make_session_factory(engine)) as session:
        repo = RequestRepository(session)
        request = repo.add(
            type=RequestType.ERASURE,
            identities=[{"kind": "email", "value": "kari@example.no"}],
            identity_hashes=(),
            subject_key="0" * 64,
            language="nb",
            channel="staff",
            created_by="test",
            deadline=date(2026, 12, 28),
        )
        for state in (
            RequestState.VERIFIED,
            RequestState.IN_PROGRESS,
            RequestState.PARTIALLY_COMPLETED,
        ):
            repo.transition(request, state, state.value, "test")
        tasks = [
            repo.add_task(
                request.id, PlannedTask(TaskKind.NOTIFY_RECIPIENT, key, f"tell {key} (Art. 19)")
            )
            for key in keys
        ]
        return request.id, [task.id for task in tasks]


def test_a_task_is_stored_once_per_kind_and_key(store_engine: Engine) -> None:
    request_id, (first, second) = _finished_with_tasks(store_engine, "agency", "mailer")
    with session_scope(make_session_factory(store_engine)) as session:
        repo = RequestRepository(session)
        again = repo.add_task(
            request_id, PlannedTask(TaskKind.NOTIFY_RECIPIENT, "agency", "tell agency (Art. 19)")
        )
        manual = repo.add_task(
            request_id, PlannedTask(TaskKind.MANUAL_STEP, "agency", "a step with the same key")
        )
        assert (first, 3) == (again.id, len(repo.tasks(request_id)))
        assert manual.id not in (first, second)
        assert 3 == repo.open_tasks(request_id)


def test_a_task_is_found_only_under_its_own_request(store_engine: Engine) -> None:
    _mine, (task_id,) = _finished_with_tasks(store_engine, "agency")
    other, _ = _finished_with_tasks(store_engine, "mailer")
    with (
        session_scope(make_session_factory(store_engine)) as session,
        pytest.raises(RecordNotFoundError) as caught,
    ):
        RequestRepository(session).task(other, task_id)
    assert (f"request {other} has no task {task_id}", ErrorKind.NOT_FOUND) == (
        caught.value.message,
        caught.value.kind,
    )


def test_marking_done_records_who_and_refuses_a_second_time(store_engine: Engine) -> None:
    factory = make_session_factory(store_engine)
    request_id, (first, second) = _finished_with_tasks(store_engine, "agency", "mailer")
    with session_scope(factory) as session:
        mark_task_done(session, request_id, first, "mailed them", actor="api-token:3")
    with session_scope(factory) as session, pytest.raises(TaskAlreadyDoneError):
        mark_task_done(session, request_id, first, "again", actor="api-token:4")
    with session_scope(factory) as session:
        repo = RequestRepository(session)
        done = repo.task(request_id, first)
        assert ("done", "api-token:3", "mailed them") == (done.status, done.done_by, done.note)
        assert (RequestState.PARTIALLY_COMPLETED.value, 1) == (
            repo.get(request_id).state,
            repo.open_tasks(request_id),
        )
        mark_task_done(session, request_id, second, "phoned them", actor="api-token:4")
        assert RequestState.COMPLETED.value == repo.get(request_id).state


def test_the_last_two_tasks_marked_at_once_complete_the_request(
    store_engine: Engine, store_url: str
) -> None:
    if store_url.startswith("sqlite"):
        pytest.skip("SQLite lets one writer at a time in; the race needs row locks")
    factory = make_session_factory(store_engine)
    errors: list[BaseException] = []

    def mark(request_id: str, task_id: int, start: threading.Barrier) -> None:
        try:
            with session_scope(factory) as session:
                start.wait()
                mark_task_done(session, request_id, task_id, "done", actor="staff")
        except BaseException as exc:
            errors.append(exc)

    for _ in range(5):
        request_id, task_ids = _finished_with_tasks(store_engine, "agency", "mailer")
        start = threading.Barrier(len(task_ids))
        threads = [
            threading.Thread(target=mark, args=(request_id, task_id, start)) for task_id in task_ids
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert [] == errors
        with session_scope(factory) as session:
            assert RequestState.COMPLETED.value == RequestRepository(session).get(request_id).state
