"""The job port, and the in-process runner used when personvern runs embedded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from personvern.domain.requests.lifecycle import RequestState
from personvern.engine.runner import RunOutcome
from personvern.errors import PersonvernError

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    """Where request runs are sent to be done in the background."""

    def submit_run(self, request_id: str) -> str:
        """Queue a run of the request; returns a job id."""
        ...

    def shutdown(self) -> None:
        """Stop accepting work and let running work finish."""
        ...


#: Seconds before a run waiting for an unreachable system is tried again: doubling from
#: the first to the last, then every RETRY_CAP seconds for as long as the request is open.
RETRY_FIRST = 5.0
RETRY_CAP = 300.0


class InProcessJobs:
    """Runs requests on one background thread of the serving process.

    One thread, because the embedded store is SQLite, which takes one writer at a time;
    a company that outgrows this sets PERSONVERN_BROKER_URL and runs Celery workers.
    A run that ends waiting for an unreachable system is tried again on a timer; the
    deadline keeps running meanwhile, and the request says what it waits for.
    """

    def __init__(
        self,
        run: Callable[[str], RunOutcome],
        *,
        retry_first: float = RETRY_FIRST,
        retry_cap: float = RETRY_CAP,
    ) -> None:
        self._run = run
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="personvern-job")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[RunOutcome | None]] = {}
        self._retry_first = retry_first
        self._retry_cap = retry_cap
        self._retries: dict[str, int] = {}
        self._timers: dict[str, threading.Timer] = {}
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

    def _guarded(self, request_id: str) -> RunOutcome | None:
        try:
            outcome = self._run(request_id)
        except PersonvernError as exc:
            log.warning("request %s could not run: %s", request_id, exc)
            return None
        except Exception:
            log.exception("request %s failed unexpectedly", request_id)
            return None
        if outcome.state is RequestState.WAITING_FOR_SYSTEM:
            self._retry_later(request_id)
        else:
            with self._lock:
                self._retries.pop(request_id, None)
        return outcome

    def _retry_later(self, request_id: str) -> None:
        with self._lock:
            if self._closed:
                return
            attempt = self._retries.get(request_id, 0)
            self._retries[request_id] = attempt + 1
            delay = min(self._retry_first * 2**attempt, self._retry_cap)
            timer = threading.Timer(delay, self.submit_run, args=(request_id,))
            timer.daemon = True
            self._timers[request_id] = timer
            timer.start()
        log.info("request %s: next attempt in %.0f s", request_id, delay)

    def wait(self, request_id: str, timeout: float | None = None) -> RunOutcome | None:
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
