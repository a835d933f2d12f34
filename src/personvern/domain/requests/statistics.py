"""How the privacy office is doing with its requests: the figures behind the staff overview.

Every figure is about requests, never about their subjects: counts per ISO week and
type, days from receipt to completion, open requests by how close their deadline is,
and the systems that made requests wait or left manual steps. The store hands these
functions already-aggregated rows; nothing here needs (or may be given) an identity.

Percentiles are linearly interpolated between the closest ranks (Hyndman and Fan's
type 7, the default of numpy, R and spreadsheets' PERCENTILE.INC): the median of
two values is their mean, and the 95th percentile of 1..20 days is 19.05.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.requests.urgency import OPEN_URGENCIES, Urgency

#: What "one month" (Art. 12(3)) is drawn as: the exact deadline of each request is
#: counted per Regulation 1182/71 (deadline.py); the chart needs one line.
DEADLINE_DAYS = 30
#: An open request with fewer days than this left is at risk (the inbox colours it too).
#: The most weeks an overview may ask for: two years of weekly bars is already unreadable.
MAX_WEEKS = 104


@dataclass(frozen=True, order=True)
class IsoWeek:
    """One ISO 8601 week (Monday to Sunday), e.g. 2026-W05."""

    year: int
    week: int

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        """The ISO week ``day`` falls in (the first days of January may be last year's)."""
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @property
    def monday(self) -> date:
        """The first day of the week."""
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def next_monday(self) -> date:
        """The first day after the week (the end of the week, exclusive)."""
        return self.monday + timedelta(days=7)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def last_weeks(today: date, weeks: int) -> tuple[IsoWeek, ...]:
    """The ``weeks`` ISO weeks up to and including the one of ``today``, oldest first."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be between 1 and {MAX_WEEKS}, got {weeks}")
    this_monday = IsoWeek.of(today).monday
    return tuple(
        IsoWeek.of(this_monday - timedelta(weeks=back)) for back in range(weeks - 1, -1, -1)
    )


@dataclass(frozen=True)
class WeeklyCount:
    """Requests received in one ISO week, per type (every type present, zero included)."""

    week: IsoWeek
    by_type: Mapping[RequestType, int]

    @property
    def total(self) -> int:
        """Requests of every type received that week."""
        return sum(self.by_type.values())


def weekly_counts(
    received: Iterable[tuple[date, RequestType | str, int]], *, today: date, weeks: int
) -> tuple[WeeklyCount, ...]:
    """Per ISO week of the last ``weeks`` (oldest first), how many requests of each type came in.

    ``received`` holds (day, type, count) rows in any grouping finer than a week (a day,
    a week's Monday); rows outside the window are ignored, and weeks without requests
    are there with zeros so a chart's time axis has no holes.
    """
    window = last_weeks(today, weeks)
    counts: dict[IsoWeek, dict[RequestType, int]] = {
        week: dict.fromkeys(RequestType, 0) for week in window
    }
    for day, request_type, count in received:
        bucket = counts.get(IsoWeek.of(day))
        if bucket is not None and day <= today:
            bucket[RequestType(request_type)] += int(count)
    return tuple(WeeklyCount(week, counts[week]) for week in window)


def percentile(values: Sequence[float], rank: float) -> float:
    """The ``rank``-th percentile (0-100) of ``values``, linearly interpolated (type 7)."""
    if not values:
        raise ValueError("the percentile of no values is undefined")
    if not 0 <= rank <= 100:
        raise ValueError(f"a percentile rank is between 0 and 100, got {rank}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * rank / 100
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@dataclass(frozen=True)
class Completion:
    """One completed request: when it came in, when it was completed and its deadline."""

    received_on: date
    completed_on: date
    #: The deadline in force when it was completed (the extended one if it was extended).
    deadline: date

    @property
    def days(self) -> int:
        """Calendar days from receipt to completion."""
        return (self.completed_on - self.received_on).days

    @property
    def on_time(self) -> bool:
        """Whether it was completed on or before its deadline."""
        return self.completed_on <= self.deadline


@dataclass(frozen=True)
class CompletionSummary:
    """Days to completion of the requests completed in a period, against the deadline."""

    count: int
    #: None when no request was completed (a median of nothing is not zero days).
    median_days: float | None
    p95_days: float | None
    within_deadline: int
    deadline_days: int = DEADLINE_DAYS

    @property
    def share_within_deadline(self) -> float | None:
        """The fraction (0-1) completed on time; None when none was completed."""
        return self.within_deadline / self.count if self.count else None


def completion_summary(completions: Iterable[Completion]) -> CompletionSummary:
    """Median and 95th percentile of days to completion, and how many met their deadline."""
    done = list(completions)
    days = [float(c.days) for c in done]
    return CompletionSummary(
        count=len(done),
        median_days=percentile(days, 50) if days else None,
        p95_days=percentile(days, 95) if days else None,
        within_deadline=sum(1 for c in done if c.on_time),
    )


@dataclass(frozen=True)
class AtRiskRequest:
    """An open request that is overdue or due soon (ids only: the overview links to it)."""

    request_id: str
    type: RequestType
    state: RequestState
    deadline: date
    days_left: int

    @property
    def urgency(self) -> Urgency:
        """Overdue or due soon."""
        return Urgency.OVERDUE if self.days_left < 0 else Urgency.AT_RISK


@dataclass(frozen=True)
class OpenRequests:
    """The open requests by urgency, and the most urgent of those at risk."""

    by_urgency: Mapping[Urgency, int]
    #: The at-risk requests, most urgent first (a page shows the first few).
    at_risk: tuple[AtRiskRequest, ...] = ()

    @property
    def total(self) -> int:
        """Open requests of every urgency."""
        return sum(self.by_urgency.values())

    @property
    def at_risk_count(self) -> int:
        """Open requests that are overdue or due soon (all of them, not only those listed)."""
        return sum(n for u, n in self.by_urgency.items() if u.at_risk)


def open_requests(
    counts: Iterable[tuple[Urgency | str, int]], at_risk: Iterable[AtRiskRequest] = ()
) -> OpenRequests:
    """Open requests summed per urgency (every urgency present), at-risk ones most urgent first."""
    by_urgency = dict.fromkeys(OPEN_URGENCIES, 0)
    for level, count in counts:
        by_urgency[Urgency(level)] += int(count)
    ordered = sorted(at_risk, key=lambda r: (r.days_left, r.deadline, r.request_id))
    return OpenRequests(by_urgency, tuple(ordered))


def task_system(task_key: str, systems: Collection[str] = ()) -> str:
    """The system a manual step's key ("system" or "system.dataset") belongs to.

    System keys may hold dots themselves, so the longest known system key the task key
    starts with wins; without the data map's keys, the part before the first dot.
    """
    matches = [s for s in systems if task_key == s or task_key.startswith(f"{s}.")]
    if matches:
        return max(matches, key=len)
    return task_key.partition(".")[0]


@dataclass(frozen=True)
class SystemStrain:
    """How many requests one system made wait, and how many it left manual steps for."""

    system: str
    waited: int = 0
    manual_steps: int = 0

    @property
    def total(self) -> int:
        """Both counts together (a request may count in each)."""
        return self.waited + self.manual_steps


def system_strain(
    waited: Mapping[str, int], manual_steps: Mapping[str, int]
) -> tuple[SystemStrain, ...]:
    """One row per system that made a request wait or needed manual steps, worst first."""
    rows: dict[str, dict[str, int]] = defaultdict(lambda: {"waited": 0, "manual_steps": 0})
    for system, count in waited.items():
        rows[system]["waited"] += int(count)
    for system, count in manual_steps.items():
        rows[system]["manual_steps"] += int(count)
    strain = [SystemStrain(system, **counts) for system, counts in rows.items()]
    return tuple(
        sorted((s for s in strain if s.total), key=lambda s: (-s.total, -s.waited, s.system))
    )


@dataclass(frozen=True)
class RequestStatistics:
    """Everything the staff overview shows, for the ``weeks`` ISO weeks up to ``today``."""

    today: date
    weekly: tuple[WeeklyCount, ...]
    completion: CompletionSummary
    open: OpenRequests
    systems: tuple[SystemStrain, ...] = field(default_factory=tuple)

    @property
    def since(self) -> date:
        """The first day the period covers (the Monday of its first week)."""
        return self.weekly[0].week.monday if self.weekly else self.today

    @property
    def received(self) -> int:
        """Requests received in the period."""
        return sum(w.total for w in self.weekly)

    @property
    def is_empty(self) -> bool:
        """Whether there is nothing to chart: nothing received, completed or open."""
        return not (self.received or self.completion.count or self.open.total or self.systems)
