"""Holds and their precedence: the rule first, then whichever hold ends last."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.domain.retention.calendar import FinancialYear
from personvern.domain.retention.holds import (
    StatutoryHold,
    SubjectHold,
    Verdict,
    decide,
)
from personvern.domain.retention_period import parse_period

PRIMARY = StatutoryHold("bokføringsloven § 13", parse_period("P5Y"), FinancialYear())
SECONDARY = StatutoryHold("bokføringsloven § 13", parse_period("P3Y6M"), FinancialYear())


def _staff(expires: date | None) -> SubjectHold:
    return SubjectHold("billing.invoices", "17", "legal claim", "cli:kari", expires)


@pytest.mark.parametrize(
    ("trigger", "today", "statutory", "staff", "verdict", "until"),
    [
        # The rule (P1Y from the trigger) has not run: kept, whatever holds say.
        (date(2024, 5, 1), date(2025, 4, 1), PRIMARY, None, Verdict.KEPT, date(2025, 5, 1)),
        # Run, but bokføringsloven keeps it five years from the end of 2020.
        (
            date(2020, 5, 1),
            date(2025, 6, 1),
            PRIMARY,
            None,
            Verdict.HELD_BY_LAW,
            date(2025, 12, 31),
        ),
        # The statutory hold ended on 31 December 2025.
        (date(2020, 5, 1), date(2026, 1, 1), PRIMARY, None, Verdict.DUE, date(2021, 5, 1)),
        # Secondary documentation: three and a half years.
        (date(2020, 5, 1), date(2024, 6, 30), SECONDARY, None, Verdict.HELD_BY_LAW, None),
        (date(2020, 5, 1), date(2024, 7, 1), SECONDARY, None, Verdict.DUE, None),
        # A staff hold ending after the statutory one keeps the record longer.
        (
            date(2020, 5, 1),
            date(2025, 6, 1),
            PRIMARY,
            date(2026, 3, 1),
            Verdict.HELD_BY_STAFF,
            date(2026, 3, 1),
        ),
        # A staff hold ending first: the statutory one decides.
        (
            date(2020, 5, 1),
            date(2025, 6, 1),
            PRIMARY,
            date(2025, 7, 1),
            Verdict.HELD_BY_LAW,
            date(2025, 12, 31),
        ),
        # Long after both the rule and the statutory hold.
        (date(2020, 5, 1), date(2030, 1, 1), PRIMARY, None, Verdict.DUE, None),
        # An expired staff hold keeps nothing.
        (date(2020, 5, 1), date(2026, 1, 2), None, date(2026, 1, 1), Verdict.DUE, None),
        # Kept through the hold's expiry day.
        (
            date(2020, 5, 1),
            date(2026, 1, 1),
            None,
            date(2026, 1, 1),
            Verdict.HELD_BY_STAFF,
            date(2026, 1, 1),
        ),
    ],
)
def test_holds_keep_a_record_past_its_rule(
    trigger: date,
    today: date,
    statutory: StatutoryHold | None,
    staff: date | None,
    verdict: Verdict,
    until: date | None,
) -> None:
    holds = (_staff(staff),) if staff is not None else ()
    decision = decide(trigger, today, parse_period("P1Y"), statutory=statutory, staff_holds=holds)
    assert verdict is decision.verdict
    if until is not None:
        assert until == decision.kept_until


def test_a_staff_hold_without_expiry_outlasts_every_statutory_hold() -> None:
    decision = decide(
        date(2020, 5, 1),
        date(2025, 6, 1),
        parse_period("P1Y"),
        statutory=PRIMARY,
        staff_holds=(_staff(None),),
    )
    assert (Verdict.HELD_BY_STAFF, None, "legal claim") == (
        decision.verdict,
        decision.kept_until,
        decision.reason,
    )


def test_the_statutory_reference_is_the_reason_given() -> None:
    decision = decide(date(2020, 5, 1), date(2025, 6, 1), parse_period("P1Y"), statutory=PRIMARY)
    assert "bokføringsloven § 13" == decision.reason


def test_a_year_end_rule_and_its_hold_count_from_the_same_year_end() -> None:
    year = FinancialYear()
    inside = decide(
        date(2020, 1, 2),
        date(2025, 12, 31),
        parse_period("P5Y"),
        from_year_end=year,
        statutory=PRIMARY,
    )
    after = decide(
        date(2020, 1, 2),
        date(2026, 1, 1),
        parse_period("P5Y"),
        from_year_end=year,
        statutory=PRIMARY,
    )
    assert (Verdict.KEPT, Verdict.DUE) == (inside.verdict, after.verdict)
