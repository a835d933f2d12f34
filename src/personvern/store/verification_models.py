"""Tables for proving a subject's identity at intake: one-time codes and rate limits.

Neither table keeps an address, an IP address or a code in clear: each is an HMAC with
the installation's secret key (personvern.security.subject_hash), enough to compare
and count, useless to whoever reads a backup.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from personvern.store.base import Base, UTCDateTime, utcnow


class VerificationChallenge(Base):
    """A one-time code sent to a subject's e-mail address for one request."""

    __tablename__ = "verification_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(sa.ForeignKey("data_subject_requests.id"), index=True)
    #: Keyed hash of the address the code went to.
    address_hash: Mapped[str] = mapped_column(sa.String(64))
    #: Keyed hash of the code, bound to this challenge's request.
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Codes entered so far (right or wrong); at the limit the challenge is dead.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Set when the code was accepted or a newer code replaced it.
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IntakeAttempt(Base):
    """One code sent, counted against the address and the client it was sent for."""

    __tablename__ = "intake_attempts"
    __table_args__ = (sa.Index("ix_intake_attempts_lookup", "kind", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What ``key_hash`` identifies: ``address`` or ``client``.
    kind: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    #: Indexed on its own too, so expired rows can be pruned without a table scan.
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class RateLimitKey(Base):
    """One counted key (a hashed address or client network): the row a limit locks.

    Locking it serialises the callers of one key, so counting the events in the window
    and adding one is a single atomic step even on PostgreSQL's concurrent transactions.
    """

    __tablename__ = "rate_limit_keys"

    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
