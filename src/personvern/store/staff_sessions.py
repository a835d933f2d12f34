"""Server-side staff sessions: the table and its repository.

The browser holds a random session id; the table keeps only its SHA-256 hash, so a copy
of the database (a backup, a replica) lets nobody take over a session. Rules about
sessions (lifetimes, what a session proves) live in personvern.security.staff_sessions.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from personvern.store.base import Base, UTCDateTime


class StaffSession(Base):
    """One signed-in member of staff in one browser."""

    __tablename__ = "staff_sessions"

    #: SHA-256 (hex) of the session id in the browser's cookie.
    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: Who signed in, as the principal's subject (``oidc:<sub>``, ``local:<user name>``).
    subject: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The absolute end; the idle end is last_seen_at plus the idle lifetime.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffSessionRepository:
    """Reads and writes rows of ``staff_sessions`` within the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, *, id_hash: str, subject: str, role: str, created_at: datetime, expires_at: datetime
    ) -> StaffSession:
        """Insert a session row."""
        row = StaffSession(
            id_hash=id_hash,
            subject=subject,
            role=role,
            created_at=created_at,
            expires_at=expires_at,
            last_seen_at=created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, id_hash: str) -> StaffSession | None:
        """The session whose id hashes to ``id_hash``, if any."""
        return self.session.get(StaffSession, id_hash)

    def delete(self, id_hash: str) -> bool:
        """Delete the session; whether there was one."""
        result = self.session.execute(
            sa.delete(StaffSession).where(StaffSession.id_hash == id_hash)
        )
        return bool(getattr(result, "rowcount", 0))

    def delete_for_subject(self, subject: str) -> int:
        """Delete every session of ``subject``; how many there were."""
        result = self.session.execute(
            sa.delete(StaffSession).where(StaffSession.subject == subject)
        )
        return int(getattr(result, "rowcount", 0))

    def delete_ended(self, *, now: datetime, idle_since: datetime) -> int:
        """Delete sessions past their absolute end or unused since ``idle_since``."""
        result = self.session.execute(
            sa.delete(StaffSession).where(_ended(now=now, idle_since=idle_since))
        )
        return int(getattr(result, "rowcount", 0))

    def count_ended(self, *, now: datetime, idle_since: datetime) -> int:
        """How many sessions :meth:`delete_ended` would delete."""
        query = sa.select(sa.func.count()).select_from(StaffSession)
        return int(self.session.scalar(query.where(_ended(now=now, idle_since=idle_since))) or 0)


def _ended(*, now: datetime, idle_since: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(StaffSession.expires_at <= now, StaffSession.last_seen_at <= idle_since)
