"""Catching up scheduled times missed while no scheduler ran: which runs start, and when none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personvern.domain.retention.catch_up import PastRun, missed_runs
from personvern.domain.retention.schedule import DueRun, SweepSchedule
from tests.unit.domain.retention.test_schedule import _map

CRM = frozenset({"invoices", "prospects"})


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _run(at: str, system: str | None = "crm", rules: set[str] | None = None) -> PastRun:
    return PastRun(system, frozenset(rules) if rules is not None else None, _at(at))


@pytest.mark.parametrize(
    ("case", "schedules", "now", "past", "expected"),
    [
        ("no schedule, nothing missed", {}, "2026-03-05T12:00", [_run("2026-03-01T03:00")], []),
        (
            "a fresh install (no run ever): nothing missed, the first time is the next",
            {"crm": "0 3 * * *"},
            "2026-03-05T12:00",
            [],
            [],
        ),
        (
            "today's 03:00 ran (the scheduler asked for it a second after)",
            {"crm": "0 3 * * *"},
            "2026-03-05T12:00",
            [_run("2026-03-05T03:00:01", rules=set(CRM))],
            [],
        ),
        (
            "down since yesterday's run: one run catches up today's 03:00",
            {"crm": "0 3 * * *"},
            "2026-03-05T12:00",
            [_run("2026-03-04T03:00:01", rules=set(CRM))],
            [("crm", CRM, "2026-03-05T03:00")],
        ),
        (
            "down for a week: still one run, at the latest time",
            {"crm": "0 3 * * *"},
            "2026-03-12T12:00",
            [_run("2026-03-04T03:00:01", rules=set(CRM))],
            [("crm", CRM, "2026-03-12T03:00")],
        ),
        (
            "a time exactly now counts as passed",
            {"crm": "0 3 * * *"},
            "2026-03-05T03:00",
            [_run("2026-03-04T03:00:01", rules=set(CRM))],
            [("crm", CRM, "2026-03-05T03:00")],
        ),
        (
            "a run by hand of the whole system since covers it",
            {"crm": "0 3 * * *"},
            "2026-03-05T12:00",
            [_run("2026-03-01T03:00:01", rules=set(CRM)), _run("2026-03-05T09:00")],
            [],
        ),
        (
            "a run of every system covers it too",
            {"crm": "0 3 * * *"},
            "2026-03-05T12:00",
            [_run("2026-03-05T09:00", system=None)],
            [],
        ),
        (
            "a run of another system does not",
            {"crm": "0 3 * * *"},
            "2026-03-05T12:00",
            [_run("2026-03-04T03:00:01"), _run("2026-03-05T09:00", system="telephony")],
            [("crm", CRM, "2026-03-05T03:00")],
        ),
        (
            "a run of one of the system's rules does not cover the others",
            {"crm": "0 3 * * *"},
            "2026-03-05T12:00",
            [_run("2026-03-04T03:00:01"), _run("2026-03-05T09:00", rules={"invoices"})],
            [("crm", CRM, "2026-03-05T03:00")],
        ),
        (
            "a rule's own schedule is weighed against runs of that rule",
            {"crm": "0 3 * * *", "invoices": "0 4 1 * *"},
            "2026-03-05T12:00",
            [
                _run("2026-03-05T03:00:01", rules={"prospects"}),
                _run("2026-02-01T04:00:01", rules={"invoices"}),
            ],
            [("crm", frozenset({"invoices"}), "2026-03-01T04:00")],
        ),
        (
            "both missed on one system: one run of both, due at the later time",
            {"crm": "0 3 * * *", "invoices": "0 4 1 * *"},
            "2026-03-05T12:00",
            [_run("2026-02-01T05:00", rules=set(CRM))],
            [("crm", CRM, "2026-03-05T03:00")],
        ),
        (
            "weekdays only, on a Sunday: Friday's time was missed",
            {"crm": "0 3 * * 1-5"},
            "2026-03-08T12:00",
            [_run("2026-03-05T03:00:01", rules=set(CRM))],
            [("crm", CRM, "2026-03-06T03:00")],
        ),
        (
            "a rule's time in its zone: 03:00 in Oslo is 01:00 UTC in summer",
            {"invoices": "0 3 * * *", "invoices_zone": "Europe/Oslo"},
            "2026-07-10T12:00",
            [_run("2026-07-09T01:00:01", rules={"invoices"})],
            [("crm", frozenset({"invoices"}), "2026-07-10T01:00")],
        ),
    ],
)
def test_which_missed_times_are_caught_up(
    case: str,
    schedules: dict[str, str],
    now: str,
    past: list[PastRun],
    expected: list[tuple[str, frozenset[str], str]],
) -> None:
    found = missed_runs(_map(**schedules), _at(now), past)
    assert [DueRun(s, r, _at(t)) for s, r, t in expected] == found, case


def test_schedules_from_outside_the_map_are_caught_up_with_their_own_rules() -> None:
    own = SweepSchedule("personvern", "30 3 * * *", "UTC", ("own-requests", "own-web-events"))
    past = [_run("2026-03-04T03:30:01", system="personvern", rules=set(own.rules))]
    assert [DueRun("personvern", frozenset(own.rules), _at("2026-03-05T03:30"))] == missed_runs(
        _map(), _at("2026-03-05T12:00"), past, [own]
    )
    assert [] == missed_runs(_map(), _at("2026-03-05T03:29"), past, [own])


@pytest.mark.parametrize(
    ("expression", "zone", "now", "latest"),
    [
        ("0 3 * * *", "UTC", "2026-03-05T02:59:59", "2026-03-04T03:00"),
        ("0 3 * * *", "UTC", "2026-03-05T03:00", "2026-03-05T03:00"),
        ("0 3 * * *", "UTC", "2026-03-05T03:00:30", "2026-03-05T03:00"),
        ("0 3 * * *", "Europe/Oslo", "2026-01-10T12:00", "2026-01-10T02:00"),
        ("0 0 1 1 *", "UTC", "2026-03-05T12:00", "2026-01-01T00:00"),
    ],
)
def test_a_schedules_latest_time(expression: str, zone: str, now: str, latest: str) -> None:
    assert _at(latest) == SweepSchedule("crm", expression, zone).latest_time(_at(now))


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        missed_runs(_map(crm="0 3 * * *"), datetime(2026, 3, 5), [])
