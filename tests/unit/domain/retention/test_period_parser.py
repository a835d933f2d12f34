"""The ISO 8601 period parser under hostile input (Hypothesis) and the data map's checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from personvern.domain.datamap import ISO_DURATION, LegalHold, RetentionRule
from personvern.domain.retention.calendar import add_period
from personvern.domain.retention.due import is_due, last_due_day
from personvern.domain.retention_period import RetentionPeriod, parse_period

_counts = st.integers(min_value=0, max_value=200)


@given(years=_counts, months=_counts, weeks=_counts, days=_counts)
def test_every_written_period_reads_back(years: int, months: int, weeks: int, days: int) -> None:
    parts = [(years, "Y"), (months, "M"), (weeks, "W"), (days, "D")]
    text = "P" + "".join(f"{n}{unit}" for n, unit in parts if n)
    if text == "P":
        return
    assert RetentionPeriod(years, months, weeks, days) == parse_period(text)
    rule = RetentionRule.model_validate(
        {"key": "r", "trigger": "collected", "period": text, "description": {"en": "x"}}
    )
    assert text == rule.period


@given(st.text(max_size=40))
def test_any_other_text_is_refused_with_a_clear_message(text: str) -> None:
    if ISO_DURATION.match(text.strip()):
        assert parse_period(text) is not None
    else:
        with pytest.raises(ValueError, match="ISO 8601 duration"):
            parse_period(text)


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    years=st.integers(0, 50),
    months=st.integers(0, 40),
    days=st.integers(0, 400),
)
def test_adding_is_monotone_and_the_last_due_day_is_exact(
    day: date, years: int, months: int, days: int
) -> None:
    period = RetentionPeriod(years=years, months=months, days=days)
    later = day + timedelta(days=1)
    assert add_period(day, period) <= add_period(later, period)
    last = last_due_day(period, day)
    assert last is not None
    assert is_due(last, period, day)
    assert not is_due(last + timedelta(days=1), period, day)


@pytest.mark.parametrize("text", ["P", "5Y", "P1.5Y", "PT1H", "P-1Y", "P1Y6M1H", "P 1Y"])
def test_a_malformed_period_fails_the_data_map(text: str) -> None:
    with pytest.raises(ValidationError, match="ISO 8601 duration"):
        RetentionRule.model_validate(
            {"key": "r", "trigger": "collected", "period": text, "description": {"en": "x"}}
        )
    with pytest.raises(ValidationError, match="ISO 8601 duration"):
        LegalHold.model_validate({"reference": "x", "description": {"en": "x"}, "period": text})
