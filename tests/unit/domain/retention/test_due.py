"""Due-date arithmetic: periods with month-end clamping, financial years, the last due day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from personvern.domain.retention.calendar import FinancialYear, add_period
from personvern.domain.retention.due import expires_on, is_due, last_due_day
from personvern.domain.retention_period import parse_period

JUNE_YEAR = FinancialYear(6, 30)


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (date(2023, 1, 31), "P1M", date(2023, 2, 28)),
        (date(2024, 1, 31), "P1M", date(2024, 2, 29)),
        (date(2024, 2, 29), "P1Y", date(2025, 2, 28)),
        (date(2024, 2, 29), "P4Y", date(2028, 2, 29)),
        (date(2023, 3, 31), "P1M", date(2023, 4, 30)),
        (date(2023, 8, 31), "P6M", date(2024, 2, 29)),
        (date(2023, 12, 31), "P3Y6M", date(2027, 6, 30)),
        (date(2023, 12, 31), "P5Y", date(2028, 12, 31)),
        (date(2023, 3, 1), "P30D", date(2023, 3, 31)),
        (date(2023, 12, 25), "P1W", date(2024, 1, 1)),
        (date(2023, 1, 31), "P1M1D", date(2023, 3, 1)),
        (date(2023, 11, 15), "P13M", date(2024, 12, 15)),
        (date(9999, 6, 1), "P1Y", date.max),
    ],
)
def test_a_period_lands_on_the_same_day_clamped_to_the_month_end(
    start: date, period: str, expected: date
) -> None:
    assert expected == add_period(start, parse_period(period))


@pytest.mark.parametrize(
    ("trigger", "year", "period", "expected"),
    [
        # bokføringsloven § 13: five years from the end of the financial year.
        (date(2020, 3, 15), FinancialYear(), "P5Y", date(2025, 12, 31)),
        (date(2020, 12, 31), FinancialYear(), "P5Y", date(2025, 12, 31)),
        (date(2021, 1, 1), FinancialYear(), "P5Y", date(2026, 12, 31)),
        # Secondary documentation: three and a half years.
        (date(2020, 3, 15), FinancialYear(), "P3Y6M", date(2024, 6, 30)),
        # A financial year ending 30 June.
        (date(2020, 3, 15), JUNE_YEAR, "P5Y", date(2025, 6, 30)),
        (date(2020, 7, 1), JUNE_YEAR, "P5Y", date(2026, 6, 30)),
        (date(2020, 6, 30), JUNE_YEAR, "P3Y6M", date(2023, 12, 30)),
    ],
)
def test_a_year_end_rule_runs_from_the_end_of_the_financial_year(
    trigger: date, year: FinancialYear, period: str, expected: date
) -> None:
    assert expected == expires_on(trigger, parse_period(period), from_year_end=year)


@pytest.mark.parametrize(
    ("trigger", "period", "today", "due"),
    [
        # Kept through the expiry day, due from the day after.
        (date(2023, 3, 1), "P30D", date(2023, 3, 31), False),
        (date(2023, 3, 1), "P30D", date(2023, 4, 1), True),
        (date(2023, 1, 31), "P1M", date(2023, 2, 28), False),
        (date(2023, 1, 31), "P1M", date(2023, 3, 1), True),
        (date(2023, 1, 29), "P1M", date(2023, 3, 1), True),
        (date(2023, 2, 1), "P1M", date(2023, 3, 1), False),
    ],
)
def test_a_record_is_due_the_day_after_it_expires(
    trigger: date, period: str, today: date, due: bool
) -> None:
    assert due is is_due(trigger, parse_period(period), today)


@pytest.mark.parametrize(
    ("period", "today", "expected"),
    [
        ("P30D", date(2023, 4, 1), date(2023, 3, 1)),
        # 29, 30 and 31 January all expire on 28 February 2023: the last of them counts.
        ("P1M", date(2023, 3, 1), date(2023, 1, 31)),
        ("P1M", date(2024, 3, 1), date(2024, 1, 31)),
        ("P1M", date(2023, 2, 28), date(2023, 1, 27)),
        ("P1Y", date(2025, 3, 1), date(2024, 2, 29)),
        ("P13M", date(2024, 1, 1), date(2022, 11, 30)),
    ],
)
def test_the_last_due_day_is_the_latest_trigger_day_already_due(
    period: str, today: date, expected: date
) -> None:
    assert expected == last_due_day(parse_period(period), today)


@pytest.mark.parametrize(
    ("period", "today", "year", "expected"),
    [
        ("P5Y", date(2026, 1, 1), FinancialYear(), date(2020, 12, 31)),
        ("P5Y", date(2025, 12, 31), FinancialYear(), date(2019, 12, 31)),
        ("P3Y6M", date(2024, 7, 1), FinancialYear(), date(2020, 12, 31)),
        ("P3Y6M", date(2024, 6, 30), FinancialYear(), date(2019, 12, 31)),
        ("P5Y", date(2025, 7, 1), JUNE_YEAR, date(2020, 6, 30)),
    ],
)
def test_the_last_due_day_of_a_year_end_rule_is_a_year_end(
    period: str, today: date, year: FinancialYear, expected: date
) -> None:
    assert expected == last_due_day(parse_period(period), today, from_year_end=year)


def test_no_day_is_due_before_the_calendar_allows_it() -> None:
    assert last_due_day(parse_period("P5Y"), date(3, 1, 1)) is None


@pytest.mark.parametrize("period", ["P1M", "P30D", "P13M", "P1Y", "P3Y6M", "P2W", "P1Y1M1D"])
@pytest.mark.parametrize("year_end", [None, FinancialYear(), JUNE_YEAR])
def test_the_last_due_day_agrees_with_is_due_day_by_day(
    period: str, year_end: FinancialYear | None
) -> None:
    parsed = parse_period(period)
    today = date(2024, 3, 1)
    last = last_due_day(parsed, today, from_year_end=year_end)
    assert last is not None
    day = last - timedelta(days=400)
    while day < last + timedelta(days=400):
        assert (day <= last) is is_due(day, parsed, today, from_year_end=year_end), day
        day += timedelta(days=1)


@pytest.mark.parametrize("text", ["12-31", "06-30", "02-28"])
def test_a_financial_year_end_is_read_as_month_and_day(text: str) -> None:
    year = FinancialYear.parse(text)
    assert text == f"{year.month:02d}-{year.day:02d}"


@pytest.mark.parametrize("text", ["13-01", "02-29", "04-31", "00-10"])
def test_an_impossible_year_end_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="no last day of a financial year"):
        FinancialYear.parse(text)
