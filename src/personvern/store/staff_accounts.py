"""Local staff accounts: the table and its repository.

Only an Argon2id hash of each password is kept (personvern.security.staff_accounts makes
and checks it). The user name is stored in its canonical form (personvern.domain.
staff_accounts.parse_username), so the unique constraint is the whole duplicate check.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from personvern.store.base import Base, UTCDateTime


class StaffAccount(Base):
    """One member of staff who signs in with a user name and a password."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # A plain string like api_tokens.role: a new role needs no schema change.
    role: Mapped[str] = mapped_column(sa.String(32))
    #: The Argon2 hash in PHC form ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Who created it, as the audit trail names actors (``cli:kari``, ``oidc:...``).
    created_by: Mapped[str] = mapped_column(sa.String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Failed sign-ins in a row, each within the lockout window of the one before.
    failed_attempts: Mapped[int] = mapped_column(sa.Integer(), default=0)
    #: When the last of those failed; older failures than one window no longer count.
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffAccountRepository:
    """Reads and writes rows of ``staff_accounts`` within the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, *, username: str, role: str, password_hash: str, created_by: str, now: datetime
    ) -> StaffAccount:
        """Insert an account (flushed, so a duplicate user name fails here)."""
        row = StaffAccount(
            username=username,
            role=role,
            password_hash=password_hash,
            created_at=now,
            created_by=created_by,
            failed_attempts=0,
            password_changed_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def by_username(self, username: str) -> StaffAccount | None:
        """The account with this (canonical) user name, if any, as the store has it now."""
        # populate_existing: a session that read the account before (sessions here keep
        # objects past a commit) must see a lock, an unlock or a disable made since.
        return self.session.scalar(
            sa.select(StaffAccount)
            .where(StaffAccount.username == username)
            .execution_options(populate_existing=True)
        )

    def locked_for_update(self, account_id: int) -> StaffAccount | None:
        """The account read afresh under a row lock, for a counter that must not lose updates.

        Two wrong passwords at once must count as two. PostgreSQL and MariaDB lock the
        row (SELECT ... FOR UPDATE); SQLite lets one writer in at a time anyway.
        """
        return self.session.scalar(
            sa.select(StaffAccount)
            .where(StaffAccount.id == account_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def list_all(self) -> list[StaffAccount]:
        """Every account, by user name."""
        return list(self.session.scalars(sa.select(StaffAccount).order_by(StaffAccount.username)))
