"""The overview's figures read from a real store (SQLite, PostgreSQL, MariaDB) of known requests."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import (
    RejectionReason,
    RequestState,
    RequestType,
)
from personvern.domain.requests.statistics import SystemStrain
from personvern.domain.requests.tasks import PlannedTask, TaskKind
from personvern.domain.requests.urgency import Urgency
from personvern.intake.request_statistics import request_statistics
from personvern.store.models import DataSubjectRequest
from tests.support.dated_requests import Requests, at, engine, session

__all__ = ["engine", "session"]

TODAY = date(2026, 3, 20)  # a Friday in ISO week 12
SYSTEMS = ("crm", "shop.eu", "files")


def file_known_requests(session: Session) -> dict[str, DataSubjectRequest]:
    """Requests around the four weeks 2026-W09 to 2026-W12, each with a known fate."""
    r = Requests(session)
    done = (RequestState.VERIFIED, RequestState.IN_PROGRESS, RequestState.COMPLETED)
    filed = {
        # Received the last second before the window, completed late (16 days, deadline 9 March).
        "before": r.add(RequestType.ACCESS, at(date(2026, 2, 22), 23, 59, 59), date(2026, 3, 9)),
        # The window's first moment; completed in 10 days.
        "first": r.add(RequestType.ACCESS, at(date(2026, 2, 23), 0), date(2026, 3, 23)),
        "erasure": r.add(RequestType.ERASURE, at(date(2026, 3, 2)), date(2026, 4, 2)),
        # Sunday night: still week 10. Open and overdue.
        "overdue": r.add(RequestType.ERASURE, at(date(2026, 3, 8), 23, 59), date(2026, 3, 19)),
        "today": r.add(RequestType.ACCESS, at(TODAY, 12), date(2026, 4, 20)),
        "rejected": r.add(RequestType.OBJECTION, at(date(2026, 3, 17)), date(2026, 4, 17)),
        # Received long ago, extended: due in five days.
        "extended": r.add(RequestType.ACCESS, at(date(2026, 2, 1)), date(2026, 3, 2)),
        "review": r.add(RequestType.PORTABILITY, at(date(2026, 2, 26)), date(2026, 3, 26)),
    }
    r.move(filed["before"], *done, when=at(date(2026, 3, 10)))
    r.move(filed["first"], *done, when=at(date(2026, 3, 5)))
    r.move(filed["erasure"], *done, when=at(date(2026, 3, 12)))
    r.move(
        filed["rejected"],
        RequestState.VERIFIED,
        when=at(date(2026, 3, 18)),
    )
    r.repository.transition(
        filed["rejected"],
        RequestState.REJECTED,
        "rejected",
        "agent",
        at=at(date(2026, 3, 18)),
        rejection_reason=RejectionReason.MANIFESTLY_UNFOUNDED,
    )
    r.move(filed["overdue"], RequestState.VERIFIED, when=at(date(2026, 3, 9)))
    r.wait(filed["overdue"], "crm", at(date(2026, 3, 10)))
    r.wait(filed["overdue"], "crm", at(date(2026, 3, 11)))  # the same wait, retried
    r.wait(filed["overdue"], "shop.eu", at(date(2026, 3, 12)))
    # Not a wait: a failed run recorded while waiting.
    r.repository.add_event(filed["overdue"], "run failed: timeout", "worker", at(date(2026, 3, 13)))
    r.move(filed["today"], RequestState.VERIFIED, when=at(TODAY, 13))
    r.wait(filed["today"], "crm", at(TODAY, 14))
    r.move(filed["extended"], RequestState.VERIFIED, when=at(date(2026, 2, 2)))
    r.wait(filed["extended"], "crm", at(date(2026, 2, 5)))  # before the window
    filed["extended"].extended_deadline = date(2026, 3, 25)
    r.move(
        filed["review"], RequestState.VERIFIED, RequestState.NEEDS_REVIEW, when=at(date(2026, 3, 1))
    )
    # Two datasets of one system: the request counts once for it.
    r.manual_step(filed["first"], "crm.customers", at(date(2026, 3, 4)))
    r.manual_step(filed["first"], "crm.orders", at(date(2026, 3, 4)))
    r.manual_step(filed["erasure"], "shop.eu.orders", at(date(2026, 3, 11)))
    r.manual_step(filed["before"], "files", at(date(2026, 2, 20)))  # before the window
    r.repository.add_task(
        filed["erasure"].id, PlannedTask(TaskKind.NOTIFY_RECIPIENT, "crm", "tell crm's buyer")
    )
    session.commit()
    return filed


def test_an_empty_store_has_twelve_empty_weeks(session: Session) -> None:
    stats = request_statistics(session, today=TODAY)
    assert 12 == len(stats.weekly)
    assert ("2026-W01", "2026-W12") == (str(stats.weekly[0].week), str(stats.weekly[-1].week))
    assert stats.is_empty
    assert (0, None, None, None) == (
        stats.completion.count,
        stats.completion.median_days,
        stats.completion.p95_days,
        stats.completion.share_within_deadline,
    )
    assert (0, (), ()) == (stats.open.total, stats.open.at_risk, stats.systems)


def test_statistics_of_known_requests(session: Session) -> None:
    filed = file_known_requests(session)
    stats = request_statistics(session, today=TODAY, weeks=4, systems=SYSTEMS)

    assert ["2026-W09", "2026-W10", "2026-W11", "2026-W12"] == [str(w.week) for w in stats.weekly]
    assert [
        {RequestType.ACCESS: 1, RequestType.PORTABILITY: 1},
        {RequestType.ERASURE: 2},
        {},
        {RequestType.OBJECTION: 1, RequestType.ACCESS: 1},
    ] == [{t: n for t, n in w.by_type.items() if n} for w in stats.weekly]
    assert date(2026, 2, 23) == stats.since

    # 16, 10 and 10 days; the rejection is no completion.
    assert (3, 10.0, pytest.approx(15.4), 2) == (
        stats.completion.count,
        stats.completion.median_days,
        stats.completion.p95_days,
        stats.completion.within_deadline,
    )

    assert {Urgency.OVERDUE: 1, Urgency.AT_RISK: 2, Urgency.FINE: 1} == dict(stats.open.by_urgency)
    assert [
        (filed["overdue"].id, RequestType.ERASURE, RequestState.WAITING_FOR_SYSTEM, -1),
        (filed["extended"].id, RequestType.ACCESS, RequestState.WAITING_FOR_SYSTEM, 5),
        (filed["review"].id, RequestType.PORTABILITY, RequestState.NEEDS_REVIEW, 6),
    ] == [(r.request_id, r.type, r.state, r.days_left) for r in stats.open.at_risk]
    assert date(2026, 3, 25) == stats.open.at_risk[1].deadline

    assert (
        SystemStrain("crm", waited=2, manual_steps=1),
        SystemStrain("shop.eu", waited=1, manual_steps=1),
    ) == stats.systems


def test_without_the_data_map_a_step_counts_for_its_key_up_to_the_first_dot(
    session: Session,
) -> None:
    file_known_requests(session)
    stats = request_statistics(session, today=TODAY, weeks=4)
    assert (
        SystemStrain("crm", waited=2, manual_steps=1),
        # Equal totals: the one that made requests wait first.
        SystemStrain("shop.eu", waited=1, manual_steps=0),
        SystemStrain("shop", waited=0, manual_steps=1),
    ) == stats.systems


def test_at_risk_listing_is_cut_but_the_count_is_not(session: Session) -> None:
    file_known_requests(session)
    stats = request_statistics(session, today=TODAY, weeks=4, at_risk_listed=1)
    assert (3, 1) == (stats.open.at_risk_count, len(stats.open.at_risk))


def test_a_week_ago_the_same_store_looks_different(session: Session) -> None:
    file_known_requests(session)
    stats = request_statistics(session, today=date(2026, 3, 13), weeks=2)
    assert ["2026-W10", "2026-W11"] == [str(w.week) for w in stats.weekly]
    assert [2, 0] == [w.total for w in stats.weekly]
    assert (3, 10.0) == (stats.completion.count, stats.completion.median_days)


def test_statistics_read_no_personal_data(engine: Engine, session: Session) -> None:
    file_known_requests(session)
    session.expunge_all()
    statements: list[str] = []

    def capture(*args: Any) -> None:
        statements.append(str(args[2]).lower())

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        request_statistics(session, today=TODAY, weeks=4, systems=SYSTEMS)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert statements
    for column in (
        "identities",
        "details",
        "plan",
        "review",
        "verification_note",
        "subject_key",
        "description",
        "note",
    ):
        assert not [s for s in statements if column in s], column
    # Nothing was loaded as a request object either, so no sealed field was opened.
    assert not [o for o in session.identity_map.values() if isinstance(o, DataSubjectRequest)]
