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
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery, Task

from personvern.connectors.registry import ConnectorPool
from personvern.domain.datamap import DataMap
from personvern.domain.requests.lifecycle import RequestState
from personvern.engine.runner import RETRY_AFTER, RequestEngine, RunOutcome
from personvern.errors import PersonvernError
from personvern.settings import Settings
from personvern.store.db import SessionFactory

log = logging.getLogger(__name__)

TASK_NAME = "personvern.run_request"
DEFAULT_QUEUE = "personvern"
#: Seconds before Redis hands an unacknowledged message to another worker: an hour,
#: far above a run (seconds) plus the longest retry countdown (RETRY_AFTER).
VISIBILITY_TIMEOUT = 3600
#: First retry of a request waiting for a system; doubled per retry up to RETRY_AFTER.
RETRY_BASE_SECONDS = 5
MAX_RETRY_SECONDS = int(RETRY_AFTER.total_seconds())
#: About a day of automatic retries; after that the request stays waiting_for_system
#: (shown by `request show` and the API) until someone runs it again.
MAX_RETRIES = 300

PAUSE_AFTER_STEP_ENV = "PERSONVERN_TEST_PAUSE_AFTER_STEP"
PAUSE_BEFORE_RECORDING_ENV = "PERSONVERN_TEST_PAUSE_BEFORE_RECORDING"
PAUSE_MARKER_ENV = "PERSONVERN_TEST_PAUSE_MARKER"
#: A forgotten hook must not hold a worker forever.
PAUSE_LIMIT_SECONDS = 300.0

_REDIS_SCHEMES = ("redis", "rediss", "sentinel")


class BrokerError(PersonvernError):
    """The job broker cannot be used."""

    http_status = 503
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
) -> Celery:
    """A Celery app on ``settings.broker_url`` with the request-run task registered."""
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
    runtime = _Runtime(settings)

    # shared=False: a shared task would be added to every Celery app made afterwards.
    @app.task(bind=True, name=TASK_NAME, acks_late=True, max_retries=MAX_RETRIES, shared=False)
    def run_request(task: Task[Any, Any], request_id: str) -> dict[str, str]:
        """Run one data subject request; retried while a system is unreachable."""
        return _run_request(task, runtime, request_id)

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


