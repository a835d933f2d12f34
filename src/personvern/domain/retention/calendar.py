"""Calendar arithmetic for retention: ISO 8601 periods added to days, financial years.

A period of months or years lands on the same day of the month, clamped to the month's
last day (31 January + P1M = 28 or 29 February), as ISO 8601 and most bookkeeping
practice count; weeks and days are added after the months. Adding is monotone: a later
day never ends before an earlier one, which lets ``due`` find the last due day.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta

from personvern.domain.retention_period import RetentionPeriod

#: The financial year ends on 31 December unless the organisation declares another day.
CALENDAR_YEAR_END = (12, 31)


def add_period(day: date, period: RetentionPeriod) -> date:
    """``day`` plus ``period``: months and years first (clamped to month end), then days."""
    months = day.month - 1 + period.months + 12 * period.years
    year = day.year + months // 12
    month = months % 12 + 1
    if year > date.max.year:
        return date.max
    last = _calendar.monthrange(year, month)[1]
    moved = date(year, month, min(day.day, last))
    extra = timedelta(days=period.days + 7 * period.weeks)
    if moved > date.max - extra:
        return date.max
    return moved + extra


def subtract_period(day: date, period: RetentionPeriod) -> date:
    """``day`` minus ``period``, counted the same way (an estimate ``due`` then corrects)."""
    months = day.month - 1 - period.months - 12 * period.years
    year = day.year + months // 12
    month = months % 12 + 1
    if year < date.min.year:
        return date.min
    last = _calendar.monthrange(year, month)[1]
    moved = date(year, month, min(day.day, last))
    extra = timedelta(days=period.days + 7 * period.weeks)
    if moved < date.min + extra:
        return date.min
    return moved - extra


@dataclass(frozen=True)
class FinancialYear:
    """The organisation's financial year, by its last day (month, day)."""

    month: int = 12
    day: int = 31

    @classmethod
    def parse(cls, text: str | None) -> FinancialYear:
        """Read "MM-DD" (the data map's ``organization.financial_year_end``); None: 12-31."""
        if text is None:
            return cls()
        month_text, _, day_text = text.partition("-")
        month, day = int(month_text), int(day_text)
        # 29 February would end no year in three of four: refused, like any impossible day.
        if not 1 <= month <= 12 or not 1 <= day <= _calendar.monthrange(2023, month)[1]:
            msg = f"'{text}' is no last day of a financial year (write MM-DD, e.g. 12-31)"
            raise ValueError(msg)
        return cls(month, day)

    def end_of(self, day: date) -> date:
        """The last day of the financial year ``day`` falls in."""
        end = date(day.year, self.month, self.day)
        return end if day <= end else date(day.year + 1, self.month, self.day)

    def previous_end(self, end: date) -> date:
        """The last day of the financial year before the one ending on ``end``."""
        return date(end.year - 1, self.month, self.day)
