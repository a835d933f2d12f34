"""The staff overview's figures, read from the store with a handful of grouped queries.

Statistics need no personal data: every query here names its columns (type, state,
dates, task keys, history messages) and never loads a request row, so no sealed field
is touched and nothing is decrypted, and an erased subject's requests count like any
other. Grouping happens in the database where it can be written the same way for
SQLite, PostgreSQL and MariaDB; percentiles, which those three compute differently or
not at all, are taken in Python from one (received, completed, deadline) row per
request completed in the period.

Days are UTC calendar days: a request received at 00:30 in Oslo counts on the day before.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import RequestState, RequestType, waited_system
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
    system_strain,
    task_system,
    weekly_counts,
)
from personvern.domain.requests.tasks import TaskKind
from personvern.domain.requests.urgency import AT_RISK_DAYS, Urgency
from personvern.store.models import DataSubjectRequest, RequestEvent, RequestTask

#: At-risk requests listed by id at most; the count covers all of them.
AT_RISK_LISTED = 20

_OPEN_STATES = [state.value for state in RequestState if state.is_open]
_TYPES = frozenset(t.value for t in RequestType)


def request_statistics(
    session: Session,
    *,
    today: date,
    weeks: int = 12,
    systems: Collection[str] = (),
    at_risk_listed: int = AT_RISK_LISTED,
) -> RequestStatistics:
    """The overview for the ``weeks`` ISO weeks up to ``today`` (and open requests now).

    ``systems`` are the data map's system keys: with them, a manual step of a system
    whose key holds a dot is counted for that system rather than for its first part.
    """
    window = last_weeks(today, weeks)
    start = _midnight(window[0].monday)
    end = _midnight(today + timedelta(days=1))
    return RequestStatistics(
        today=today,
        weekly=weekly_counts(_received(session, window, start, end), today=today, weeks=weeks),
        completion=_completion(session, start, end),
        open=_open(session, today, at_risk_listed),
        systems=_systems(session, start, end, systems),
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _received(
    session: Session, window: Sequence[IsoWeek], start: datetime, end: datetime
) -> list[tuple[date, str, int]]:
    """(Monday, type, count) per week and type, grouped by the database."""
    received_at = DataSubjectRequest.received_at
    # Each row gets the index of its week by comparing with the weeks' ends: portable,
    # where ISO week functions differ in every database (and SQLite has none).
    bucket = sa.case(
        *[(received_at < _midnight(week.next_monday), index) for index, week in enumerate(window)],
        else_=len(window) - 1,
    ).label("bucket")
    rows = (
        sa.select(bucket, DataSubjectRequest.type.label("type"))
        .where(received_at >= start, received_at < end)
        .subquery()
    )
    # Grouped outside: PostgreSQL does not see a CASE with parameters in GROUP BY as the
    # same expression as in the SELECT list.
    query = sa.select(rows.c.bucket, rows.c.type, sa.func.count()).group_by(
        rows.c.bucket, rows.c.type
    )
    return [
        (window[int(index)].monday, request_type, int(count))
        for index, request_type, count in session.execute(query)
        if request_type in _TYPES
    ]


def _completion(session: Session, start: datetime, end: datetime) -> CompletionSummary:
    """Days to completion of the requests completed in the period (rejections are not)."""
    query = sa.select(
        DataSubjectRequest.received_at,
        DataSubjectRequest.completed_at,
        sa.func.coalesce(
            DataSubjectRequest.extended_deadline, DataSubjectRequest.deadline, type_=sa.Date
        ),
    ).where(
        DataSubjectRequest.state == RequestState.COMPLETED,
        DataSubjectRequest.completed_at >= start,
        DataSubjectRequest.completed_at < end,
    )
    return completion_summary(
        Completion(received.date(), completed.date(), _as_date(deadline))
        for received, completed, deadline in session.execute(query)
        if completed is not None
    )


def _as_date(value: date | str) -> date:
    # COALESCE loses the column type on SQLite, which then hands back the stored text.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _open(session: Session, today: date, listed: int) -> OpenRequests:
    """Open requests per urgency (grouped by the database) and the most urgent at risk."""
    in_force = sa.func.coalesce(
        DataSubjectRequest.extended_deadline, DataSubjectRequest.deadline, type_=sa.Date
    )
    due_soon_from = today + timedelta(days=AT_RISK_DAYS)
    is_open = DataSubjectRequest.state.in_(_OPEN_STATES)
    level = sa.case(
        (in_force < today, Urgency.OVERDUE.value),
        (in_force < due_soon_from, Urgency.AT_RISK.value),
        else_=Urgency.FINE.value,
    ).label("urgency")
    rows = sa.select(level).where(is_open).subquery()
    counts = session.execute(
        sa.select(rows.c.urgency, sa.func.count()).group_by(rows.c.urgency)
    ).all()
    urgent = session.execute(
        sa.select(
            DataSubjectRequest.id,
            DataSubjectRequest.type,
            DataSubjectRequest.state,
            in_force.label("deadline"),
        )
        .where(is_open, in_force < due_soon_from)
        .order_by(in_force, DataSubjectRequest.id)
        .limit(max(0, listed))
    ).all()
    return open_requests(
        [(str(u), int(n)) for u, n in counts],
        [
            AtRiskRequest(
                request_id=request_id,
                type=RequestType(request_type),
                state=RequestState(state),
                deadline=_as_date(deadline),
                days_left=(_as_date(deadline) - today).days,
            )
            for request_id, request_type, state, deadline in urgent
        ],
    )


def _systems(
    session: Session, start: datetime, end: datetime, systems: Collection[str]
) -> tuple[SystemStrain, ...]:
    """Per system, the requests that waited for it and those it left manual steps for."""
    return system_strain(_waited(session, start, end), _manual(session, start, end, systems))


def _waited(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    # One history message per system ("waiting for crm; ..."), so counting distinct
    # requests per message is counting them per system.
    query = (
        sa.select(RequestEvent.message, sa.func.count(sa.distinct(RequestEvent.request_id)))
        .where(
            RequestEvent.state == RequestState.WAITING_FOR_SYSTEM.value,
            RequestEvent.message.like("waiting for %"),
            RequestEvent.at >= start,
            RequestEvent.at < end,
        )
        .group_by(RequestEvent.message)
    )
    waited: dict[str, int] = {}
    for message, count in session.execute(query):
        system = waited_system(message)
        if system is not None:
            waited[system] = waited.get(system, 0) + int(count)
    return waited


def _manual(
    session: Session, start: datetime, end: datetime, systems: Collection[str]
) -> dict[str, int]:
    in_period = (
        RequestTask.kind == TaskKind.MANUAL_STEP.value,
        RequestTask.created_at >= start,
        RequestTask.created_at < end,
    )
    keys = session.scalars(sa.select(RequestTask.key).where(*in_period).distinct()).all()
    if not keys:
        return {}
    # Several keys ("crm.customers", "crm.orders") belong to one system, and a request
    # with steps in both counts once: the keys are mapped to systems here, and the
    # database counts distinct requests per system.
    by_system: dict[str, list[str]] = {}
    for key in keys:
        by_system.setdefault(task_system(key, systems), []).append(key)
    system = sa.case(
        *[(RequestTask.key.in_(members), name) for name, members in by_system.items()],
    ).label("system")
    rows = sa.select(system, RequestTask.request_id).where(*in_period).subquery()
    query = sa.select(rows.c.system, sa.func.count(sa.distinct(rows.c.request_id))).group_by(
        rows.c.system
    )
    return {str(name): int(count) for name, count in session.execute(query)}
