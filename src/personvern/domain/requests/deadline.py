"""When a data subject request must be answered (GDPR Art. 12(3)).

Periods are counted per Regulation (EEC, Euratom) No 1182/71: a period in months
ends on the same date in the last month, or on that month's last day where the
date does not exist (Art. 3(2)(c)); a period ending on a Saturday, Sunday or public
holiday ends on the next working day (Art. 3(4)). The holiday calendar is a port,
so a country's calendar (or a future rule) can be swapped without touching this.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Protocol

import holidays

#: Art. 12(3): one month, extendable by two further months.
INITIAL_MONTHS = 1
EXTENSION_MONTHS = 2


class HolidayCalendar(Protocol):
    """Tells which days are public holidays in the controller's country."""

    def is_public_holiday(self, day: date) -> bool:
        """Whether ``day`` is a public holiday."""
        ...


@dataclass(frozen=True)
class CountryHolidays:
    """Public holidays of one country from the ``holidays`` package."""

    country: str

    def is_public_holiday(self, day: date) -> bool:
        """Whether ``day`` is a public holiday in the country (Sundays count via weekends)."""
        return day in _country_calendar(self.country, day.year)


@cache
def _country_calendar(country: str, year: int) -> holidays.HolidayBase:
    # Cached per country and year: a request list asks the same calendar many times.
    return holidays.country_holidays(country, years=year)


def add_months(day: date, months: int) -> date:
    """The same date ``months`` later, or the last day of that month where it does not exist."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def next_working_day(day: date, holiday_calendar: HolidayCalendar) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while day.weekday() >= 5 or holiday_calendar.is_public_holiday(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Pause:
    """A span during which the clock stood still (UK GDPR Art. 12A), ``end`` exclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Length of the pause in days."""
        return max(0, (self.end - self.start).days)


@dataclass(frozen=True)
class RequestClock:
    """The deadline of one request: received, perhaps extended, perhaps paused."""

    received_on: date
    holiday_calendar: HolidayCalendar
    extended: bool = False
    #: Pauses count only where the controller is configured for them (off for the EEA).
    pauses: tuple[Pause, ...] = field(default_factory=tuple)
    pausing_enabled: bool = False

    @property
    def paused_days(self) -> int:
        """Days the clock stood still; zero unless pausing is enabled."""
        return sum(p.days for p in self.pauses) if self.pausing_enabled else 0

    def _deadline(self, months: int) -> date:
        end = add_months(self.received_on, months) + timedelta(days=self.paused_days)
        return next_working_day(end, self.holiday_calendar)

    @property
    def initial_deadline(self) -> date:
        """One month after receipt: also the last day to tell the subject of an extension."""
        return self._deadline(INITIAL_MONTHS)

    @property
    def extended_deadline(self) -> date:
        """Three months after receipt: the latest an extended request may be answered."""
        return self._deadline(INITIAL_MONTHS + EXTENSION_MONTHS)

    @property
    def deadline(self) -> date:
        """The deadline in force."""
        return self.extended_deadline if self.extended else self.initial_deadline

    def may_extend(self, today: date) -> bool:
        """An extension must be notified, with reasons, within the first month."""
        return not self.extended and today <= self.initial_deadline

    def days_left(self, today: date) -> int:
        """Calendar days until the deadline; negative once it has passed."""
        return (self.deadline - today).days
