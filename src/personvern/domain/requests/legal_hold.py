"""Which records the law requires the company to keep despite an erasure request (Art. 17(3)).

A retention rule with a ``legal_hold`` (bokføringsloven § 13 for invoices) keeps a
record while the hold applies, counted exactly as the retention sweep counts it
(personvern.domain.retention): ``legal_hold.period`` from the end of the financial year
the trigger falls in (``organization.financial_year_end``, 31 December by default), or
from the trigger itself with ``starts: trigger``; the trigger's day is read in the
rule's time zone and format. So an erasure keeps exactly the records a sweep would
report "held by law". A hold stated without a period (documents only) keeps a record
for the rule's own period, counted from the rule's trigger. A rule without a trigger
field of its own (invoice lines) holds a record as long as the record it references is
held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from personvern.domain.datamap import DataMap, RetentionRule, RetentionTrigger, TriggerFormat
from personvern.domain.retention.calendar import FinancialYear
from personvern.domain.retention.holds import StatutoryHold
from personvern.domain.retention.rule import statutory_hold
from personvern.domain.retention.trigger_time import trigger_day
from personvern.domain.retention_period import parse_period


@dataclass(frozen=True)
class LegalHold:
    """A dataset's legal obligation to keep records, and how to tell which."""

    dataset: str
    reference: str
    description: dict[str, str]
    rule: RetentionRule
    #: The organisation's financial year (statutory holds run from its end).
    financial_year: FinancialYear = field(default_factory=FinancialYear)

    @property
    def statutory(self) -> StatutoryHold:
        """The hold as the sweep enforces it (a period-less hold: the rule's own period)."""
        enforced = statutory_hold(self.rule, self.financial_year)
        if enforced is not None:
            return enforced
        from_year_end = self.rule.trigger is RetentionTrigger.FINANCIAL_YEAR_END
        return StatutoryHold(
            self.reference,
            parse_period(self.rule.period),
            self.financial_year if from_year_end else None,
        )

    def held_until(self, trigger_value: object) -> date | None:
        """The last day a record with ``trigger_value`` must be kept; None if unknown."""
        day = self._day(trigger_value)
        if day is None:
            return None
        return self.statutory.ends_on(day)

    def holds(self, trigger_value: object, today: date) -> bool:
        """Whether a record whose trigger field has ``trigger_value`` must still be kept."""
        until = self.held_until(trigger_value)
        # A record whose trigger date is missing or unreadable is kept: deleting
        # bookkeeping records by mistake is the failure that cannot be undone.
        return until is None or today <= until

    def _day(self, value: object) -> date | None:
        if value is None or isinstance(value, bool):
            return None
        # Without a declared format the column's type decides: a date, or a timestamp
        # (naive in UTC), as the sweep reads it; text is read from its leading date.
        fmt = self.rule.trigger_format or TriggerFormat.TIMESTAMP
        if fmt in {TriggerFormat.EPOCH_SECONDS, TriggerFormat.EPOCH_MILLIS} and not isinstance(
            value, int | str
        ):
            return None
        return trigger_day(fmt, value, self.rule.timezone)


def legal_holds(datamap: DataMap) -> dict[str, LegalHold]:
    """Every dataset the data map puts under a legal hold, by "system.dataset"."""
    year = FinancialYear.parse(datamap.organization.financial_year_end)
    holds: dict[str, LegalHold] = {}
    for rule in datamap.retention:
        if rule.legal_hold is None or rule.dataset is None:
            continue
        holds[rule.dataset] = LegalHold(
            dataset=rule.dataset,
            reference=rule.legal_hold.reference,
            description=dict(rule.legal_hold.description),
            rule=rule,
            financial_year=year,
        )
    return holds
