"""A real Redis broker, a queue of the test's own, and `personvern worker` processes.

Set PERSONVERN_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0); outside CI the tests
skip without it, under CI=true they fail. Each test uses a uniquely named queue, so
parallel runs on one Redis never take each other's messages, and removes its keys.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.servers import in_ci

REDIS_VARIABLE = "PERSONVERN_TEST_REDIS_URL"
REDIS_EXAMPLE = "redis://127.0.0.1:6379/0"
WORKER = Path(sys.executable).parent / "personvern"


@pytest.fixture
def redis_url() -> str:
    """URL of the Redis server the tests use as broker, or skip (fail under CI)."""
    url = os.environ.get(REDIS_VARIABLE)
    if not url:
        message = f"Celery tests need a Redis server: set {REDIS_VARIABLE}={REDIS_EXAMPLE}"
        if in_ci():
            pytest.fail(message + " (CI=true requires it)")
        pytest.skip(message)
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is unreachable: {exc}")
    return url


@pytest.fixture
def queue(redis_url: str) -> Iterator[str]:
    """A queue name used by this test only; its keys are removed afterwards."""
    import redis

    name = f"personvern-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
        # Messages a killed worker left unacknowledged sit in hashes shared by every
        # queue on this database; only this queue's entries are removed.
        for tag, raw in client.hscan_iter("unacked"):
            _message, _exchange, routing_key = json.loads(raw)
            if routing_key == name:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


class Workers:
    """`personvern worker` processes started by one test, each in its own process group."""

    def __init__(self, folder: Path, queue: str) -> None:
        self.folder = folder
        self.queue = queue
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(
        self,
        env: Mapping[str, str],
        *,
        visibility_timeout: int = 3600,
        extra_env: Mapping[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> subprocess.Popen[bytes]:
        """Start a worker on the test's queue with ``env`` (plus ``extra_env``, ``extra_args``)."""
        log = self.folder / f"worker-{len(self.started) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(WORKER),
                    "worker",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "info",
                    "--queue",
                    self.queue,
                    "--visibility-timeout",
                    str(visibility_timeout),
                    *extra_args,
                ],
                env={**env, **(extra_env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                # A group of its own: SIGKILL then reaches the pool processes too, as when
                # the machine or container running the worker dies.
                start_new_session=True,
            )
        self.started.append((process, log))
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and its pool processes, with no chance to clean up."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def logs(self) -> str:
        """Every worker's output, for failure messages."""
        return "\n".join(
            f"--- {log.name} ---\n{log.read_text(errors='replace')[-6000:]}"
            for _process, log in self.started
            if log.exists()
        )

    def stop_all(self) -> None:
        """Stop every worker still running.

        SIGKILL rather than a warm shutdown, which takes seconds per worker: by now the
        test is over, and any message left unacknowledged is removed with its queue.
        """
        for process, _log in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path: Path, queue: str) -> Iterator[Workers]:
    """Starts workers for the test and stops them all afterwards."""
    assert WORKER.exists(), f"{WORKER} is missing: install the package (make install)"
    started = Workers(tmp_path, queue)
    try:
        yield started
    finally:
        started.stop_all()


def worker_environment(**variables: str) -> dict[str, str]:
    """This process's environment without PERSONVERN_* settings, plus ``variables``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    return {**base, **variables}


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, logs: Callable[[], str]
) -> object:
    """Poll ``condition`` until it returns something truthy; fail with the logs on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{logs()}")
        time.sleep(0.1)
