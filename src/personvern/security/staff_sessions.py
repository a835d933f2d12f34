"""Staff sessions: what a signed-in browser proves, and for how long.

A session ends at whichever comes first: its absolute end (sign-in plus the maximum
lifetime) or its idle end (last use plus the idle lifetime). The session id exists in
clear only in the browser's cookie; the store keeps its hash.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from personvern.domain.roles import Role
from personvern.security.principal import Principal, Via
from personvern.store.base import utcnow
from personvern.store.staff_sessions import StaffSessionRepository

#: Writing last_seen_at on every page would turn each read into a write; a minute's
#: precision is plenty against an idle lifetime of many minutes.
LAST_SEEN_PRECISION = timedelta(minutes=1)
MAX_SESSION_ID_LENGTH = 128


@dataclass(frozen=True)
class SessionLifetime:
    """How long a staff session may be idle, and how long it may live at most."""

    idle: timedelta
    absolute: timedelta


def hash_session_id(session_id: str) -> str:
    """The SHA-256 hex digest kept for ``session_id`` (256 random bits need no slow hash)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(
    session: Session, principal: Principal, lifetime: SessionLifetime, now: datetime | None = None
) -> str:
    """Store a new session for ``principal``; returns the id for the cookie (never stored)."""
    now = now or utcnow()
    repository = StaffSessionRepository(session)
    # Sign-ins are rare, so this is a cheap moment to forget sessions that have ended.
    repository.delete_ended(now=now, idle_since=now - lifetime.idle)
    session_id = secrets.token_urlsafe(32)
    repository.add(
        id_hash=hash_session_id(session_id),
        subject=principal.subject,
        role=principal.role.value,
        created_at=now,
        expires_at=now + lifetime.absolute,
    )
    return session_id


def session_principal(
    session: Session, session_id: str | None, lifetime: SessionLifetime, now: datetime | None = None
) -> Principal | None:
    """The principal of a live session; None if there is none, or it has ended."""
    if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
        return None
    now = now or utcnow()
    repository = StaffSessionRepository(session)
    id_hash = hash_session_id(session_id)
    row = repository.get(id_hash)
    if row is None:
        return None
    if now >= row.expires_at or now >= row.last_seen_at + lifetime.idle:
        repository.delete(id_hash)
        return None
    try:
        role = Role(row.role)
    except ValueError:
        # A role removed from the code while sessions for it remain: refuse, do not guess.
        repository.delete(id_hash)
        return None
    if now - row.last_seen_at >= LAST_SEEN_PRECISION:
        row.last_seen_at = now
    via = _via(row.subject)
    # A local account's name is its subject's tail; an OIDC subject is an opaque id.
    name = row.subject.removeprefix(LOCAL_SUBJECT_PREFIX) if via == "password" else ""
    return Principal(subject=row.subject, role=role, via=via, display_name=name)


#: The subject prefix of principals signed in with a local account's password.
LOCAL_SUBJECT_PREFIX = "local:"


def _via(subject: str) -> Via:
    """How the session's principal signed in, read from its subject's prefix."""
    return "password" if subject.startswith(LOCAL_SUBJECT_PREFIX) else "oidc"


def close_sessions_of(session: Session, subject: str) -> int:
    """End every session of ``subject`` (a disabled account, a reset password); how many."""
    return StaffSessionRepository(session).delete_for_subject(subject)


def close_session(session: Session, session_id: str | None) -> bool:
    """End the session (sign-out); whether there was one."""
    if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
        return False
    return StaffSessionRepository(session).delete(hash_session_id(session_id))
