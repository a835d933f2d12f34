"""Retention schedules: which runs are due at a given clock time, and which cron is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from personvern.domain.datamap import RetentionRule, System
from personvern.domain.retention.cron import InvalidScheduleError, parse_schedule
from personvern.domain.retention.schedule import DueRun, SweepSchedule, due_runs
from tests.unit.domain.sample_datamap import sample_datamap

#: One extra rule on crm, so a system schedule and a rule's own can be told apart.
_PROSPECTS = {
    "key": "prospects",
    "dataset": "crm.customers",
    "trigger": "last_activity",
    "period": "P2Y",
    "description": {"en": "Prospects go."},
}


def _map(
    crm: str | None = None,
    telephony: str | None = None,
    invoices: str | None = None,
    invoices_zone: str | None = None,
) -> Any:
    def change(raw: dict[str, Any]) -> None:
        systems = {s["key"]: s for s in raw["systems"]}
        for key, schedule in (("crm", crm), ("telephony", telephony)):
            if schedule is not None:
                systems[key]["schedule"] = schedule
        raw["retention"].append(dict(_PROSPECTS))
        rule = next(r for r in raw["retention"] if r["key"] == "invoices")
        if invoices is not None:
            rule["schedule"] = invoices
        if invoices_zone is not None:
            rule["timezone"] = invoices_zone

    return sample_datamap(change)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("case", "schedules", "since", "until", "expected"),
    [
        ("no schedule, nothing due", {}, "2026-03-01T02:00", "2026-03-01T04:00", []),
        (
            "a daily system schedule in the window",
            {"crm": "0 3 * * *"},
            "2026-03-01T02:59",
            "2026-03-01T03:00",
            [("crm", {"invoices", "prospects"}, "2026-03-01T03:00")],
        ),
        (
            "the window excludes its start: the tick before took it",
            {"crm": "0 3 * * *"},
            "2026-03-01T03:00",
            "2026-03-01T03:01",
            [],
        ),
        (
            "not yet",
            {"crm": "0 3 * * *"},
            "2026-03-01T02:00",
            "2026-03-01T02:59",
            [],
        ),
        (
            "two times in the window: one run, at the latest",
            {"crm": "*/30 * * * *"},
            "2026-03-01T02:00",
            "2026-03-01T03:10",
            [("crm", {"invoices", "prospects"}, "2026-03-01T03:00")],
        ),
        (
            "a rule's own schedule leaves the system's",
            {"crm": "0 3 * * *", "invoices": "0 4 1 * *"},
            "2026-03-01T02:30",
            "2026-03-01T03:30",
            [("crm", {"prospects"}, "2026-03-01T03:00")],
        ),
        (
            "the rule's own time",
            {"crm": "0 3 * * *", "invoices": "0 4 1 * *"},
            "2026-03-01T03:30",
            "2026-03-01T04:30",
            [("crm", {"invoices"}, "2026-03-01T04:00")],
        ),
        (
            "both in one tick: one run of both",
            {"crm": "0 3 * * *", "invoices": "0 3 1 * *"},
            "2026-03-01T02:30",
            "2026-03-01T03:30",
            [("crm", {"invoices", "prospects"}, "2026-03-01T03:00")],
        ),
        (
            "each system its own run",
            {"crm": "0 3 * * *", "telephony": "0 3 * * *"},
            "2026-03-01T02:30",
            "2026-03-01T03:30",
            [
                ("crm", {"invoices", "prospects"}, "2026-03-01T03:00"),
                ("telephony", {"recordings"}, "2026-03-01T03:00"),
            ],
        ),
        (
            "weekdays only: Sunday 1 March 2026 is skipped",
            {"crm": "0 3 * * 1-5"},
            "2026-03-01T00:00",
            "2026-03-01T23:59",
            [],
        ),
        (
            "weekdays only: Monday 2 March 2026",
            {"crm": "0 3 * * 1-5"},
            "2026-03-02T00:00",
            "2026-03-02T23:59",
            [("crm", {"invoices", "prospects"}, "2026-03-02T03:00")],
        ),
        (
            "a rule's time in its zone: 03:00 in Oslo is 02:00 UTC in winter",
            {"invoices": "0 3 * * *", "invoices_zone": "Europe/Oslo"},
            "2026-01-10T01:30",
            "2026-01-10T02:30",
            [("crm", {"invoices"}, "2026-01-10T02:00")],
        ),
        (
            "and 01:00 UTC in summer",
            {"invoices": "0 3 * * *", "invoices_zone": "Europe/Oslo"},
            "2026-07-10T00:30",
            "2026-07-10T01:30",
            [("crm", {"invoices"}, "2026-07-10T01:00")],
        ),
    ],
)
def test_which_runs_are_due(
    case: str,
    schedules: dict[str, str],
    since: str,
    until: str,
    expected: list[tuple[str, set[str], str]],
) -> None:
    datamap = _map(**schedules)
    found = due_runs(datamap, _at(since), _at(until))
    assert [DueRun(s, frozenset(r), _at(t)) for s, r, t in expected] == found, case


def test_a_tick_that_looks_back_sees_a_time_once_per_window() -> None:
    # Ticks a minute apart looking back two minutes: each time is seen by two ticks;
    # the store's lock (not this function) makes the second a no-op.
    datamap = _map(crm="0 3 * * *")
    ticks = [_at("2026-03-01T02:58") + timedelta(minutes=m) for m in range(6)]
    seen = [t for t in ticks if due_runs(datamap, t - timedelta(minutes=2), t)]
    assert [_at("2026-03-01T03:00"), _at("2026-03-01T03:01")] == seen


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_runs(_map(crm="0 3 * * *"), datetime(2026, 3, 1), datetime(2026, 3, 2))


@pytest.mark.parametrize(
    ("expression", "normalised"),
    [
        ("0 3 * * *", "0 3 * * *"),
        ("  15   2  *  *  1-5 ", "15 2 * * 1-5"),
        ("*/10 * * * *", "*/10 * * * *"),
        ("0 0 1 1,7 *", "0 0 1 1,7 *"),
    ],
)
def test_cron_expressions_that_read(expression: str, normalised: str) -> None:
    assert normalised == parse_schedule(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "0 fields where cron takes five"),
        ("0 3 * *", "4 fields where cron takes five"),
        ("0 0 3 * * *", "6 fields where cron takes five"),
        ("61 3 * * *", "no cron expression"),
        ("0 25 * * *", "no cron expression"),
        ("0 3 * * monday-friday", "no cron expression"),
        ("every night", "fields where cron takes five"),
    ],
)
def test_cron_expressions_that_are_refused(expression: str, message: str) -> None:
    with pytest.raises(InvalidScheduleError, match=message):
        parse_schedule(expression)


def test_the_data_map_refuses_a_bad_schedule_on_a_system_and_a_rule() -> None:
    with pytest.raises(ValidationError, match="no cron expression"):
        System.model_validate(
            {
                "key": "crm",
                "name": "CRM",
                "kind": "sqlite",
                "description": {},
                "schedule": "0 99 * * *",
            }
        )
    with pytest.raises(ValidationError, match="fields where cron takes five"):
        RetentionRule.model_validate(
            {
                "key": "r",
                "trigger": "collected",
                "period": "P1Y",
                "description": {"en": "x"},
                "schedule": "daily",
            }
        )


def test_schedules_from_outside_the_map_are_due_with_their_own_rules() -> None:
    own = SweepSchedule("personvern", "30 3 * * *", "UTC", ("own-requests", "own-web-events"))
    found = due_runs(
        _map(crm="30 3 * * *"), _at("2026-03-01T03:29"), _at("2026-03-01T03:30"), [own]
    )
    assert [
        DueRun("crm", frozenset({"invoices", "prospects"}), _at("2026-03-01T03:30")),
        DueRun(
            "personvern", frozenset({"own-requests", "own-web-events"}), _at("2026-03-01T03:30")
        ),
    ] == found
    assert [] == due_runs(_map(), _at("2026-03-01T03:31"), _at("2026-03-01T04:00"), [own])
