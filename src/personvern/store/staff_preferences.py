"""Settings each member of staff keeps across browsers and sign-ins: the table and its repository.

A row per staff principal, keyed by the principal's subject (``local:<user name>`` for a
local account, ``oidc:<sub>`` for single sign-on), so a setting follows the person, not
the browser. Today it holds the console language; a later setting is a column here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from personvern.store.base import Base, UTCDateTime


class StaffPreference(Base):
    """What one member of staff chose for the console."""

    __tablename__ = "staff_preferences"

    #: The principal's subject, as staff_sessions.subject keeps it.
    subject: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    #: The console language chosen with the language switch ("nb" or "en"); None: not chosen.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffPreferenceRepository:
    """Reads and writes rows of ``staff_preferences`` within the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def language(self, subject: str) -> str | None:
        """The language ``subject`` chose, or None if they never did."""
        return self.session.scalar(
            sa.select(StaffPreference.language).where(StaffPreference.subject == subject)
        )

    def set_language(self, subject: str, language: str, now: datetime) -> StaffPreference:
        """Keep ``language`` as the choice of ``subject`` (flushed)."""
        row = self.session.get(StaffPreference, subject, populate_existing=True)
        if row is None:
            row = StaffPreference(subject=subject, language=language, updated_at=now)
            self.session.add(row)
        else:
            row.language = language
            row.updated_at = now
        self.session.flush()
        return row
