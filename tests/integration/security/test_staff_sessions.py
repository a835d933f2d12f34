"""Staff sessions in the store: hashed ids, idle and absolute ends (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.roles import Role
from personvern.housekeeping import sweep
from personvern.security.principal import Principal
from personvern.security.staff_sessions import (
    SessionLifetime,
    close_session,
    hash_session_id,
    open_session,
    session_principal,
)
from personvern.settings import Settings
from personvern.store.staff_sessions import StaffSession

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LIFETIME = SessionLifetime(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
DPO = Principal(subject="oidc:user-1", role=Role.PRIVACY_OFFICER, via="oidc", display_name="D")


def test_only_the_hash_of_the_session_id_is_stored(session: Session) -> None:
    session_id = open_session(session, DPO, LIFETIME, now=T0)
    session.commit()
    row = session.execute(sa.select(StaffSession.__table__)).one()
    assert hash_session_id(session_id) == row.id_hash
    assert all(session_id not in str(value) for value in row)
    assert ("oidc:user-1", "privacy_officer", T0 + timedelta(hours=8)) == (
        row.subject,
        row.role,
        row.expires_at,
    )


def test_a_session_in_use_lives_until_its_absolute_end(session: Session) -> None:
    session_id = open_session(session, DPO, LIFETIME, now=T0)
    for minutes in range(20, 8 * 60, 20):
        principal = session_principal(
            session, session_id, LIFETIME, T0 + timedelta(minutes=minutes)
        )
        assert principal is not None, minutes
        assert (Role.PRIVACY_OFFICER, "oidc") == (principal.role, principal.via)
    assert session_principal(session, session_id, LIFETIME, T0 + timedelta(hours=8)) is None
    assert [] == list(session.scalars(sa.select(StaffSession)))


def test_an_idle_session_ends(session: Session) -> None:
    session_id = open_session(session, DPO, LIFETIME, now=T0)
    assert session_principal(session, session_id, LIFETIME, T0 + timedelta(minutes=29))
    later = T0 + timedelta(minutes=29 + 30)
    assert session_principal(session, session_id, LIFETIME, later) is None


def test_closing_a_session_ends_it_and_unknown_ids_find_nothing(session: Session) -> None:
    session_id = open_session(session, DPO, LIFETIME, now=T0)
    assert close_session(session, session_id)
    assert not close_session(session, session_id)
    assert session_principal(session, session_id, LIFETIME, T0) is None
    assert session_principal(session, "x" * 500, LIFETIME, T0) is None
    assert session_principal(session, None, LIFETIME, T0) is None


def test_a_new_sign_in_forgets_sessions_that_have_ended(session: Session) -> None:
    open_session(session, DPO, LIFETIME, now=T0)
    open_session(session, DPO, LIFETIME, now=T0 + timedelta(hours=9))
    assert 1 == len(list(session.scalars(sa.select(StaffSession))))


def test_housekeeping_deletes_ended_sessions_and_keeps_live_ones(
    session: Session, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None)
    open_session(session, DPO, LIFETIME, now=T0)  # idle for 45 minutes at the sweep
    live = open_session(session, DPO, LIFETIME, now=T0 + timedelta(minutes=20))
    session.commit()
    sweep_at = T0 + timedelta(minutes=45)

    counted = sweep(session, settings, sweep_at, dry_run=True)
    assert (1, 2) == (counted.staff_sessions, len(list(session.scalars(sa.select(StaffSession)))))
    report = sweep(session, settings, sweep_at)
    assert 1 == report.staff_sessions
    assert "1 ended staff session(s)" in report.summary()
    [row] = session.scalars(sa.select(StaffSession))
    assert hash_session_id(live) == row.id_hash
