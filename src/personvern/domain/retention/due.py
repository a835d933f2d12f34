"""When a record's period has run, and which trigger days are due on a given day.

A record is kept through its expiry day (trigger day + period, or end of the financial
year + period) and due from the day after: a row collected on 1 March with P30D is kept
through 31 March and due on 1 April. Days are counted in the rule's time zone; the
time of day of the trigger does not matter, so the whole period is always kept.

A sweep asks the database for every row whose trigger day is on or before the *last
due day*: the latest trigger day that is due today. Because adding a period is monotone,
every earlier day is due too, and one comparison on the trigger column finds them all.
"""

from __future__ import annotations

from datetime import date, timedelta

from personvern.domain.retention.calendar import (
    FinancialYear,
    add_period,
    subtract_period,
)
from personvern.domain.retention_period import RetentionPeriod

_DAY = timedelta(days=1)


def expires_on(
    trigger_day: date,
    period: RetentionPeriod,
    *,
    from_year_end: FinancialYear | None = None,
) -> date:
    """The last day the record is kept: ``from_year_end`` counts from its financial year's end."""
    start = trigger_day if from_year_end is None else from_year_end.end_of(trigger_day)
    return add_period(start, period)


def is_due(
    trigger_day: date,
    period: RetentionPeriod,
    today: date,
    *,
    from_year_end: FinancialYear | None = None,
) -> bool:
    """Whether the record's period has run by ``today`` (it is kept through its expiry day)."""
    return expires_on(trigger_day, period, from_year_end=from_year_end) < today


def last_due_day(
    period: RetentionPeriod,
    today: date,
    *,
    from_year_end: FinancialYear | None = None,
) -> date | None:
    """The latest trigger day due on ``today``; None when no day can be due yet."""
    if from_year_end is not None:
        end = from_year_end.end_of(today)
        # At most one step per year of the period, and one for the year running.
        while add_period(end, period) >= today:
            if end.year <= date.min.year + 1:
                return None
            end = from_year_end.previous_end(end)
        return end
    day = subtract_period(today, period)
    while add_period(day, period) >= today:
        if day == date.min:
            return None
        day -= _DAY
    # Month-end clamping lets later days share an expiry (29-31 January + P1M).
    while day < date.max and add_period(day + _DAY, period) < today:
        day += _DAY
    return day
