"""Starts the retention runs the data map's schedules make due, wherever the scheduler runs.

The server's in-process scheduler and Celery beat on the workers both call
:meth:`RetentionScheduler.tick` every minute or so. A tick looks back over two
intervals, so a late tick misses nothing; a scheduled time is started once because
taking the system's lock is refused when a run started at or after that time
(personvern.store.retention_locks), however many schedulers saw it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from personvern.domain.datamap import DataMap
from personvern.domain.retention.own_records import OWN_SYSTEM, own_record_rules
from personvern.domain.retention.run_status import RunAlreadyStartedError, RunInProgressError
from personvern.domain.retention.schedule import SweepSchedule, due_runs
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
    ) -> None:
        """Ticks every ``interval``; ``submit`` queues a started run (in-process or Celery).

        ``extra``: schedules from outside the data map (see :func:`own_records_schedule`).
        """
        self.datamap = datamap
        self.runs = runs
        self.submit = submit
        self.interval = interval
        self.extra = tuple(extra)

    def tick(self, now: datetime) -> list[str]:
        """Start and submit every run due in the look-back window ending ``now``; their ids."""
        started: list[str] = []
        due = due_runs(self.datamap(), now - 2 * self.interval, now, self.extra)
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
                log.info("scheduled retention run on %s skipped: a run holds it", run.system)
                continue
            except PersonvernError as exc:
                log.error("scheduled retention run on %s not started: %s", run.system, exc)
                continue
            log.info(
                "scheduled retention run %s on %s (due %s)",
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
