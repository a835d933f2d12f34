"""Art. 12(3) deadlines counted per Regulation 1182/71, with Norwegian holidays."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.domain.requests.deadline import (
    CountryHolidays,
    Pause,
    RequestClock,
    add_months,
)

NORWAY = CountryHolidays("NO")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 1, 15), 12, date(2027, 1, 15)),
    ],
)
def test_add_months_same_date_or_last_day(start: date, months: int, expected: date) -> None:
    assert expected == add_months(start, months)


@pytest.mark.parametrize(
    ("received", "deadline", "why"),
    [
        (date(2026, 3, 10), date(2026, 4, 10), "a Friday, a working day"),
        (date(2026, 1, 31), date(2026, 3, 2), "28 Feb 2026 is a Saturday"),
        (date(2024, 1, 31), date(2024, 2, 29), "29 Feb 2024 exists and is a Thursday"),
        (date(2026, 3, 2), date(2026, 4, 7), "Maundy Thursday to Easter Monday 2026"),
        (date(2027, 4, 17), date(2027, 5, 18), "17 May 2027 is a Monday"),
        (date(2026, 11, 25), date(2026, 12, 28), "Christmas Day, Boxing Day, Sunday"),
        (date(2026, 4, 25), date(2026, 5, 26), "25 May 2026 is Whit Monday"),
        (date(2026, 4, 30), date(2026, 6, 1), "30 May 2026 is a Saturday"),
    ],
)
def test_initial_deadline(received: date, deadline: date, why: str) -> None:
    assert deadline == RequestClock(received, NORWAY).initial_deadline, why


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (date(2026, 1, 31), date(2026, 4, 30)),
        (date(2026, 11, 30), date(2027, 3, 1)),  # 28 Feb 2027 is a Sunday
        (date(2027, 1, 1), date(2027, 4, 1)),
    ],
)
def test_extended_deadline_is_three_months(received: date, deadline: date) -> None:
    clock = RequestClock(received, NORWAY, extended=True)
    assert deadline == clock.deadline


def test_extension_must_be_notified_within_the_first_month() -> None:
    clock = RequestClock(date(2026, 3, 10), NORWAY)
    assert (True, False) == (
        clock.may_extend(date(2026, 4, 10)),
        clock.may_extend(date(2026, 4, 11)),
    )


def test_pauses_count_only_when_enabled() -> None:
    pause = (Pause(date(2026, 3, 12), date(2026, 3, 19)),)
    eea = RequestClock(date(2026, 3, 10), NORWAY, pauses=pause)
    uk = RequestClock(date(2026, 3, 10), CountryHolidays("GB"), pauses=pause, pausing_enabled=True)
    assert date(2026, 4, 10) == eea.deadline
    assert date(2026, 4, 17) == uk.deadline
    assert 7 == uk.paused_days


def test_days_left_turns_negative_after_the_deadline() -> None:
    clock = RequestClock(date(2026, 3, 10), NORWAY)
    assert (1, -1) == (clock.days_left(date(2026, 4, 9)), clock.days_left(date(2026, 4, 11)))
