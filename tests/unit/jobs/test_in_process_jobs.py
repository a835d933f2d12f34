"""The in-process job runner: one run per request at a time, retried while a system is down."""

from __future__ import annotations

import threading

from personvern.domain.requests.lifecycle import RequestState
from personvern.engine.runner import RunOutcome
from personvern.jobs.attempts import RetryPolicy
from personvern.jobs.queue import InProcessJobs


def test_a_waiting_run_is_tried_again_until_it_completes() -> None:
    states = [
        RequestState.WAITING_FOR_SYSTEM,
        RequestState.WAITING_FOR_SYSTEM,
        RequestState.COMPLETED,
    ]
    calls: list[str] = []
    done = threading.Event()

    def run(request_id: str) -> RunOutcome:
        calls.append(request_id)
        state = states[len(calls) - 1]
        if state is RequestState.COMPLETED:
            done.set()
        return RunOutcome(request_id, state, None, state.value)

    jobs = InProcessJobs(run, policy=RetryPolicy(first_seconds=0.01, cap_seconds=0.02))
    try:
        jobs.submit_run("r1")
        assert done.wait(5)
    finally:
        jobs.shutdown()
    assert ["r1", "r1", "r1"] == calls


def test_a_request_already_running_is_not_run_twice_at_once() -> None:
    release = threading.Event()
    calls: list[str] = []

    def run(request_id: str) -> RunOutcome:
        calls.append(request_id)
        release.wait(5)
        return RunOutcome(request_id, RequestState.COMPLETED, None, "done")

    jobs = InProcessJobs(run)
    try:
        jobs.submit_run("r1")
        jobs.submit_run("r1")
        release.set()
        jobs.wait("r1", timeout=5)
    finally:
        jobs.shutdown()
    assert ["r1"] == calls


def test_shutdown_cancels_pending_retries() -> None:
    calls: list[str] = []

    def run(request_id: str) -> RunOutcome:
        calls.append(request_id)
        return RunOutcome(request_id, RequestState.WAITING_FOR_SYSTEM, None, "waiting")

    jobs = InProcessJobs(run, policy=RetryPolicy(first_seconds=0.2, jitter=0))
    jobs.submit_run("r1")
    jobs.wait("r1", timeout=5)
    jobs.shutdown()
    threading.Event().wait(0.4)
    assert ["r1"] == calls


def test_both_runners_back_off_from_five_seconds_to_five_minutes_with_jitter() -> None:
    policy = RetryPolicy()
    assert [5, 10, 20, 40, 80, 160, 300, 300] == [policy.base_delay(n) for n in range(8)]
    assert 300 == policy.base_delay(10_000)
    delays = [policy.delay(3) for _ in range(200)]
    assert all(40 <= d <= 48 for d in delays)
    assert len(set(delays)) > 1, "jitter spreads requests waiting on one system"


def test_a_run_that_raises_is_reported_and_not_retried() -> None:
    from personvern.errors import PersonvernError

    calls: list[str] = []

    def run(request_id: str) -> RunOutcome:
        calls.append(request_id)
        raise PersonvernError("the connector refused the step")

    jobs = InProcessJobs(run, policy=RetryPolicy(first_seconds=0.01))
    try:
        jobs.submit_run("r1")
        attempt = jobs.wait("r1", timeout=5)
    finally:
        jobs.shutdown()
    assert attempt is not None
    assert ("failed", "the connector refused the step") == (attempt.state, attempt.error)
    assert ["r1"] == calls
