"""The inbox on each database: open requests only, nearest deadline in force first."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.requests.tasks import PlannedTask, TaskKind
from personvern.domain.requests.urgency import Urgency, WaitingFor
from personvern.intake.inbox import InboxFilter, inbox
from personvern.settings import Settings
from tests.support.dated_requests import Requests, at, engine, session

__all__ = ["engine", "session"]

TODAY = date(2026, 3, 20)


def test_open_requests_come_nearest_deadline_first_with_what_they_wait_for(
    session: Session, tmp_path: object
) -> None:
    filed = Requests(session)
    received = at(TODAY - timedelta(days=20))
    later = filed.add(RequestType.ACCESS, received, TODAY + timedelta(days=10))
    overdue = filed.add(RequestType.ERASURE, received, TODAY - timedelta(days=2))
    extended = filed.add(RequestType.ACCESS, received, TODAY - timedelta(days=5))
    extended.extended_deadline = TODAY + timedelta(days=40)
    soon = filed.add(RequestType.RECTIFICATION, received, TODAY + timedelta(days=3))
    done = filed.add(RequestType.ACCESS, received, TODAY - timedelta(days=9))
    filed.move(soon, RequestState.VERIFIED, when=received)
    filed.move(done, RequestState.VERIFIED, RequestState.IN_PROGRESS, when=received)
    filed.move(done, RequestState.COMPLETED, when=received)
    filed.move(later, RequestState.VERIFIED, RequestState.IN_PROGRESS, when=received)
    filed.move(later, RequestState.PARTIALLY_COMPLETED, when=received)
    filed.repository.add_task(
        later.id, PlannedTask(TaskKind.MANUAL_STEP, "shop.orders", "delete by hand")
    )
    session.flush()
    settings = Settings(home=tmp_path, four_eyes="off")  # type: ignore[arg-type]

    rows = inbox(session, settings, InboxFilter(), today=TODAY)

    assert [overdue.id, soon.id, later.id, extended.id] == [row.id for row in rows]
    by_id = {row.id: row for row in rows}
    assert (Urgency.OVERDUE, -2) == (by_id[overdue.id].urgency, by_id[overdue.id].days_left)
    assert (Urgency.AT_RISK, WaitingFor.RUN) == (
        by_id[soon.id].urgency,
        by_id[soon.id].waiting_for,
    )
    assert by_id[extended.id].extended
    assert (WaitingFor.MANUAL_STEPS, ("shop",)) == (
        by_id[later.id].waiting_for,
        by_id[later.id].systems,
    )
    assert by_id[overdue.id].waiting_for is WaitingFor.VERIFICATION


def test_filters_and_search_by_id_or_identity(session: Session, tmp_path: object) -> None:
    filed = Requests(session)
    received = at(TODAY - timedelta(days=3))
    first = filed.add(RequestType.ACCESS, received, TODAY + timedelta(days=27))
    second = filed.add(RequestType.ERASURE, received, TODAY + timedelta(days=27))
    session.flush()
    settings = Settings(home=tmp_path)  # type: ignore[arg-type]
    settings_secret = settings.secret

    def find(**chosen: str) -> list[str]:
        return [
            row.id
            for row in inbox(
                session,
                settings,
                InboxFilter(**chosen),
                today=TODAY,
                may_search_identities=True,
            )
        ]

    assert [second.id] == find(type="erasure")
    assert [first.id] == find(search=first.id)
    assert [] == find(search="no-such-request")
    assert [] == find(urgency="overdue")
    # The identity search hashes with the store's secret; this store's requests were
    # keyed with the test secret, so point the settings at it.
    object.__setattr__(settings, "secret", lambda: "statistics-test-secret")
    assert [second.id] == find(search="Subject2@Example.no")
    assert [] == find(search="someone@example.no")
    object.__setattr__(settings, "secret", settings_secret)
    # A role that may not search by identity finds nothing by one.
    assert [] == [
        row.id
        for row in inbox(session, settings, InboxFilter(search="subject2@example.no"), today=TODAY)
    ]
