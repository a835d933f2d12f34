"""When retention sweeps run by themselves: cron schedules of the data map, and which are due.

A system may carry ``schedule: "0 3 * * *"``: all its rules are swept then. A rule may
carry its own: that rule is swept then, and not with its system's schedule. Schedules
are read in UTC, a rule's in its ``timezone`` when it names one (03:00 in Oslo is 03:00
in Oslo in summer and winter). A schedule is due at a tick when one of its times falls
after the previous tick and not after this one. A time the scheduler was not running
for is caught up once when it starts (personvern.domain.retention.catch_up).

The expressions themselves are checked by personvern.domain.retention.cron.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from personvern.domain.datamap import DataMap


@dataclass(frozen=True)
class SweepSchedule:
    """A scheduled sweep: a system's rules (``rules`` empty: all not scheduled apart)."""

    system: str
    expression: str
    timezone: str = "UTC"
    #: The rule keys this schedule sweeps; empty: the system's rules without their own.
    rules: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """How logs and evidence name the schedule ("crm" or "crm/web-events")."""
        return self.system if not self.rules else f"{self.system}/{','.join(self.rules)}"

    def times_between(self, since: datetime, until: datetime) -> list[datetime]:
        """The schedule's times after ``since`` and not after ``until`` (aware, in UTC)."""
        zone = ZoneInfo(self.timezone)
        times = croniter(self.expression, since.astimezone(zone))
        found: list[datetime] = []
        while True:
            after = times.get_next(datetime)
            if after > until:
                return found
            found.append(after.astimezone(UTC))
            if len(found) > 1440 * 31:  # pragma: no cover - a month of minutes is enough
                return found

    def latest_time(self, now: datetime) -> datetime:
        """The schedule's latest time at or before ``now`` (aware, in UTC)."""
        zone = ZoneInfo(self.timezone)
        # croniter's previous time is strictly before its start: start a microsecond on.
        times = croniter(self.expression, (now + timedelta(microseconds=1)).astimezone(zone))
        latest: datetime = times.get_prev(datetime)
        return latest.astimezone(UTC)


@dataclass(frozen=True)
class DueSweep:
    """A sweep that is due: its schedule and the time it was due (the latest one passed)."""

    schedule: SweepSchedule
    due_at: datetime


def schedules(datamap: DataMap) -> list[SweepSchedule]:
    """Every schedule of the data map: one per system that has one, one per rule that has one."""
    found: list[SweepSchedule] = []
    own = {
        rule.key
        for rule in datamap.retention
        if rule.schedule is not None and rule.dataset is not None
    }
    for system in datamap.systems:
        if system.schedule is None:
            continue
        # A system's schedule sweeps only rules without their own (named by the sweep).
        if any(
            (rule.dataset or "").startswith(f"{system.key}.") and rule.key not in own
            for rule in datamap.retention
        ):
            found.append(SweepSchedule(system.key, system.schedule))
    for rule in datamap.retention:
        if rule.schedule is None or rule.dataset is None:
            continue
        system_key = rule.dataset.partition(".")[0]
        found.append(SweepSchedule(system_key, rule.schedule, rule.timezone or "UTC", (rule.key,)))
    return found


def rules_scheduled_apart(datamap: DataMap) -> frozenset[str]:
    """Keys of rules with a schedule of their own (a system's scheduled sweep leaves them)."""
    return frozenset(r.key for r in datamap.retention if r.schedule is not None)


def due_sweeps(scheduled: list[SweepSchedule], since: datetime, until: datetime) -> list[DueSweep]:
    """The schedules with a time after ``since`` and not after ``until``, each once."""
    if since.tzinfo is None or until.tzinfo is None:
        msg = "since and until must be aware datetimes"
        raise ValueError(msg)
    due: list[DueSweep] = []
    for schedule in scheduled:
        times = schedule.times_between(since, until)
        if times:
            due.append(DueSweep(schedule, times[-1]))
    return due


@dataclass(frozen=True)
class DueRun:
    """A run the schedules make due: one system, the rules to sweep, the latest time passed."""

    system: str
    rules: frozenset[str]
    due_at: datetime


def due_runs(
    datamap: DataMap,
    since: datetime,
    until: datetime,
    extra: Sequence[SweepSchedule] = (),
) -> list[DueRun]:
    """The runs due between ``since`` (excluded) and ``until``: one per system, rules merged.

    One run per system, because a system is swept by one run at a time: a rule's own
    schedule and its system's falling in the same tick become one run of both.
    ``extra`` are schedules from outside the data map (personvern's own records), each
    naming its rules.
    """
    return merge_due(datamap, due_sweeps([*schedules(datamap), *extra], since, until))


def schedule_rules(datamap: DataMap, schedule: SweepSchedule) -> frozenset[str]:
    """The rule keys ``schedule`` sweeps: its own, or its system's not scheduled apart."""
    if schedule.rules:
        return frozenset(schedule.rules)
    apart = rules_scheduled_apart(datamap)
    return frozenset(
        rule.key
        for rule in datamap.retention
        if (rule.dataset or "").startswith(f"{schedule.system}.") and rule.key not in apart
    )


def merge_due(datamap: DataMap, due: Sequence[DueSweep]) -> list[DueRun]:
    """One run per system of the due sweeps: their rules merged, due at the latest time."""
    merged: dict[str, tuple[frozenset[str], datetime]] = {}
    for sweep in due:
        system = sweep.schedule.system
        rules, latest = merged.get(system, (frozenset(), sweep.due_at))
        merged[system] = (
            rules | schedule_rules(datamap, sweep.schedule),
            max(latest, sweep.due_at),
        )
    return [DueRun(system, rules, due_at) for system, (rules, due_at) in sorted(merged.items())]
