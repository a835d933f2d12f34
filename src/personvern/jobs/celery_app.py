"""Request runs through Celery: the app built from settings, its one task, and the job queue.

Messages are acknowledged late, after the task returns, so a worker that dies mid-run
leaves its message to be delivered again; the engine's stored plan and recorded steps
make the second run finish the first one's work without repeating it.

With Redis as the broker, acknowledgement is emulated: a delivered message is kept
aside until it is acknowledged, and one whose worker died is put back on the queue
once ``visibility_timeout`` seconds have passed since its delivery (checked when a
worker starts and then periodically). The timeout must exceed the longest run plus
the longest retry countdown, or a message still being worked on is handed to a second
worker. With RabbitMQ the broker notices a lost consumer at once.

Test-only hook: when ``PERSONVERN_TEST_PAUSE_AFTER_STEP`` (or
``PERSONVERN_TEST_PAUSE_BEFORE_RECORDING``) names a run step such as ``erase:crm``,
the task writes the JSON file named by ``PERSONVERN_TEST_PAUSE_MARKER`` and sleeps once
that step is recorded (or once its work is committed but before it is recorded), so a
test can kill the worker at a known point of an erasure. It is refused in production.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from celery import Celery, Task
from celery.signals import beat_init

from personvern.engine.runner import RunObserver
from personvern.errors import ErrorKind, PersonvernError
from personvern.jobs.attempts import RetryPolicy, RunAttempts, Verdict
from personvern.settings import Settings

if TYPE_CHECKING:
    from personvern.domain.datamap import DataMap
    from personvern.engine.retention.runs import RetentionRuns

log = logging.getLogger(__name__)

TASK_NAME = "personvern.run_request"
#: Executes one started retention run (personvern.engine.retention.runs).
RETENTION_TASK = "personvern.retention_run"
#: Celery beat sends this every PERSONVERN_RETENTION_SCHEDULE_INTERVAL_SECONDS: it starts
#: the runs the data map's schedules make due.
RETENTION_TICK = "personvern.retention_schedules"
DEFAULT_QUEUE = "personvern"
#: Seconds before Redis hands an unacknowledged message to another worker: an hour,
#: far above a run (seconds) plus the longest retry countdown (RETRY_AFTER).
VISIBILITY_TIMEOUT = 3600
#: When runs are retried: the same policy as the in-process runner's.
POLICY = RetryPolicy()

PAUSE_AFTER_STEP_ENV = "PERSONVERN_TEST_PAUSE_AFTER_STEP"
PAUSE_BEFORE_RECORDING_ENV = "PERSONVERN_TEST_PAUSE_BEFORE_RECORDING"
PAUSE_MARKER_ENV = "PERSONVERN_TEST_PAUSE_MARKER"
#: A forgotten hook must not hold a worker forever.
PAUSE_LIMIT_SECONDS = 300.0

_REDIS_SCHEMES = ("redis", "rediss", "sentinel")


class BrokerError(PersonvernError):
    """The job broker cannot be used."""

    kind = ErrorKind.UNAVAILABLE
    title = "Job broker unavailable"


class BrokerNotConfiguredError(BrokerError):
    """No broker URL is set."""


class BrokerUnavailableError(BrokerError):
    """The broker does not answer."""


def make_celery_app(
    settings: Settings,
    *,
    queue: str = DEFAULT_QUEUE,
    visibility_timeout: int = VISIBILITY_TIMEOUT,
    attempts: Callable[[], RunAttempts] | None = None,
    retention: Callable[[], tuple[RetentionRuns, DataMap]] | None = None,
) -> Celery:
    """A Celery app on ``settings.broker_url`` with the request-run task registered.

    ``attempts`` builds what runs requests, once in each worker process (the worker
    passes the application's, see personvern.bootstrap); an app that only sends runs
    (the server's) has none. ``retention`` builds what executes retention runs and the
    data map whose schedules beat's tick reads, likewise.
    """
    broker_url = settings.broker_url
    if not broker_url:
        raise BrokerNotConfiguredError(
            "PERSONVERN_BROKER_URL is not set",
            hint="set it to the broker, e.g. redis://127.0.0.1:6379/0 or amqp://user@host//",
        )
    app = Celery("personvern", broker=broker_url, set_as_current=False)
    transport_options: dict[str, Any] = {}
    if broker_url.split("://", 1)[0] in _REDIS_SCHEMES:
        transport_options["visibility_timeout"] = visibility_timeout
    app.conf.update(
        # Late acks plus rejecting on a lost worker: a run killed half-way is delivered
        # again, and the engine's recorded steps make that second run safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message per worker process at a time: a prefetched message would wait
        # behind a long run, and would be lost to a crash of a worker that never ran it.
        worker_prefetch_multiplier=1,
        # JSON only: a message never carries code (pickle) from whoever can reach the broker.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        event_serializer="json",
        # The outcome lives in personvern's store; the broker keeps no results.
        task_ignore_result=True,
        task_default_queue=queue,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        enable_utc=True,
    )
    interval = settings.retention_schedule_interval_seconds
    if interval:
        # Beat (`personvern worker --beat`) only sends the tick; which runs are due, and
        # that each starts once however many beats there are, the tick decides.
        app.conf.beat_schedule = {
            "personvern-retention-schedules": {
                "task": RETENTION_TICK,
                "schedule": float(interval),
                "options": {"queue": queue, "expires": float(interval)},
            }
        }
    runtime = _PerProcess(attempts)
    retention_runtime = _PerProcess(retention)

    # shared=False: a shared task would be added to every Celery app made afterwards.
    @app.task(
        bind=True, name=TASK_NAME, acks_late=True, max_retries=POLICY.max_retries, shared=False
    )
    def run_request(task: Task[Any, Any], request_id: str) -> dict[str, str]:
        """Run one data subject request; retried while a system is unreachable."""
        return _run_request(task, runtime, request_id)

    @app.task(name=RETENTION_TASK, acks_late=True, shared=False)
    def retention_run(run_id: str) -> dict[str, str]:
        """Execute one started retention run (its row says how it went)."""
        runs, _datamap = retention_runtime.get()
        try:
            run = runs.execute(run_id)
        except PersonvernError as exc:
            # The run's row keeps the reason (it may name who holds the system); the log
            # gets only its kind.
            log.warning("retention run %s did not complete: %s", run_id, exc.title)
            return {"run_id": run_id, "executed": "no", "error": exc.title}
        return {"run_id": run_id, "executed": "yes" if run is not None else "no"}

    @app.task(name=RETENTION_TICK, shared=False)
    def retention_schedules(catch_up: bool = False) -> list[str]:
        """Start the retention runs the schedules make due now, each on a worker.

        ``catch_up`` (the tick beat sends when it starts): first start the runs of
        scheduled times missed while no beat ran. Every tick marks failed the queued
        runs no worker picked up before their lease ran out (a lost message).
        """
        from personvern.engine.retention.scheduler import (
            RetentionScheduler,
            own_records_schedule,
        )

        runs, datamap = retention_runtime.get()
        scheduler = RetentionScheduler(
            lambda: datamap,
            lambda: runs,
            lambda run_id: retention_run.apply_async(args=(run_id,), queue=queue),
            interval=timedelta(seconds=max(interval, 1)),
            extra=own_records_schedule(settings.retention_own_schedule),
            catch_up=catch_up,
            fail_unstarted=True,
        )
        return scheduler.tick(datetime.now(UTC))

    if interval:

        def catch_up_on_start(sender: object = None, **_: object) -> None:
            """When this app's beat starts, send a tick that catches up missed times."""
            if getattr(sender, "app", None) is not app:
                return
            retention_schedules.apply_async(kwargs={"catch_up": True}, queue=queue)

        # Signals are process-wide: the handler checks the beat is this app's.
        beat_init.connect(catch_up_on_start, weak=False)

    return app


def check_broker(app: Celery, timeout: int = 5) -> None:
    """Raise BrokerUnavailableError unless the app's broker answers within ``timeout``."""
    from kombu.exceptions import OperationalError

    connection = app.connection_for_write()
    try:
        connection.ensure_connection(
            max_retries=1, interval_start=1, interval_step=1, timeout=timeout
        )
    except (OperationalError, OSError) as exc:
        raise BrokerUnavailableError(
            f"the broker at {_display_broker(app)} does not answer: {exc}",
            hint="start it, or fix PERSONVERN_BROKER_URL",
        ) from exc
    finally:
        connection.release()


class CeleryJobs:
    """Sends request runs to Celery workers (`personvern worker`) through the broker."""

    def __init__(
        self,
        settings: Settings,
        *,
        queue: str = DEFAULT_QUEUE,
        app: Celery | None = None,
    ) -> None:
        self.app = app or make_celery_app(settings, queue=queue)
        self.queue = queue

    def submit_retention(self, run_id: str) -> str:
        """Queue a started retention run; returns the Celery task id."""
        return self._send(
            RETENTION_TASK,
            run_id,
            f"retention run {run_id}",
            "start the broker; the run's lock frees itself when its lease runs out",
        )

    def submit_run(self, request_id: str) -> str:
        """Queue a run of the request; returns the Celery task id."""
        return self._send(
            TASK_NAME,
            request_id,
            f"the run of request {request_id}",
            "start the broker, then run the request again",
        )

    def _send(self, task: str, argument: str, what: str, hint: str) -> str:
        """Queue ``task`` with ``argument``; BrokerUnavailableError if the broker is down."""
        from kombu.exceptions import OperationalError

        try:
            result = self.app.tasks[task].apply_async(args=(argument,), queue=self.queue)
        except (OperationalError, OSError) as exc:
            raise BrokerUnavailableError(
                f"cannot queue {what}: the broker at {_display_broker(self.app)} does not "
                f"answer ({exc})",
                hint=hint,
            ) from exc
        return str(result.id)

    def shutdown(self) -> None:
        """Close the broker connections this process holds."""
        self.app.close()


def _display_broker(app: Celery) -> str:
    """The broker URL with any password masked, for messages."""
    from urllib.parse import urlsplit

    url = str(app.conf.broker_url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


# -- the task ---------------------------------------------------------------------------


_Built = TypeVar("_Built")


class _PerProcess(Generic[_Built]):
    """What runs requests (or retention runs) in this worker process, built on its first task.

    A pool process forked from a parent that had built it must not share the parent's
    database connections, so it is built again whenever the process id changes.
    """

    def __init__(self, build: Callable[[], _Built] | None) -> None:
        self._build = build
        self._pid: int | None = None
        self._built: _Built | None = None

    def get(self) -> _Built:
        """What this process built."""
        if self._build is None:
            raise PersonvernError(
                "this Celery app only sends runs; it cannot run them",
                hint="run them with `personvern worker`",
            )
        if self._built is None or self._pid != os.getpid():
            self._built = self._build()
            self._pid = os.getpid()
        return self._built


def _run_request(
    task: Task[Any, Any], runtime: _PerProcess[RunAttempts], request_id: str
) -> dict[str, str]:
    retries = int(task.request.retries or 0)
    attempt = runtime.get().attempt(request_id, retries)
    if attempt.verdict is Verdict.RETRY and attempt.delay is not None:
        raise task.retry(countdown=round(attempt.delay), max_retries=POLICY.max_retries)
    result = {"request_id": request_id, "state": attempt.state}
    if attempt.error is not None:
        result["error"] = attempt.error
    return result


# -- the test-only pause hook -----------------------------------------------------------


@dataclass(frozen=True)
class _Pause:
    """Where a test wants the run held: after ``step`` is recorded, or just before."""

    step: str
    before_recording: bool
    marker: Path

    @classmethod
    def from_environ(cls, settings: Settings) -> _Pause | None:
        """The pause the test hook's variables ask for, or None."""
        after = os.environ.get(PAUSE_AFTER_STEP_ENV, "").strip()
        before = os.environ.get(PAUSE_BEFORE_RECORDING_ENV, "").strip()
        if not (after or before):
            return None
        if settings.environment == "production":
            raise PersonvernError(
                f"{PAUSE_AFTER_STEP_ENV} and {PAUSE_BEFORE_RECORDING_ENV} are test hooks "
                "and are refused in production",
                hint="unset them in the worker's environment",
            )
        marker = os.environ.get(PAUSE_MARKER_ENV, "").strip()
        if not marker:
            raise PersonvernError(
                f"{PAUSE_MARKER_ENV} must name the file to write when the run pauses"
            )
        return cls(step=before or after, before_recording=bool(before), marker=Path(marker))

    def step_done(self, request_id: str, step: str) -> None:
        """Hold a run whose step is done but not yet recorded, if that is where to pause."""
        if step == self.step and self.before_recording:
            self.hold(request_id)

    def step_recorded(self, request_id: str, step: str) -> None:
        """Hold a run whose step is recorded, if that is where to pause."""
        if step == self.step and not self.before_recording:
            self.hold(request_id)

    def hold(self, request_id: str) -> None:
        """Tell the test where the run is, then sleep until killed (or the limit passes)."""
        partial = self.marker.with_name(self.marker.name + ".part")
        partial.write_text(
            json.dumps({"pid": os.getpid(), "request_id": request_id, "step": self.step}),
            encoding="utf-8",
        )
        # Renamed into place so the test never reads a half-written marker.
        partial.replace(self.marker)
        log.warning("test hook: request %s paused at %s", request_id, self.step)
        deadline = time.monotonic() + PAUSE_LIMIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.2)
        log.warning("test hook: pause at %s ran out; continuing", self.step)


def pause_from_environ(settings: Settings) -> RunObserver | None:
    """The test hook's observer when its variables are set (refused in production)."""
    return _Pause.from_environ(settings)


__all__ = [
    "DEFAULT_QUEUE",
    "RETENTION_TASK",
    "RETENTION_TICK",
    "TASK_NAME",
    "BrokerError",
    "BrokerNotConfiguredError",
    "BrokerUnavailableError",
    "CeleryJobs",
    "check_broker",
    "make_celery_app",
    "pause_from_environ",
]
