"""The tables of personvern's own store.

Every model is imported here so that ``Base.metadata`` is complete for Alembic and for
the test that compares models with migrations. Later tables (requests, consents, audit
events, recipients, breaches, keys) join this module, or a package in its place once it
grows, each with its own migration.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from personvern.store.base import Base, UTCDateTime, utcnow

__all__ = ["ApiToken", "Base"]


class ApiToken(Base):
    """A scoped API token. Only its SHA-256 hash is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # A plain string rather than a database enum: adding a role then needs no schema
    # change, and the application validates the value through domain.roles.Role.
    role: Mapped[str] = mapped_column(sa.String(32))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters of the token: shown in listings so a person can tell tokens
    # apart, and used to find the candidate row before the constant-time hash comparison.
    prefix: Mapped[str] = mapped_column(sa.String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def is_active(self, now: datetime) -> bool:
        """Whether the token may still be used at ``now``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id!r}, name={self.name!r}, role={self.role!r})"
