"""The job port, and the in-process runner used when personvern runs embedded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

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


class InProcessJobs:
    """Runs requests on one background thread of the serving process.

    One thread, because the embedded store is SQLite, which takes one writer at a time;
    a company that outgrows this sets PERSONVERN_BROKER_URL and runs Celery workers.
    """

    def __init__(self, run: Callable[[str], RunOutcome]) -> None:
        self._run = run
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="personvern-job")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[RunOutcome | None]] = {}

    def submit_run(self, request_id: str) -> str:
        """Run the request on the background thread (once at a time per request)."""
        with self._lock:
            running = self._futures.get(request_id)
            if running is not None and not running.done():
                return f"inprocess:{request_id}"
            self._futures[request_id] = self._executor.submit(self._guarded, request_id)
        return f"inprocess:{request_id}"

    def _guarded(self, request_id: str) -> RunOutcome | None:
        try:
            return self._run(request_id)
        except PersonvernError as exc:
            log.warning("request %s could not run: %s", request_id, exc)
        except Exception:
            log.exception("request %s failed unexpectedly", request_id)
        return None

    def wait(self, request_id: str, timeout: float | None = None) -> RunOutcome | None:
        """Block until the request's current run is done (tests and the CLI use this)."""
        future = self._futures.get(request_id)
        return future.result(timeout) if future is not None else None

    def shutdown(self) -> None:
        """Let the running job finish, then stop the thread."""
        self._executor.shutdown(wait=True)
