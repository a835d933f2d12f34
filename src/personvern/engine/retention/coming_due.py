"""What comes due: the sweep planned today and at later days, per rule and table.

The API's upcoming expiries, the console's retention page and the retention report all
ask it, each for its own horizons. Counted in each system's database as the dry run
counts (holds in force today respected); no row is read into personvern.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from personvern.engine.retention.sweep import RetentionSweep


@dataclass
class ComingDue:
    """One rule on one table: rows due today and rows stored now due by each horizon."""

    rule: str
    system: str
    dataset: str
    action: str = ""
    #: None: not counted today (its store could not be reached).
    due_now: int | None = None
    due_by: dict[int, int] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """ "system.dataset"."""
        return f"{self.system}.{self.dataset}"

    @property
    def coming(self) -> dict[int, int]:
        """Per horizon, the rows that come due after today and by then."""
        return {days: max(0, due - (self.due_now or 0)) for days, due in self.due_by.items()}


@dataclass(frozen=True)
class ComingDuePlan:
    """Every rule's line, and the rules that are not swept or could not be counted."""

    #: By system, dataset and rule; a rule that could not be counted has a line too.
    lines: list[ComingDue]
    #: (rule, why it is not swept).
    unswept: list[tuple[str, str]]
    #: (rule, why it could not be counted).
    failed: list[tuple[str, str]]


def coming_due(
    sweep_at: Callable[[datetime], RetentionSweep],
    now: datetime,
    horizons: Sequence[int],
    system: str | None = None,
) -> ComingDuePlan:
    """Plan the sweep ``now`` and ``horizons`` days ahead (of ``system``, or every one)."""
    lines: dict[tuple[str, str], ComingDue] = {}
    unswept: dict[str, str] = {}
    failed: dict[str, str] = {}
    for days in (0, *horizons):
        plan = sweep_at(now + timedelta(days=days)).plan(system)
        for table in plan.tables:
            line = lines.setdefault(
                (table.rule, table.target), ComingDue(table.rule, table.system, table.dataset)
            )
            line.action = line.action or table.action.value
            if days == 0:
                line.due_now = table.due
            else:
                line.due_by[days] = table.due
        for rule in plan.unswept:
            unswept.setdefault(rule.key, rule.reason)
        for outcome in plan.failed:
            failed.setdefault(outcome.rule, outcome.message or "could not be counted")
            # Listed all the same (its counts blank), so a report shows every rule.
            system_key, _, dataset = outcome.target.partition(".")
            lines.setdefault(
                (outcome.rule, outcome.target), ComingDue(outcome.rule, system_key, dataset)
            )
    return ComingDuePlan(
        sorted(lines.values(), key=lambda line: (line.system, line.dataset, line.rule)),
        sorted(unswept.items()),
        sorted(failed.items()),
    )
