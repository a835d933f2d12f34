"""The audit trail in a real store: tampering in SQL is caught, concurrent appends stay linked.

Events are recorded the way personvern records them (issuing and revoking tokens,
filing and moving a request); then rows are altered, deleted and inserted with SQL
behind personvern's back, and verification must name the first broken event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from personvern.domain.audit.chain import BreakKind, chain_hash
from personvern.domain.audit.event import AuditAction, AuditActor, AuditEvent
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token, revoke_token
from personvern.store.audit_events import AuditEventRow, AuditTrail
from personvern.store.db import make_session_factory
from personvern.store.requests import RequestRepository

EVENTS = sa.table(
    "audit_events",
    sa.column("sequence"),
    sa.column("detail", sa.JSON),
    sa.column("previous_hash"),
    sa.column("hash"),
)


def _record_six(session: Session) -> str:
    """Six events the way personvern makes them; returns the request's subject key."""
    first = issue_token(session, name="ops", role=Role.ADMIN)  # 1
    issue_token(session, name="auditor", role=Role.AUDITOR)  # 2
    repository = RequestRepository(session)
    request = repository.add(  # 3
        type=RequestType.ACCESS,
        identities=[{"kind": "email", "value": "kari@example.no"}],
        identity_hashes=(),
        subject_key="a" * 64,
        language="nb",
        channel="api",
        created_by="api-token:1",
        deadline=date(2027, 1, 4),
    )
    repository.transition(request, RequestState.VERIFIED, "verified", "api-token:1")  # 4
    repository.add_event(request, "run requested", "api-token:1")  # 5
    revoke_token(session, first.info.id)  # 6
    session.commit()
    return request.subject_key


def _alter_detail(session: Session) -> None:
    session.execute(sa.update(EVENTS).where(EVENTS.c.sequence == 3).values(detail={"x": 1}))


def _delete_middle(session: Session) -> None:
    session.execute(sa.delete(EVENTS).where(EVENTS.c.sequence == 3))


def _delete_last(session: Session) -> None:
    session.execute(sa.delete(EVENTS).where(EVENTS.c.sequence == 6))


def _insert_garbage(session: Session) -> None:
    row = session.get(AuditEventRow, 6)
    assert row is not None
    _insert(session, 7, row, previous_hash=row.hash, hash_="e" * 64)


def _insert_well_formed(session: Session) -> None:
    """A forger who knows the algorithm appends a valid-looking event, head row untouched."""
    row = session.get(AuditEventRow, 6)
    assert row is not None
    event = AuditEvent(
        datetime.now(UTC), AuditActor("api-token:2"), AuditAction.TOKEN_REVOKED.value
    )
    _insert(
        session, 7, row, previous_hash=row.hash, hash_=chain_hash(row.hash, 7, event), event=event
    )


def _insert(
    session: Session,
    sequence: int,
    template: AuditEventRow,
    *,
    previous_hash: str,
    hash_: str,
    event: AuditEvent | None = None,
) -> None:
    occurred_at = template.occurred_at
    action = template.action
    actor = template.actor_subject
    if event is not None:
        occurred_at = event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        action, actor = event.action, event.actor.subject
    session.execute(
        sa.insert(AuditEventRow.__table__).values(
            sequence=sequence,
            occurred_at=occurred_at,
            actor_subject=actor,
            actor_role=None,
            actor_via=None,
            action=action,
            outcome="success",
            subject_key=None,
            purpose=None,
            detail={},
            previous_hash=previous_hash,
            hash=hash_,
        )
    )


@pytest.mark.parametrize(
    ("tamper", "sequence", "kind"),
    [
        (_alter_detail, 3, BreakKind.ALTERED),
        (_delete_middle, 4, BreakKind.MISSING),
        (_delete_last, 6, BreakKind.MISSING),
        (_insert_garbage, 7, BreakKind.ALTERED),
        (_insert_well_formed, 7, BreakKind.INSERTED),
    ],
)
def test_verify_names_the_first_event_tampered_with_in_sql(
    session: Session, tamper: Callable[[Session], None], sequence: int, kind: BreakKind
) -> None:
    _record_six(session)
    assert AuditTrail(session).verify().intact
    tamper(session)
    session.commit()
    session.expunge_all()
    verdict = AuditTrail(session).verify()
    assert verdict.broken is not None
    assert (sequence, kind) == (verdict.broken.sequence, verdict.broken.kind)


def test_a_row_cannot_be_slipped_in_between_two_events(session: Session) -> None:
    _record_six(session)
    row = session.get(AuditEventRow, 2)
    assert row is not None
    # Linking a forged event to event 2 needs event 3's place and predecessor: both unique.
    with pytest.raises(IntegrityError):
        _insert(session, 3, row, previous_hash=row.hash, hash_="f" * 64)


def test_the_trail_holds_the_subject_only_as_a_keyed_hash(session: Session) -> None:
    subject_key = _record_six(session)
    rows = AuditTrail(session).page()
    assert [
        "token.created",
        "token.created",
        "request.received",
        "request.state_changed",
        "request.noted",
        "token.revoked",
    ] == [row.action for row in rows]
    assert {subject_key} == {row.subject_key for row in rows if row.subject_key}
    dumped = repr([(row.detail, row.actor_subject, row.purpose) for row in rows])
    assert "kari" not in dumped
    assert "received" == rows[3].detail["from"]


@pytest.mark.parametrize(
    "server",
    [
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb),
    ],
)
def test_two_writers_never_link_to_the_same_predecessor(
    request: pytest.FixtureRequest, server: str
) -> None:
    from personvern.store.db import make_engine
    from personvern.store.migrate import upgrade_to_head

    url: str = request.getfixturevalue(server)
    upgrade_to_head(url)
    engine: Engine = make_engine(url)
    factory = make_session_factory(engine)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            for n in range(15):
                with factory() as session:
                    AuditTrail(session).record(
                        AuditAction.REGISTER_CHANGED, AuditActor(name), detail={"n": n}
                    )
                    session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(f"writer-{i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert [] == failures
        with factory() as session:
            verdict = AuditTrail(session).verify()
            assert verdict.intact, verdict.broken
            assert 30 == verdict.events
            actors = {row.actor_subject for row in AuditTrail(session).page(limit=100)}
            assert {"writer-1", "writer-2"} == actors
    finally:
        engine.dispose()


def test_what_does_not_fit_a_column_is_cut_before_it_is_hashed(session: Session) -> None:
    AuditTrail(session).record(
        AuditAction.LOGIN_SUCCEEDED, AuditActor("oidc:" + "x" * 300, "admin", "oidc")
    )
    session.commit()
    session.expunge_all()
    assert AuditTrail(session).verify().intact


def test_a_lost_head_row_is_rebuilt_from_the_last_event(session: Session) -> None:
    _record_six(session)
    session.execute(sa.text("DELETE FROM audit_chain_head"))
    session.commit()
    AuditTrail(session).record(AuditAction.REGISTER_CHANGED, AuditActor("cli:kari"))
    session.commit()
    verdict = AuditTrail(session).verify()
    assert (True, 7) == (verdict.intact, verdict.head_sequence)
