"""The in-process job runner: one run per request at a time, retried while a system is down."""

from __future__ import annotations

import threading

from personvern.domain.requests.lifecycle import RequestState
from personvern.engine.runner import RunOutcome
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

    jobs = InProcessJobs(run, retry_first=0.01, retry_cap=0.02)
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

    jobs = InProcessJobs(run, retry_first=0.2)
    jobs.submit_run("r1")
    jobs.wait("r1", timeout=5)
    jobs.shutdown()
    threading.Event().wait(0.4)
    assert ["r1"] == calls
