"""An erasure keeps exactly what the retention sweep keeps: the statutory hold's period.

``legal_hold.period`` counted from the end of the organisation's financial year (or the
trigger with ``starts: trigger``), the trigger read in the rule's zone and format; a
hold stated without a period keeps a record for the rule's own period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from personvern.domain.datamap import DataMap
from personvern.domain.requests.legal_hold import legal_holds
from personvern.domain.retention.holds import Verdict, decide
from personvern.domain.retention.rule import sweep_rules
from tests.unit.domain.sample_datamap import sample_datamap


def _map(rule: dict[str, Any], year_end: str | None = None) -> DataMap:
    def change(raw: dict[str, Any]) -> None:
        if year_end is not None:
            raw["organization"]["financial_year_end"] = year_end
        raw["retention"] = [rule]

    return sample_datamap(change)


def _rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "key": "invoices",
        "dataset": _INVOICES,
        "trigger": "collected",
        "trigger_field": _TRIGGER,
        "period": "P3Y",
        "legal_hold": {
            "reference": "bokføringsloven § 13",
            "description": {"en": "Primary documentation"},
            "period": "P5Y",
        },
        "description": {"en": "Invoices"},
    }
    for name, value in changes.items():
        if name.startswith("hold_"):
            rule["legal_hold"][name[5:]] = value
        else:
            rule[name] = value
    return rule


_INVOICES, _TRIGGER = "crm.invoices", "issued_on"


@pytest.mark.parametrize(
    ("changes", "year_end", "trigger", "held_until"),
    [
        # Five years from the end of the calendar year, not three from the invoice.
        ({}, None, date(2020, 3, 15), date(2025, 12, 31)),
        ({}, None, date(2020, 12, 31), date(2025, 12, 31)),
        ({}, None, date(2021, 1, 1), date(2026, 12, 31)),
        # A financial year ending 30 June: March 2020 belongs to the year ending June 2020.
        ({}, "06-30", date(2020, 3, 15), date(2025, 6, 30)),
        ({}, "06-30", date(2020, 7, 1), date(2026, 6, 30)),
        # Secondary documentation: three and a half years.
        ({"hold_period": "P3Y6M"}, None, date(2020, 5, 1), date(2024, 6, 30)),
        # Counted from the trigger itself.
        ({"hold_starts": "trigger"}, None, date(2020, 5, 1), date(2025, 5, 1)),
        # No period: stated in documents; the rule's own period keeps the record.
        ({"hold_period": None}, None, date(2020, 5, 1), date(2023, 5, 1)),
        (
            {"hold_period": None, "trigger": "financial_year_end"},
            "06-30",
            date(2020, 5, 1),
            date(2023, 6, 30),
        ),
    ],
)
def test_the_hold_runs_as_the_sweep_counts_it(
    changes: dict[str, Any], year_end: str | None, trigger: date, held_until: date
) -> None:
    datamap = _map(_rule(**changes), year_end)
    hold = legal_holds(datamap)[_INVOICES]
    assert held_until == hold.held_until(trigger)
    assert hold.holds(trigger, held_until)
    assert not hold.holds(trigger, date.fromordinal(held_until.toordinal() + 1))


@pytest.mark.parametrize("today", [date(2025, 12, 31), date(2026, 1, 1), date(2024, 1, 1)])
@pytest.mark.parametrize("trigger", [date(2020, 3, 15), date(2020, 12, 31), date(2019, 1, 1)])
def test_an_erasure_keeps_what_the_sweep_reports_held_by_law(trigger: date, today: date) -> None:
    datamap = _map(_rule())
    (rule,), _ = sweep_rules(datamap)
    verdict = decide(trigger, today, rule.period, statutory=rule.statutory).verdict
    kept_by_erasure = legal_holds(datamap)[_INVOICES].holds(trigger, today)
    # Every case is past the rule (P3Y): the sweep and the erasure agree on each record.
    assert verdict is not Verdict.KEPT
    assert kept_by_erasure == (verdict is Verdict.HELD_BY_LAW)


@pytest.mark.parametrize(
    ("changes", "value", "held_until"),
    [
        # A timestamp is read in the rule's zone: 23:30 UTC on 31 December is 2021 in Oslo.
        (
            {"timezone": "Europe/Oslo"},
            datetime(2020, 12, 31, 23, 30, tzinfo=UTC),
            date(2026, 12, 31),
        ),
        ({}, datetime(2020, 12, 31, 23, 30, tzinfo=UTC), date(2025, 12, 31)),
        # Epoch milliseconds and ISO text, as the map declares.
        (
            {"trigger_format": "epoch_millis"},
            int(datetime(2020, 6, 1, tzinfo=UTC).timestamp() * 1000),
            date(2025, 12, 31),
        ),
        ({"trigger_format": "iso_text"}, "2021-02-03T10:00:00Z", date(2026, 12, 31)),
    ],
)
def test_the_trigger_is_read_in_the_rules_zone_and_format(
    changes: dict[str, Any], value: object, held_until: date
) -> None:
    hold = legal_holds(_map(_rule(**changes)))[_INVOICES]
    assert held_until == hold.held_until(value)


@pytest.mark.parametrize("value", [None, "not a date", True, 3.5])
def test_an_unreadable_trigger_keeps_the_record(value: object) -> None:
    hold = legal_holds(_map(_rule()))[_INVOICES]
    assert hold.holds(value, date(2099, 1, 1))
