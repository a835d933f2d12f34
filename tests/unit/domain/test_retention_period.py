"""ISO 8601 retention periods read into parts and said in words, in nb and en."""

from __future__ import annotations

import pytest

from personvern.domain.datamap import RetentionAction, RetentionTrigger
from personvern.domain.retention_period import (
    RetentionPeriod,
    describe_action,
    describe_period,
    describe_retention,
    describe_trigger,
    parse_period,
)


@pytest.mark.parametrize(
    ("period", "lang", "expected"),
    [
        ("P5Y", "nb", "5 år"),
        ("P5Y", "en", "5 years"),
        ("P1Y", "nb", "1 år"),
        ("P1Y", "en", "1 year"),
        ("P90D", "nb", "90 dager"),
        ("P90D", "en", "90 days"),
        ("P1D", "nb", "1 dag"),
        ("P1D", "en", "1 day"),
        ("P1M", "nb", "1 måned"),
        ("P6M", "nb", "6 måneder"),
        ("P13M", "en", "13 months"),
        ("P1W", "nb", "1 uke"),
        ("P2W", "en", "2 weeks"),
        ("P1Y6M", "nb", "1 år og 6 måneder"),
        ("P1Y6M", "en", "1 year and 6 months"),
        ("P1Y2M3D", "nb", "1 år, 2 måneder og 3 dager"),
        ("P1Y2M1W3D", "en", "1 year, 2 months, 1 week and 3 days"),
        ("P0D", "en", "no time"),
        # A language without its own words falls back to English, like the legal bases.
        ("P3Y", "sv", "3 years"),
    ],
)
def test_period_in_words(period: str, lang: str, expected: str) -> None:
    assert expected == describe_period(period, lang)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("P5Y", RetentionPeriod(years=5)),
        ("P18M", RetentionPeriod(months=18)),
        ("P3W", RetentionPeriod(weeks=3)),
        ("P30D", RetentionPeriod(days=30)),
        ("P1Y6M2W3D", RetentionPeriod(years=1, months=6, weeks=2, days=3)),
        (" P2Y ", RetentionPeriod(years=2)),
    ],
)
def test_parse_period(period: str, expected: RetentionPeriod) -> None:
    assert expected == parse_period(period)


@pytest.mark.parametrize("text", ["", "P", "5Y", "P1.5Y", "PT5H", "P5y", "P-1D", "P1D1Y"])
def test_parse_rejects_what_is_not_a_calendar_duration(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_period(text)


@pytest.mark.parametrize(
    ("trigger", "lang", "expected"),
    [
        (RetentionTrigger.COLLECTED, "nb", "etter innsamling"),
        (RetentionTrigger.COLLECTED, "en", "after collection"),
        (RetentionTrigger.LAST_ACTIVITY, "nb", "etter siste aktivitet"),
        (RetentionTrigger.CONTRACT_END, "en", "after the contract ends"),
        (RetentionTrigger.FINANCIAL_YEAR_END, "nb", "etter regnskapsårets slutt"),
        (RetentionTrigger.CONSENT_WITHDRAWN, "en", "after consent is withdrawn"),
        (RetentionTrigger.PURPOSE_FULFILLED, "nb", "etter at formålet er oppfylt"),
    ],
)
def test_trigger_in_words(trigger: RetentionTrigger, lang: str, expected: str) -> None:
    assert expected == describe_trigger(trigger, lang)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_every_trigger_has_distinct_words(lang: str) -> None:
    words = [describe_trigger(trigger, lang) for trigger in RetentionTrigger]
    assert len(RetentionTrigger) == len(set(words))


@pytest.mark.parametrize(
    ("action", "lang", "expected"),
    [
        (RetentionAction.DELETE, "nb", "slettes"),
        (RetentionAction.ANONYMISE, "nb", "anonymiseres"),
        (RetentionAction.DELETE, "en", "deleted"),
        (RetentionAction.ANONYMISE, "en", "anonymised"),
    ],
)
def test_action_in_words(action: RetentionAction, lang: str, expected: str) -> None:
    assert expected == describe_action(action, lang)


@pytest.mark.parametrize(
    ("period", "trigger", "lang", "expected"),
    [
        ("P5Y", RetentionTrigger.FINANCIAL_YEAR_END, "nb", "5 år etter regnskapsårets slutt"),
        (
            "P5Y",
            RetentionTrigger.FINANCIAL_YEAR_END,
            "en",
            "5 years after the end of the financial year",
        ),
        ("P90D", RetentionTrigger.COLLECTED, "nb", "90 dager etter innsamling"),
        ("P90D", RetentionTrigger.COLLECTED, "en", "90 days after collection"),
    ],
)
def test_period_with_trigger(
    period: str, trigger: RetentionTrigger, lang: str, expected: str
) -> None:
    assert expected == describe_retention(period, trigger, lang)
