"""One attempt at a request's run, judged the same way by every job runner.

The in-process runner and the Celery workers used to decide retries, backoff and
failure recording each their own way (the in-process one never recorded a failure on
the request). Both now ask :class:`RunAttempts` to make the attempt and say what comes
next; they only differ in how they wait (a timer, or Celery's countdown).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from personvern.domain.requests.lifecycle import RequestState
from personvern.engine.runner import RETRY_AFTER, RunOutcome
from personvern.errors import PersonvernError
from personvern.store.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """When a run that waits for a system (or for personvern's store) is tried again."""

    #: Seconds before the first retry; doubled per retry up to ``cap_seconds``.
    first_seconds: float = 5.0
    cap_seconds: float = RETRY_AFTER.total_seconds()
    #: About a day of retries at the cap; then the request stays waiting_for_system
    #: (shown by `request show` and the API) until someone runs it again.
    max_retries: int = 300
    #: Up to this share added at random, so requests stuck on one system spread out.
    jitter: float = 0.2

    def base_delay(self, retries: int) -> float:
        """Seconds before retry number ``retries`` + 1, without jitter."""
        return float(min(self.cap_seconds, self.first_seconds * 2 ** min(retries, 32)))

    def delay(self, retries: int) -> float:
        """Seconds before retry number ``retries`` + 1, with jitter."""
        base = self.base_delay(retries)
        return base + random.uniform(0, base * self.jitter)  # noqa: S311 - not a secret


class Verdict(StrEnum):
    """What an attempt came to, and so what the runner does next."""

    #: The run ended (completed, partially completed, needs review, rejected...).
    ENDED = "ended"
    #: Try again after ``Attempt.delay`` seconds.
    RETRY = "retry"
    #: It failed in a way retrying will not cure; the error is on the request.
    FAILED = "failed"
    #: Still waiting after the policy's last retry; a person runs it again later.
    GAVE_UP = "gave_up"
    #: Nothing to run: no such request, or it is not in a state that runs.
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Attempt:
    """The result of one attempt."""

    request_id: str
    verdict: Verdict
    #: The request's state after the attempt (or "missing"), for logs and task results.
    state: str
    #: Seconds to wait before the next attempt (RETRY only).
    delay: float | None = None
    error: str | None = None


class AttemptRecords:
    """What an attempt reads and writes in personvern's store besides the run itself."""

    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        """Read and write through units of work from ``unit_of_work``."""
        self._unit_of_work = unit_of_work

    def state(self, request_id: str) -> RequestState | None:
        """The request's state, or None if there is no such request."""
        from personvern.store.errors import RecordNotFoundError

        with self._unit_of_work() as uow:
            try:
                return uow.requests.get(request_id).state
            except RecordNotFoundError:
                return None

    def failed(self, request_id: str, message: str, actor: str) -> None:
        """Keep the error on the request, where `request show` and the API show it."""
        with self._unit_of_work() as uow:
            request = uow.requests.get(request_id)
            request.last_error = message
            uow.requests.add_event(request, f"run failed: {message}", actor)

    def next_attempt(self, request_id: str, delay: float) -> None:
        """Make `request show` tell the real time of the next attempt."""
        with self._unit_of_work() as uow:
            request = uow.requests.get(request_id)
            request.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)


class RunAttempts:
    """Makes attempts at runs and judges them; the job runners act on the verdict."""

    def __init__(
        self,
        run: Callable[[str], RunOutcome],
        records: AttemptRecords | None,
        *,
        policy: RetryPolicy | None = None,
        actor: str = "worker",
    ) -> None:
        self._run = run
        self._records = records
        self.policy = policy or RetryPolicy()
        self.actor = actor

    def attempt(self, request_id: str, retries: int) -> Attempt:
        """Run the request once (the ``retries``-th retry) and say what comes next."""
        import sqlalchemy as sa

        from personvern.store.errors import StoreUnavailableError

        try:
            skipped = self._nothing_to_run(request_id)
            if skipped is not None:
                return skipped
            outcome = self._run(request_id)
        except (StoreUnavailableError, sa.exc.OperationalError, sa.exc.IntegrityError) as exc:
            # personvern's own store is down (nothing can be recorded), or another runner
            # recorded a step of the same request first (a later attempt finds the
            # request done, or resumes after that step): try again later.
            delay = self.policy.delay(retries)
            log.warning("request %s: %s; retry in %.0f s", request_id, type(exc).__name__, delay)
            return Attempt(request_id, Verdict.RETRY, "unknown", delay)
        except PersonvernError as exc:
            # Expected failures (a connector refusing a step) need a person; retrying
            # would fail the same way, so the error is kept on the request.
            log.error("request %s failed: %s", request_id, exc)
            return self._failed(request_id, str(exc))
        except Exception:
            # The details may name data: they go to the log, the request says where.
            log.exception("request %s failed unexpectedly", request_id)
            return self._failed(request_id, "an unexpected error stopped the run; see the log")
        return self._judged(outcome, retries)

    def _nothing_to_run(self, request_id: str) -> Attempt | None:
        """An attempt that is skipped: no such request, or one in a state that does not run."""
        if self._records is None:
            return None
        state = self._records.state(request_id)
        if state is None:
            log.warning("request %s does not exist; nothing to run", request_id)
            return Attempt(request_id, Verdict.SKIPPED, "missing")
        if not state.is_runnable:
            # A message delivered again after its run finished (a worker killed between
            # the last commit and the ack), or a request moved on since.
            log.info("request %s is %s; nothing to run", request_id, state.value)
            return Attempt(request_id, Verdict.SKIPPED, state.value)
        return None

    def _judged(self, outcome: RunOutcome, retries: int) -> Attempt:
        """What comes after a run that returned: the end, or another try later."""
        request_id = outcome.request_id
        if outcome.state is not RequestState.WAITING_FOR_SYSTEM:
            return Attempt(request_id, Verdict.ENDED, outcome.state.value)
        if retries >= self.policy.max_retries:
            log.warning(
                "request %s still waits after %d retries; run it again when the system is back",
                request_id,
                retries,
            )
            return Attempt(request_id, Verdict.GAVE_UP, outcome.state.value)
        delay = self.policy.delay(retries)
        if self._records is not None:
            self._records.next_attempt(request_id, delay)
        log.info("request %s retries in %.0f s: %s", request_id, delay, outcome.message)
        return Attempt(request_id, Verdict.RETRY, outcome.state.value, delay)

    def _failed(self, request_id: str, message: str) -> Attempt:
        if self._records is not None:
            try:
                self._records.failed(request_id, message, self.actor)
            except Exception:
                log.exception("request %s: the failure could not be recorded", request_id)
        return Attempt(request_id, Verdict.FAILED, "failed", error=message)
