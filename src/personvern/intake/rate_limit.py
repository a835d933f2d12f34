"""How many codes an address receives and a client asks for, in a sliding window.

Codes cost the company nothing but cost a subject their inbox: without a limit anyone
could flood an address with mail from us. Counting per hashed address stops that;
counting per hashed client IP stops one client spreading the flood over many addresses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.intake.errors import RateLimitedError
from personvern.store.models import IntakeAttempt


@dataclass(frozen=True)
class Limit:
    """At most ``maximum`` events for one hashed key of ``kind`` within the window."""

    kind: str
    key_hash: str
    maximum: int
    message: str


def check_limits(
    session: Session, limits: Iterable[Limit], window: timedelta, now: datetime
) -> None:
    """Raise RateLimitedError (with the wait until a slot frees) if any limit is full."""
    since = now - window
    for limit in limits:
        times = session.scalars(
            sa.select(IntakeAttempt.at)
            .where(
                IntakeAttempt.kind == limit.kind,
                IntakeAttempt.key_hash == limit.key_hash,
                IntakeAttempt.at > since,
            )
            .order_by(IntakeAttempt.at)
        ).all()
        if len(times) >= limit.maximum:
            # The event that frees a slot is the one that leaves the window first.
            frees_at = times[len(times) - limit.maximum] + window
            wait = (frees_at - now).total_seconds()
            minutes = max(1, round(wait / 60))
            raise RateLimitedError(
                limit.message,
                retry_after=wait,
                hint=f"try again in {minutes} minute{'s' if minutes != 1 else ''}",
            )


def record(
    session: Session, keys: Iterable[tuple[str, str]], window: timedelta, now: datetime
) -> None:
    """Count one event for each (kind, key_hash) and forget events older than the window."""
    session.execute(sa.delete(IntakeAttempt).where(IntakeAttempt.at <= now - window))
    session.add_all(IntakeAttempt(kind=kind, key_hash=key, at=now) for kind, key in keys)
    session.flush()
