"""Scheduled times missed while no scheduler ran, caught up once when one starts.

A schedule's latest time before now was missed when no recorded run has swept all of
the schedule's rules since that time: the server (or beat) was down, or its run was
never picked up. One run catches it up, however many times were missed: each run sweeps
everything due by then.

A schedule no recorded run has ever covered is not caught up: on a fresh install, or
for a system or rule just given its schedule, there is nothing missed, only a first
time to come, and that first sweep (perhaps a large one, stopping at the safety stop)
happens at the hour the data map chose rather than whenever the server happens to
start. A run that never started (queued, then failed without being picked up, or not
queued at all) is no run here: its time is still missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from personvern.domain.datamap import DataMap
from personvern.domain.retention.schedule import (
    DueRun,
    DueSweep,
    SweepSchedule,
    merge_due,
    schedule_rules,
    schedules,
)


@dataclass(frozen=True)
class PastRun:
    """A recorded run as catching up weighs it: what it swept and when it was asked for."""

    #: None: every system.
    system: str | None
    #: None: every rule of the system(s).
    rules: frozenset[str] | None
    requested_at: datetime

    def covers(self, system: str, rules: frozenset[str]) -> bool:
        """Whether this run swept every one of ``rules`` of ``system``."""
        if self.system is not None and self.system != system:
            return False
        return self.rules is None or rules <= self.rules


def last_covering(past: Iterable[PastRun], system: str, rules: frozenset[str]) -> datetime | None:
    """When the latest run that swept all of ``rules`` of ``system`` was asked for (None: never)."""
    times = [run.requested_at for run in past if run.covers(system, rules)]
    return max(times, default=None)


def missed_runs(
    datamap: DataMap,
    now: datetime,
    past: Sequence[PastRun],
    extra: Sequence[SweepSchedule] = (),
) -> list[DueRun]:
    """The runs to start now to catch up missed times: one per system, rules merged.

    A schedule is missed when its latest time at or before ``now`` is later than the
    latest past run covering it; one no past run covers is not (see the module).
    """
    if now.tzinfo is None:
        msg = "now must be an aware datetime"
        raise ValueError(msg)
    missed: list[DueSweep] = []
    for schedule in [*schedules(datamap), *extra]:
        rules = schedule_rules(datamap, schedule)
        last = last_covering(past, schedule.system, rules)
        if last is None:
            continue
        latest = schedule.latest_time(now)
        if latest > last:
            missed.append(DueSweep(schedule, latest))
    return merge_due(datamap, missed)
