"""The job port, and the in-process runner used when personvern runs embedded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from personvern.engine.runner import RunOutcome
from personvern.errors import PersonvernError
from personvern.jobs.attempts import Attempt, AttemptRecords, RetryPolicy, RunAttempts, Verdict

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    """Where request runs are sent to be done in the background."""

    def submit_run(self, request_id: str) -> str:
        """Queue a run of the request; returns a job id."""
        ...

    def submit_retention(self, run_id: str) -> str:
        """Queue a started retention run (personvern.engine.retention.runs); returns a job id."""
        ...

    def shutdown(self) -> None:
        """Stop accepting work and let running work finish."""
        ...


class InProcessJobs:
    """Runs requests on one background thread of the serving process.

    One thread, because the embedded store is SQLite, which takes one writer at a time;
    a company that outgrows this sets PERSONVERN_BROKER_URL and runs Celery workers.
    A run that ends waiting for an unreachable system is tried again on a timer; the
    deadline keeps running meanwhile, and the request says what it waits for. When to
    retry, and what a failure leaves on the request, RunAttempts decides, as for Celery.
    """

    def __init__(
        self,
        run: Callable[[str], RunOutcome],
        *,
        records: AttemptRecords | None = None,
        policy: RetryPolicy | None = None,
        retention: Callable[[str], object] | None = None,
    ) -> None:
        """Runs requests with ``run`` and retention runs with ``retention``, one at a time."""
        self._retention = retention
        self._attempts = RunAttempts(run, records, policy=policy, actor="personvern")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="personvern-job")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Attempt]] = {}
        self._retries: dict[str, int] = {}
        self._timers: dict[str, threading.Timer] = {}
        self._retention_futures: dict[str, Future[None]] = {}
        self._closed = False

    def submit_run(self, request_id: str) -> str:
        """Run the request on the background thread (once at a time per request)."""
        with self._lock:
            if self._closed:
                return f"inprocess:{request_id}"
            running = self._futures.get(request_id)
            if running is not None and not running.done():
                return f"inprocess:{request_id}"
            self._futures[request_id] = self._executor.submit(self._guarded, request_id)
        return f"inprocess:{request_id}"

    def submit_retention(self, run_id: str) -> str:
        """Execute a started retention run on the background thread, after queued work."""
        job = f"inprocess:retention:{run_id}"
        with self._lock:
            if self._closed or self._retention is None:
                return job
            self._retention_futures[run_id] = self._executor.submit(self._retention_run, run_id)
        return job

    def wait_retention(self, run_id: str, timeout: float | None = None) -> None:
        """Block until the retention run's job is done (tests use this)."""
        future = self._retention_futures.get(run_id)
        if future is not None:
            future.result(timeout)

    def _retention_run(self, run_id: str) -> None:
        assert self._retention is not None
        try:
            self._retention(run_id)
        except PersonvernError as exc:
            # The run's row keeps the reason (it may name who holds the system).
            log.warning("retention run %s did not complete: %s", run_id, exc.title)
        except Exception:
            # The run's row says it failed; the thread goes on with other work.
            log.exception("retention run %s failed", run_id)

    def _guarded(self, request_id: str) -> Attempt:
        with self._lock:
            retries = self._retries.get(request_id, 0)
        attempt = self._attempts.attempt(request_id, retries)
        with self._lock:
            if attempt.verdict is Verdict.RETRY and attempt.delay is not None:
                if not self._closed:
                    self._retries[request_id] = retries + 1
                    timer = threading.Timer(attempt.delay, self.submit_run, args=(request_id,))
                    timer.daemon = True
                    self._timers[request_id] = timer
                    timer.start()
            else:
                self._retries.pop(request_id, None)
        return attempt

    def wait(self, request_id: str, timeout: float | None = None) -> Attempt | None:
        """Block until the request's current run is done (tests and the CLI use this)."""
        future = self._futures.get(request_id)
        return future.result(timeout) if future is not None else None

    def shutdown(self) -> None:
        """Cancel pending retries, let the running job finish, then stop the thread."""
        with self._lock:
            self._closed = True
            for timer in self._timers.values():
                timer.cancel()
        self._executor.shutdown(wait=True)
