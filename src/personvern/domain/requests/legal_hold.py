"""Which records the law requires the company to keep despite an erasure request (Art. 17(3)).

A retention rule with a ``legal_hold`` (bokføringsloven § 13 for invoices) keeps a
record until its period has run from the rule's trigger: five years after the end of
the financial year the invoice belongs to. A rule without a trigger field of its own
(invoice lines) holds a record as long as the record it references is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from personvern.domain.datamap import DataMap, RetentionRule, RetentionTrigger
from personvern.domain.requests.deadline import add_months
from personvern.domain.retention_period import parse_period


@dataclass(frozen=True)
class LegalHold:
    """A dataset's legal obligation to keep records, and how to tell which."""

    dataset: str
    reference: str
    description: dict[str, str]
    rule: RetentionRule

    def held_until(self, trigger_value: object) -> date | None:
        """The last day a record with ``trigger_value`` must be kept; None if unknown."""
        start = _as_date(trigger_value)
        if start is None:
            return None
        if self.rule.trigger is RetentionTrigger.FINANCIAL_YEAR_END:
            # The financial year is the calendar year unless the company says otherwise
            # (regnskapsloven § 1-7); the data map has no field for another year-end yet.
            start = date(start.year, 12, 31)
        period = parse_period(self.rule.period)
        end = add_months(start, period.years * 12 + period.months)
        return end + timedelta(weeks=period.weeks, days=period.days)

    def holds(self, trigger_value: object, today: date) -> bool:
        """Whether a record whose trigger field has ``trigger_value`` must still be kept."""
        until = self.held_until(trigger_value)
        # A record whose trigger date is missing or unreadable is kept: deleting
        # bookkeeping records by mistake is the failure that cannot be undone.
        return until is None or today <= until


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def legal_holds(datamap: DataMap) -> dict[str, LegalHold]:
    """Every dataset the data map puts under a legal hold, by "system.dataset"."""
    holds: dict[str, LegalHold] = {}
    for rule in datamap.retention:
        if rule.legal_hold is None or rule.dataset is None:
            continue
        holds[rule.dataset] = LegalHold(
            dataset=rule.dataset,
            reference=rule.legal_hold.reference,
            description=dict(rule.legal_hold.description),
            rule=rule,
        )
    return holds
