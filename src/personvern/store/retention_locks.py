"""One retention run per system at a time: a lease in personvern's store.

Each system swept has one row in ``retention_locks``. A run takes it with a single
conditional ``UPDATE`` (free, expired, or already this run's), which the database
serialises on the row, so of two takers exactly one wins on SQLite, PostgreSQL and
MariaDB alike. The lease runs out ``lease`` after the last heartbeat: a run killed
with the lock held blocks the next one only until then. ``last_started_at`` stays after
the lock is released, so schedulers that noticed the same scheduled time start it once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from personvern.store.base import Base, UTCDateTime


class RetentionLockRow(Base):
    """The lock of one system: which run holds it, until when, and when a run last started."""

    __tablename__ = "retention_locks"

    system: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    #: The run holding the lock; None: free.
    run_id: Mapped[str | None] = mapped_column(sa.String(36))
    #: Who or what started that run (``cli:kari``, ``scheduler``, ``api:ops-token``).
    holder: Mapped[str | None] = mapped_column(sa.String(200))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The lease: free for the next run after this, heartbeat or not.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RetentionLocks:
    """Takes, renews and releases system locks within the caller's session.

    Call each in a transaction of its own (a unit of work), so a lock is visible to
    other processes as soon as it is taken.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def take(
        self,
        system: str,
        run_id: str,
        holder: str,
        *,
        now: datetime,
        lease: timedelta,
        started_before: datetime | None = None,
    ) -> bool:
        """Take ``system``'s lock for ``run_id``; False if another run holds it.

        With ``started_before``, also False when a run started at or after it (a
        scheduled time another scheduler already started).
        """
        self._ensure_row(system)
        table = RetentionLockRow
        free = sa.or_(table.run_id.is_(None), table.expires_at < now, table.run_id == run_id)
        condition = sa.and_(table.system == system, free)
        if started_before is not None:
            condition = sa.and_(
                condition,
                sa.or_(
                    table.last_started_at.is_(None),
                    table.last_started_at < started_before,
                    table.run_id == run_id,
                ),
            )
        result = self.session.execute(
            sa.update(table)
            .execution_options(synchronize_session=False)
            .where(condition)
            .values(
                run_id=run_id,
                holder=holder[:200],
                taken_at=now,
                expires_at=now + lease,
                last_started_at=now,
            )
        )
        return _rowcount(result) == 1

    def renew(self, system: str, run_id: str, *, now: datetime, lease: timedelta) -> bool:
        """Extend ``run_id``'s lease (a heartbeat); False if it no longer holds the lock."""
        table = RetentionLockRow
        result = self.session.execute(
            sa.update(table)
            .execution_options(synchronize_session=False)
            .where(table.system == system, table.run_id == run_id)
            .values(expires_at=now + lease)
        )
        return _rowcount(result) == 1

    def release(self, system: str, run_id: str) -> None:
        """Free ``system``'s lock if ``run_id`` still holds it."""
        table = RetentionLockRow
        self.session.execute(
            sa.update(table)
            .execution_options(synchronize_session=False)
            .where(table.system == system, table.run_id == run_id)
            .values(run_id=None, holder=None, taken_at=None, expires_at=None)
        )

    def holder(self, system: str) -> RetentionLockRow | None:
        """The lock row of ``system`` (held or not), or None if no run ever took it."""
        return self.session.get(RetentionLockRow, system, populate_existing=True)

    def _ensure_row(self, system: str) -> None:
        # The insert of a concurrent taker waits for ours (or ours for theirs) and
        # then fails on the key: the row exists either way, which is all that counts.
        exists = self.session.execute(
            sa.select(RetentionLockRow.system).where(RetentionLockRow.system == system)
        ).first()
        if exists is not None:
            return
        try:
            with self.session.begin_nested():
                self.session.execute(sa.insert(RetentionLockRow).values(system=system))
        except IntegrityError:
            pass


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0))