def retry_countdown(retries: int) -> int:
    """Seconds before retry number ``retries`` + 1: doubling from 5 s, at most RETRY_AFTER."""
    return min(MAX_RETRY_SECONDS, RETRY_BASE_SECONDS << min(retries, 16))


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

    def submit_run(self, request_id: str) -> str:
        """Queue a run of the request; returns the Celery task id."""
        from kombu.exceptions import OperationalError

        try:
            result = self.app.tasks[TASK_NAME].apply_async(args=(request_id,), queue=self.queue)
        except (OperationalError, OSError) as exc:
            raise BrokerUnavailableError(
                f"cannot queue the run of request {request_id}: the broker at "
                f"{_display_broker(self.app)} does not answer ({exc})",
                hint="start the broker, then run the request again",
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


class _Runtime:
    """The data map and store sessions of one worker process, built on its first task."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pid: int | None = None
        self._built: tuple[DataMap, SessionFactory] | None = None
        #: Connectors kept open between tasks, like the server's: opening one reads the
        #: tables' structure, most of the statements of a small request.
        self.pool: ConnectorPool | None = None

    def get(self) -> tuple[DataMap, SessionFactory]:
        """The data map and session factory, built again in a forked process."""
        # A pool process forked from a parent that had built these must not share the
        # parent's database connections, so the process id is part of the cache key.
        if self._built is None or self._pid != os.getpid():
            from personvern.datamap.loader import load_datamap, resolve_datamap_path
            from personvern.store.db import make_engine, make_session_factory
            from personvern.store.migrate import upgrade_to_head

            datamap = load_datamap(resolve_datamap_path(self.settings.datamap)).datamap
            engine = make_engine(self.settings)
            if self.settings.should_auto_migrate:
                upgrade_to_head(engine)
            self._built = (datamap, make_session_factory(engine))
            self.pool = ConnectorPool()
            self._pid = os.getpid()
        return self._built

    def engine(self) -> RequestEngine:
        """A request engine, with the test pause hook when one is configured."""
        datamap, session_factory = self.get()
        pause = _Pause.from_environ(self.settings)
        if pause is not None:
            return _PausingEngine(
                pause,
                settings=self.settings,
                datamap=datamap,
                session_factory=session_factory,
                actor="worker",
            )
        return RequestEngine(
            settings=self.settings,
            datamap=datamap,
            session_factory=session_factory,
            actor="worker",
            pool=self.pool,
        )


def _run_request(task: Task[Any, Any], runtime: _Runtime, request_id: str) -> dict[str, str]:
    import sqlalchemy as sa

    from personvern.store.errors import StoreUnavailableError

    try:
        state = _state(runtime, request_id)
        if state is None:
            log.warning("request %s does not exist; nothing to run", request_id)
            return {"request_id": request_id, "state": "missing"}
        if not state.is_runnable:
            # A message delivered again after its run finished (a worker killed between
            # the last commit and the ack), or a request someone else moved on.
            log.info("request %s is %s; nothing to run", request_id, state.value)
            return {"request_id": request_id, "state": state.value}
        outcome = runtime.engine().run(request_id)
    except (StoreUnavailableError, sa.exc.OperationalError) as exc:
        # personvern's own store is down: nothing can be recorded, so try again later.
        countdown = _countdown(task)
        log.warning("request %s: the store is unavailable; retry in %d s", request_id, countdown)
        raise task.retry(exc=exc, countdown=countdown, max_retries=MAX_RETRIES) from exc
    except sa.exc.IntegrityError as exc:
        # Another worker running the same request (submitted twice) recorded a step
        # first; a later attempt finds the request done or resumes after that step.
        countdown = _countdown(task)
        log.warning("request %s runs elsewhere too; retry in %d s", request_id, countdown)
        raise task.retry(exc=exc, countdown=countdown, max_retries=MAX_RETRIES) from exc
    except PersonvernError as exc:
        # Expected failures (an invalid data map, a connector refusing a step) need a
        # person; retrying would fail the same way, so the error is kept on the request.
        log.error("request %s failed: %s", request_id, exc)
        _record_error(runtime, request_id, str(exc))
        return {"request_id": request_id, "state": "failed", "error": str(exc)}
    if outcome.state is RequestState.WAITING_FOR_SYSTEM:
        return _retry_later(task, runtime, outcome)
    return {"request_id": request_id, "state": outcome.state.value}


def _countdown(task: Task[Any, Any]) -> int:
    # Up to 20 % jitter, so requests stuck on the same system do not all retry at once.
    countdown = retry_countdown(int(task.request.retries or 0))
    return countdown + random.randint(0, countdown // 5)  # noqa: S311


def _retry_later(task: Task[Any, Any], runtime: _Runtime, outcome: RunOutcome) -> dict[str, str]:
    retries = int(task.request.retries or 0)
    if retries >= MAX_RETRIES:
        log.warning(
            "request %s still waits after %d retries; run it again when the system is back",
            outcome.request_id,
            retries,
        )
        return {"request_id": outcome.request_id, "state": outcome.state.value}
    countdown = _countdown(task)
    _record_next_attempt(runtime, outcome.request_id, countdown)
    log.info("request %s retries in %d s: %s", outcome.request_id, countdown, outcome.message)
    raise task.retry(countdown=countdown, max_retries=MAX_RETRIES)


def _state(runtime: _Runtime, request_id: str) -> RequestState | None:
    from personvern.store.db import session_scope
    from personvern.store.errors import RecordNotFoundError
    from personvern.store.requests import RequestRepository

    _datamap, session_factory = runtime.get()
    with session_scope(session_factory) as session:
        try:
            return RequestState(RequestRepository(session).get(request_id).state)
        except RecordNotFoundError:
            return None


def _record_next_attempt(runtime: _Runtime, request_id: str, countdown: int) -> None:
    """Make `request show` tell the real time of the next attempt, not the engine's default."""
    from personvern.store.db import session_scope
    from personvern.store.requests import RequestRepository

    _datamap, session_factory = runtime.get()
    with session_scope(session_factory) as session:
        request = RequestRepository(session).get(request_id)
        request.next_attempt_at = datetime.now(UTC) + timedelta(seconds=countdown)


def _record_error(runtime: _Runtime, request_id: str, message: str) -> None:
    from personvern.store.db import session_scope
    from personvern.store.requests import RequestRepository

    _datamap, session_factory = runtime.get()
    with session_scope(session_factory) as session:
        repo = RequestRepository(session)
        request = repo.get(request_id)
        request.last_error = message
        repo.add_event(request, f"run failed: {message}", "worker")


# -- the test-only pause hook -----------------------------------------------------------


@dataclass(frozen=True)
class _Pause:
    """Where a test wants the run held: after ``step`` is recorded, or just before."""

    step: str
    before_recording: bool
    marker: Path

    @classmethod
    def from_environ(cls, settings: Settings) -> _Pause | None:
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


class _PausingEngine(RequestEngine):
    """The request engine with a pause at one step, for tests that kill workers mid-run."""

    def __init__(self, pause: _Pause, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pause = pause

    def _once(self, request_id: str, step: str, action: Callable[[], dict[str, Any]]) -> Any:
        if step != self.pause.step:
            return super()._once(request_id, step, action)
        ran = False

        def act() -> dict[str, Any]:
            nonlocal ran
            outcome = action()
            ran = True
            if self.pause.before_recording:
                self.pause.hold(request_id)
            return outcome

        result = super()._once(request_id, step, act)
        # Only a run that did the step pauses; a resumed run that finds it done goes on.
        if ran and not self.pause.before_recording:
            self.pause.hold(request_id)
        return result


__all__ = [
    "DEFAULT_QUEUE",
    "TASK_NAME",
    "BrokerError",
    "BrokerNotConfiguredError",
    "BrokerUnavailableError",
    "CeleryJobs",
    "check_broker",
    "make_celery_app",
    "retry_countdown",
]
