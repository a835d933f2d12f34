"""Choosing the job queue, retry timing, and `personvern worker` refusing to start unconfigured."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from personvern.engine.runner import RunOutcome
from personvern.jobs.celery_app import BrokerUnavailableError, CeleryJobs
from personvern.jobs.factory import make_job_queue
from personvern.jobs.queue import InProcessJobs
from personvern.settings import Settings
from personvern.store.unit_of_work import UnitOfWork
from tests.integration.jobs.conftest import WORKER, worker_environment


def _no_run(_request_id: str) -> RunOutcome:
    raise AssertionError("nothing is run while the queue is built")


def _no_store() -> UnitOfWork:
    raise AssertionError("the store is not touched while the queue is built")


def test_job_queue_is_in_process_without_a_broker(tmp_path: Path) -> None:
    jobs = make_job_queue(Settings(home=tmp_path), _no_run, _no_store)
    try:
        assert isinstance(jobs, InProcessJobs)
    finally:
        jobs.shutdown()


def test_job_queue_is_celery_when_a_broker_is_set(tmp_path: Path) -> None:
    # Building the queue connects to nothing; the broker is only reached on submit.
    settings = Settings(home=tmp_path, broker_url="redis://127.0.0.1:1/0")
    jobs = make_job_queue(settings, _no_run, _no_store)
    try:
        assert isinstance(jobs, CeleryJobs)
        assert "redis://127.0.0.1:1/0" == jobs.app.conf.broker_url
        assert (True, True, 1, ["json"]) == (
            jobs.app.conf.task_acks_late,
            jobs.app.conf.task_reject_on_worker_lost,
            jobs.app.conf.worker_prefetch_multiplier,
            jobs.app.conf.accept_content,
        )
    finally:
        jobs.shutdown()


def test_workers_retry_with_the_in_process_runners_policy() -> None:
    from personvern.jobs.attempts import RetryPolicy
    from personvern.jobs.celery_app import POLICY

    assert RetryPolicy() == POLICY


def test_submitting_without_a_reachable_broker_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, broker_url=f"redis://127.0.0.1:{_free_port()}/0")
    jobs = CeleryJobs(settings)
    with pytest.raises(BrokerUnavailableError, match="cannot queue the run of request abc"):
        jobs.submit_run("abc")
    jobs.shutdown()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("broker", "expected"),
    [
        (None, "personvern: error: PERSONVERN_BROKER_URL is not set"),
        ("redis://127.0.0.1:{port}/0", "personvern: error: the broker at redis://127.0.0.1:"),
    ],
    ids=["not-set", "unreachable"],
)
def test_worker_refuses_to_start_without_a_broker(
    tmp_path: Path, broker: str | None, expected: str
) -> None:
    env = worker_environment(PERSONVERN_HOME=str(tmp_path))
    if broker is not None:
        env["PERSONVERN_BROKER_URL"] = broker.format(port=_free_port())
    done = subprocess.run(
        [str(WORKER), "worker"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert 2 == done.returncode
    lines = done.stderr.strip().splitlines()
    assert 1 == len(lines), done.stderr
    assert lines[0].startswith(expected), done.stderr
