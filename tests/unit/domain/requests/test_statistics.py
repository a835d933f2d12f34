"""The overview's figures: ISO weeks, percentiles, deadlines met, urgency and system strain."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personvern.domain.requests.lifecycle import (
    RequestState,
    RequestType,
    waited_system,
    waiting_message,
)
from personvern.domain.requests.statistics import (
    AtRiskRequest,
    Completion,
    CompletionSummary,
    IsoWeek,
    OpenRequests,
    RequestStatistics,
    SystemStrain,
    completion_summary,
    last_weeks,
    open_requests,
    percentile,
    system_strain,
    task_system,
    weekly_counts,
)
from personvern.domain.requests.urgency import OPEN_URGENCIES, Urgency, urgency

ZEROS = dict.fromkeys(RequestType, 0)


@pytest.mark.parametrize(
    ("today", "weeks", "expected"),
    [
        (date(2026, 3, 20), 1, ["2026-W12"]),
        (date(2026, 3, 16), 3, ["2026-W10", "2026-W11", "2026-W12"]),
        # 2026 has 53 ISO weeks, and 2 January 2027 still belongs to its last one.
        (date(2027, 1, 2), 3, ["2026-W51", "2026-W52", "2026-W53"]),
        (date(2027, 1, 4), 2, ["2026-W53", "2027-W01"]),
    ],
)
def test_last_weeks_end_with_the_week_of_today(
    today: date, weeks: int, expected: list[str]
) -> None:
    assert expected == [str(w) for w in last_weeks(today, weeks)]


@pytest.mark.parametrize("weeks", [0, -1, 105])
def test_a_period_of_no_weeks_or_of_years_is_refused(weeks: int) -> None:
    with pytest.raises(ValueError, match="weeks must be between 1 and 104"):
        last_weeks(date(2026, 3, 20), weeks)


def test_an_iso_week_knows_its_days() -> None:
    week = IsoWeek.of(date(2026, 1, 1))
    assert (IsoWeek(2026, 1), date(2025, 12, 29), date(2026, 1, 5)) == (
        week,
        week.monday,
        week.next_monday,
    )


def test_weekly_counts_of_nothing_are_weeks_of_zeros() -> None:
    weekly = weekly_counts([], today=date(2026, 3, 20), weeks=4)
    assert ["2026-W09", "2026-W10", "2026-W11", "2026-W12"] == [str(w.week) for w in weekly]
    assert all(ZEROS == dict(w.by_type) and w.total == 0 for w in weekly)


def test_weekly_counts_bucket_days_into_their_iso_week() -> None:
    weekly = weekly_counts(
        [
            (date(2026, 2, 22), RequestType.ACCESS, 9),  # a Sunday: the week before the window
            (date(2026, 2, 23), RequestType.ACCESS, 1),  # the window's first Monday
            (date(2026, 3, 2), "erasure", 2),
            (date(2026, 3, 8), RequestType.ERASURE, 1),  # Sunday: the same week
            (date(2026, 3, 8), RequestType.ACCESS, 4),
            (date(2026, 3, 20), RequestType.OBJECTION, 1),  # today
            (date(2026, 3, 21), RequestType.OBJECTION, 5),  # tomorrow: not yet
        ],
        today=date(2026, 3, 20),
        weeks=4,
    )
    assert [
        {RequestType.ACCESS: 1},
        {RequestType.ERASURE: 3, RequestType.ACCESS: 4},
        {},
        {RequestType.OBJECTION: 1},
    ] == [{t: n for t, n in w.by_type.items() if n} for w in weekly]
    assert [1, 7, 0, 1] == [w.total for w in weekly]


@pytest.mark.parametrize(
    ("values", "rank", "expected"),
    [
        ([7.0], 50, 7.0),
        ([7.0], 95, 7.0),
        ([1.0, 2.0], 50, 1.5),
        ([2.0, 1.0, 3.0], 50, 2.0),
        ([float(n) for n in range(1, 21)], 95, 19.05),
        ([float(n) for n in range(1, 21)], 50, 10.5),
        ([3.0, 3.0, 3.0, 10.0], 50, 3.0),  # ties
        ([3.0, 3.0, 3.0, 10.0], 95, 8.95),
        ([4.0, 4.0], 95, 4.0),
        ([1.0, 5.0], 0, 1.0),
        ([1.0, 5.0], 100, 5.0),
    ],
)
def test_percentile_interpolates_between_ranks(
    values: list[float], rank: float, expected: float
) -> None:
    assert expected == pytest.approx(percentile(values, rank))


def test_percentile_of_nothing_or_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="undefined"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


@given(st.lists(st.integers(0, 400), min_size=1, max_size=60), st.floats(0, 100))
def test_a_percentile_lies_within_the_values_and_grows_with_its_rank(
    days: list[int], rank: float
) -> None:
    values = [float(d) for d in days]
    p = percentile(values, rank)
    assert min(values) <= p <= max(values)
    assert percentile(values, 50) <= percentile(values, 95)


@pytest.mark.parametrize(
    ("completions", "expected"),
    [
        ([], CompletionSummary(count=0, median_days=None, p95_days=None, within_deadline=0)),
        (
            [Completion(date(2026, 3, 1), date(2026, 3, 11), date(2026, 4, 1))],
            CompletionSummary(count=1, median_days=10.0, p95_days=10.0, within_deadline=1),
        ),
        (
            [
                Completion(date(2026, 2, 23), date(2026, 3, 5), date(2026, 3, 23)),
                Completion(date(2026, 3, 2), date(2026, 3, 12), date(2026, 4, 2)),
                # Completed on its deadline day: on time. One day later: not.
                Completion(date(2026, 2, 1), date(2026, 3, 2), date(2026, 3, 2)),
                Completion(date(2026, 2, 1), date(2026, 3, 3), date(2026, 3, 2)),
            ],
            CompletionSummary(count=4, median_days=19.5, p95_days=29.85, within_deadline=3),
        ),
    ],
)
def test_completion_summary(completions: list[Completion], expected: CompletionSummary) -> None:
    summary = completion_summary(completions)
    assert expected == summary
    assert (expected.within_deadline / expected.count if expected.count else None) == (
        summary.share_within_deadline
    )


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (date(2026, 3, 19), Urgency.OVERDUE),
        (date(2026, 3, 20), Urgency.AT_RISK),  # due today
        (date(2026, 3, 26), Urgency.AT_RISK),  # six days left
        (date(2026, 3, 27), Urgency.FINE),  # seven
    ],
)
def test_urgency_of_an_open_request(deadline: date, expected: Urgency) -> None:
    assert expected is urgency((deadline - date(2026, 3, 20)).days)
    assert expected.at_risk is (expected is not Urgency.FINE)


def _at_risk(request_id: str, days_left: int) -> AtRiskRequest:
    return AtRiskRequest(
        request_id,
        RequestType.ACCESS,
        RequestState.VERIFIED,
        date.fromordinal(date(2026, 3, 20).toordinal() + days_left),
        days_left,
    )


def test_open_requests_sum_per_urgency_and_put_the_most_urgent_first() -> None:
    summary = open_requests(
        [("overdue", 2), (Urgency.FINE, 5), ("at_risk", 1), ("overdue", 1)],
        [_at_risk("b", 3), _at_risk("c", -4), _at_risk("a", 3)],
    )
    assert {Urgency.OVERDUE: 3, Urgency.AT_RISK: 1, Urgency.FINE: 5} == summary.by_urgency
    assert (9, 4) == (summary.total, summary.at_risk_count)
    assert ["c", "a", "b"] == [r.request_id for r in summary.at_risk]
    assert [Urgency.OVERDUE, Urgency.AT_RISK, Urgency.AT_RISK] == [
        r.urgency for r in summary.at_risk
    ]


def test_no_open_requests() -> None:
    summary = open_requests([])
    assert (0, 0, ()) == (summary.total, summary.at_risk_count, summary.at_risk)
    assert dict.fromkeys(OPEN_URGENCIES, 0) == summary.by_urgency


@pytest.mark.parametrize(
    ("key", "systems", "expected"),
    [
        ("crm", (), "crm"),
        ("crm.customers", (), "crm"),
        ("eu.crm.customers", (), "eu"),
        ("eu.crm.customers", ("eu", "eu.crm"), "eu.crm"),
        ("eu.crm", ("eu.crm",), "eu.crm"),
        ("eu.crmx.customers", ("eu.crm",), "eu"),
    ],
)
def test_the_system_of_a_manual_step(key: str, systems: tuple[str, ...], expected: str) -> None:
    assert expected == task_system(key, systems)


def test_system_strain_merges_both_counts_worst_first() -> None:
    assert (
        SystemStrain("crm", waited=2, manual_steps=1),
        SystemStrain("files", waited=0, manual_steps=3),
        SystemStrain("shop", waited=1, manual_steps=0),
    ) == system_strain({"shop": 1, "crm": 2, "idle": 0}, {"files": 3, "crm": 1})
    assert () == system_strain({}, {})


@given(st.from_regex(r"[a-z0-9][a-z0-9_.\-]{0,119}", fullmatch=True))
def test_a_waiting_message_names_its_system(system: str) -> None:
    assert system == waited_system(waiting_message(system))


@pytest.mark.parametrize(
    "message",
    ["run failed: timeout", "waiting for ; retried automatically", "waiting for crm", ""],
)
def test_other_history_entries_name_no_system(message: str) -> None:
    assert waited_system(message) is None


def test_statistics_of_an_empty_store_are_empty() -> None:
    today = date(2026, 3, 20)
    empty = RequestStatistics(
        today=today,
        weekly=weekly_counts([], today=today, weeks=2),
        completion=completion_summary([]),
        open=OpenRequests(dict.fromkeys(Urgency, 0)),
    )
    assert (True, 0, date(2026, 3, 9)) == (empty.is_empty, empty.received, empty.since)
    busy = RequestStatistics(
        today=today,
        weekly=empty.weekly,
        completion=empty.completion,
        open=open_requests([("fine", 1)]),
    )
    assert busy.is_empty is False
