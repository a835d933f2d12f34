"""Both job runners leave the same record of an attempt on the request."""

from __future__ import annotations

from pathlib import Path

from personvern.domain.requests.lifecycle import RequestState
from personvern.engine.runner import RunOutcome
from personvern.errors import PersonvernError
from personvern.jobs.attempts import AttemptRecords, RetryPolicy, Verdict
from personvern.jobs.queue import InProcessJobs
from personvern.store.db import SessionFactory, make_engine, make_session_factory, session_scope
from personvern.store.migrate import upgrade_to_head
from personvern.store.requests import RequestRepository
from personvern.store.unit_of_work import unit_of_work_factory
from tests.integration.jobs.company import verified_erasure


def _store(tmp_path: Path) -> SessionFactory:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade_to_head(url)
    return make_session_factory(make_engine(url))


def test_the_in_process_runner_keeps_a_failure_on_the_request(tmp_path: Path) -> None:
    # It used to log the failure only: `request show` said nothing of why a run stopped.
    sessions = _store(tmp_path)
    request_id = verified_erasure(sessions, "kari@example.no")

    def run(_request_id: str) -> RunOutcome:
        raise PersonvernError("crm: the connector refused the step")

    jobs = InProcessJobs(run, records=AttemptRecords(unit_of_work_factory(sessions)))
    try:
        jobs.submit_run(request_id)
        attempt = jobs.wait(request_id, timeout=10)
    finally:
        jobs.shutdown()
    assert attempt is not None
    assert Verdict.FAILED is attempt.verdict
    with session_scope(sessions) as session:
        repository = RequestRepository(session)
        request = repository.get(request_id)
        assert "crm: the connector refused the step" == request.last_error
        events = [e.message for e in repository.events(request_id)]
    assert "run failed: crm: the connector refused the step" in events


def test_a_waiting_run_says_when_it_is_tried_next_and_a_finished_one_is_not_run(
    tmp_path: Path,
) -> None:
    sessions = _store(tmp_path)
    request_id = verified_erasure(sessions, "ola@example.no")
    runs: list[str] = []

    def run(rid: str) -> RunOutcome:
        runs.append(rid)
        return RunOutcome(rid, RequestState.WAITING_FOR_SYSTEM, None, "crm is down")

    jobs = InProcessJobs(
        run,
        records=AttemptRecords(unit_of_work_factory(sessions)),
        policy=RetryPolicy(first_seconds=60),
    )
    try:
        jobs.submit_run(request_id)
        attempt = jobs.wait(request_id, timeout=10)
        assert attempt is not None
        assert Verdict.RETRY is attempt.verdict
        assert 60 <= (attempt.delay or 0) <= 72
        with session_scope(sessions) as session:
            assert RequestRepository(session).get(request_id).next_attempt_at is not None
            repository = RequestRepository(session)
            request = repository.get(request_id)
            repository.transition(request, RequestState.REJECTED, "withdrawn", "test")
    finally:
        jobs.shutdown()
    unstarted = InProcessJobs(run, records=AttemptRecords(unit_of_work_factory(sessions)))
    try:
        unstarted.submit_run(request_id)
        skipped = unstarted.wait(request_id, timeout=10)
    finally:
        unstarted.shutdown()
    assert skipped is not None
    assert (Verdict.SKIPPED, "rejected") == (skipped.verdict, skipped.state)
    assert [request_id] == runs
