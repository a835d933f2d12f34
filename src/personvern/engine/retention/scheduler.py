"""Starts the retention runs the data map's schedules make due, wherever the scheduler runs.

The server's in-process scheduler and Celery beat on the workers both call
:meth:`RetentionScheduler.tick` every minute or so. A tick looks back over two
intervals, so a late tick misses nothing; a scheduled time is started once because
taking the system's lock is refused when a run started at or after that time
(personvern.store.retention_locks), however many schedulers saw it.

When a scheduler starts (the server's first tick; beat's start sends a tick that
catches up), times missed while none ran are caught up: one run per system whose
schedule's latest time is later than the latest recorded run covering it
(personvern.domain.retention.catch_up). With a broker, every tick also marks failed
the queued runs no worker picked up before their lease ran out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from personvern.domain.datamap import DataMap
from personvern.domain.retention.catch_up import missed_runs
from personvern.domain.retention.own_records import OWN_SYSTEM, own_record_rules
from personvern.domain.retention.run_status import RunAlreadyStartedError, RunInProgressError
from personvern.domain.retention.schedule import DueRun, SweepSchedule, due_runs
from personvern.engine.retention.runs import RetentionRuns
from personvern.errors import PersonvernError

log = logging.getLogger(__name__)

#: Who scheduled runs are recorded as, in the evidence and the audit trail.
SCHEDULER = "scheduler"


class RetentionScheduler:
    """Finds due runs at each tick, starts them and hands them to ``submit`` to execute."""

    def __init__(
        self,
        datamap: Callable[[], DataMap],
        runs: Callable[[], RetentionRuns],
        submit: Callable[[str], object],
        *,
        interval: timedelta,
        extra: Sequence[SweepSchedule] = (),
        catch_up: bool = True,
        fail_unstarted: bool = False,
    ) -> None:
        """Ticks every ``interval``; ``submit`` queues a started run (in-process or Celery).

        ``extra``: schedules from outside the data map (see :func:`own_records_schedule`).
        ``catch_up``: the first tick first starts the runs of times missed while no
        scheduler ran. ``fail_unstarted``: every tick marks failed the queued runs no
        worker picked up before their lease ran out (with a broker, where a message
        can be lost; embedded, the server queues its runs again when it starts).
        """
        self.datamap = datamap
        self.runs = runs
        self.submit = submit
        self.interval = interval
        self.extra = tuple(extra)
        self.fail_unstarted = fail_unstarted
        self._catch_up = catch_up

    def tick(self, now: datetime) -> list[str]:
        """Start and submit every run due in the look-back window ending ``now``; their ids.

        The first tick of a scheduler made with ``catch_up`` starts the missed ones first.
        """
        started: list[str] = []
        if self.fail_unstarted:
            self.runs().fail_unstarted()
        if self._catch_up:
            started += self.catch_up(now)
            # Only once it went through: a store not reachable at start is tried again.
            self._catch_up = False
        due = due_runs(self.datamap(), now - 2 * self.interval, now, self.extra)
        return started + self._start(due, "scheduled")

    def catch_up(self, now: datetime) -> list[str]:
        """Start one run per system for the scheduled times missed before ``now``; their ids."""
        runs = self.runs()
        missed = missed_runs(self.datamap(), now, runs.past_runs(), self.extra)
        return self._start(missed, "missed")

    def _start(self, due: Sequence[DueRun], why: str) -> list[str]:
        started: list[str] = []
        if not due:
            return started
        runs = self.runs()
        for run in due:
            try:
                begun = runs.start(
                    run.system,
                    requested_by=SCHEDULER,
                    only=run.rules,
                    started_before=run.due_at,
                )
            except RunAlreadyStartedError:
                continue
            except RunInProgressError:
                log.info("%s retention run on %s skipped: a run holds it", why, run.system)
                continue
            except PersonvernError as exc:
                log.error("%s retention run on %s not started: %s", why, run.system, exc)
                continue
            log.info(
                "%s retention run %s on %s (due %s)",
                why,
                begun.run_id,
                run.system,
                run.due_at.isoformat(),
            )
            self.submit(begun.run_id)
            started.append(begun.run_id)
        return started


def own_records_schedule(expression: str) -> tuple[SweepSchedule, ...]:
    """The schedule of personvern's own records (``PERSONVERN_RETENTION_OWN_SCHEDULE``).

    An empty expression schedules nothing: they are then swept only by
    `personvern retention run` (all systems, or ``--system personvern``).
    """
    if not expression.strip():
        return ()
    keys = tuple(rule.key for rule in own_record_rules())
    return (SweepSchedule(OWN_SYSTEM, expression, "UTC", keys),)
