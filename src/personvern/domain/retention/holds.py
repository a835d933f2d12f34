"""What keeps a record past its retention period, and which hold wins.

Two kinds of hold override a rule: a statutory hold named in the data map (bokføringsloven
§ 13 keeps primary documentation five years from the end of the financial year,
secondary three and a half) and a hold staff place on one record (a legal claim, a
dispute) with a reason and an expiry. A record whose rule has run is kept while any
hold still applies, until the latest of them ends; a hold without an expiry keeps it
until staff lift it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from personvern.domain.retention.calendar import FinancialYear
from personvern.domain.retention.due import expires_on, last_due_day
from personvern.domain.retention_period import RetentionPeriod


@dataclass(frozen=True)
class StatutoryHold:
    """A legal duty to keep a record for a period (its source named for the evidence)."""

    reference: str
    period: RetentionPeriod
    #: Counted from the end of the trigger's financial year (None: from the trigger day).
    from_year_end: FinancialYear | None

    def ends_on(self, trigger_day: date) -> date:
        """The last day the hold keeps a record whose trigger fell on ``trigger_day``."""
        return expires_on(trigger_day, self.period, from_year_end=self.from_year_end)

    def last_released_day(self, today: date) -> date | None:
        """The latest trigger day whose hold has ended by ``today``."""
        return last_due_day(self.period, today, from_year_end=self.from_year_end)


@dataclass(frozen=True)
class SubjectHold:
    """A hold staff placed on one record: why, by whom, and until when (None: until lifted)."""

    #: "system.dataset" of the record.
    dataset: str
    #: The record's key, as text.
    record_key: str
    reason: str
    placed_by: str
    expires_on: date | None = None

    def applies_on(self, today: date) -> bool:
        """Whether the hold still keeps the record on ``today`` (through its expiry day)."""
        return self.expires_on is None or today <= self.expires_on


class Verdict(StrEnum):
    """What a sweep does with one record today."""

    #: The rule's period has not run.
    KEPT = "kept"
    #: The period has run and nothing holds the record: delete or anonymise it.
    DUE = "due"
    #: The period has run, but a statutory hold keeps the record.
    HELD_BY_LAW = "held_by_law"
    #: The period has run, but a hold staff placed keeps the record.
    HELD_BY_STAFF = "held_by_staff"


@dataclass(frozen=True)
class Decision:
    """A verdict, until when the record is kept (None: open-ended) and why."""

    verdict: Verdict
    kept_until: date | None
    reason: str | None = None


def decide(
    trigger_day: date,
    today: date,
    period: RetentionPeriod,
    *,
    from_year_end: FinancialYear | None = None,
    statutory: StatutoryHold | None = None,
    staff_holds: tuple[SubjectHold, ...] = (),
) -> Decision:
    """The verdict on a record whose trigger fell on ``trigger_day``, on ``today``.

    The rule first: a record inside its period is kept whatever holds say. Past it, every
    hold that still applies keeps it, and the one ending last decides the date and
    reason; a statutory hold and a staff hold ending the same day are reported as the
    statutory one, since it is the one an auditor asks about.
    """
    rule_end = expires_on(trigger_day, period, from_year_end=from_year_end)
    if rule_end >= today:
        return Decision(Verdict.KEPT, rule_end)
    candidates: list[tuple[date | None, Verdict, str]] = []
    if statutory is not None:
        hold_end = statutory.ends_on(trigger_day)
        if hold_end >= today:
            candidates.append((hold_end, Verdict.HELD_BY_LAW, statutory.reference))
    for hold in staff_holds:
        if hold.applies_on(today):
            candidates.append((hold.expires_on, Verdict.HELD_BY_STAFF, hold.reason))
    if not candidates:
        return Decision(Verdict.DUE, rule_end)
    until, verdict, reason = max(
        candidates,
        key=lambda c: (c[0] is None, c[0] or date.min, c[1] is Verdict.HELD_BY_LAW),
    )
    return Decision(verdict, until, reason)
