"""Scoped API tokens: issued once in clear text, kept only as a SHA-256 hash.

A token looks like ``pv_<43 url-safe characters>`` (32 random bytes). Its first
characters (the prefix) are stored in clear so that listings can show which token is
which and so that verification can find the row without using the secret; the secret
part is then compared in constant time against the stored hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditAction, AuditActor
from personvern.domain.roles import Role
from personvern.security.errors import AuthError, TokenRequestError
from personvern.security.principal import Principal
from personvern.security.verified_tokens import VERIFIED_TOKENS
from personvern.store.audit_events import AuditTrail
from personvern.store.base import utcnow
from personvern.store.models import ApiToken
from personvern.store.tokens import ApiTokenRepository

TOKEN_PREFIX = "pv_"  # noqa: S105 - a public marker that makes leaked tokens recognisable
#: Characters of the token kept in clear: "pv_" plus 8 of the random part (48 bits).
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
#: Writing last_used_at on every request would turn each read into a write; a minute's
#: precision is enough to see which tokens are still in use, and it is written at most
#: once a minute per token and process.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a stored token (never the token or its hash)."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenInfo:
        """The shareable facts about a stored token."""
        return cls(
            id=token.id,
            name=token.name,
            role=token.role,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            expires_at=token.expires_at,
        )

    def status(self, now: datetime | None = None) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and (now or utcnow()) >= self.expires_at:
            return "expired"
        return "active"


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token: ``token`` is the only time the secret exists in clear."""

    info: TokenInfo
    token: str


def generate_token() -> str:
    """A new random token: ``pv_`` followed by 32 random bytes, URL-safe base64."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of ``token``, as stored.

    A plain fast hash is right here, unlike for passwords: the token carries 256 bits of
    randomness, so there is nothing for a slow hash to protect against guessing.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    """The clear-text prefix of ``token`` shown in listings."""
    return token[:DISPLAY_PREFIX_LENGTH]


def looks_like_api_token(credential: str) -> bool:
    """Whether ``credential`` has the shape of a personvern API token (not whether it is valid)."""
    return credential.startswith(TOKEN_PREFIX) and len(credential) > DISPLAY_PREFIX_LENGTH


def issue_token(
    session: Session,
    *,
    name: str,
    role: Role,
    expires_at: datetime | None = None,
    now: datetime | None = None,
    actor: AuditActor | None = None,
) -> IssuedToken:
    """Create and store a token for ``role``; the returned clear text is never stored."""
    now = now or utcnow()
    name = name.strip()
    if not name:
        raise TokenRequestError("a token needs a name", hint="say who or what will use it")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenRequestError(f"a token name may have at most {MAX_NAME_LENGTH} characters")
    if expires_at is not None and expires_at <= now:
        raise TokenRequestError("the expiry time is in the past")
    token = generate_token()
    row = ApiTokenRepository(session).add(
        name=name,
        role=Role(role).value,
        token_hash=hash_token(token),
        prefix=display_prefix(token),
        created_at=now,
        expires_at=expires_at,
    )
    AuditTrail(session).record(
        AuditAction.TOKEN_CREATED,
        actor or AuditActor("personvern"),
        detail={"token_id": row.id, "role": row.role, "prefix": row.prefix},
        at=now,
    )
    return IssuedToken(info=TokenInfo.of(row), token=token)


def list_tokens(session: Session) -> list[TokenInfo]:
    """Every stored token, oldest first."""
    return [TokenInfo.of(row) for row in ApiTokenRepository(session).list_all()]


def revoke_token(
    session: Session,
    token_id: int,
    now: datetime | None = None,
    actor: AuditActor | None = None,
) -> TokenInfo:
    """Revoke the token with ``token_id``; it stops working at once."""
    repository = ApiTokenRepository(session)
    row = repository.get(token_id)
    already = row.revoked_at is not None
    repository.revoke(row, now or utcnow())
    # After the commit, or a call between the two could remember the token again.
    event.listen(session, "after_commit", _forget_verified, once=True)
    if not already:
        AuditTrail(session).record(
            AuditAction.TOKEN_REVOKED,
            actor or AuditActor("personvern"),
            detail={"token_id": row.id, "role": row.role, "prefix": row.prefix},
            at=now,
        )
    return TokenInfo.of(row)


def _forget_verified(_session: Session) -> None:
    VERIFIED_TOKENS.forget_all()


def authenticate_token(session: Session, token: str, now: datetime | None = None) -> Principal:
    """The principal an API token stands for, or AuthError if it is unknown or unusable."""
    now = now or utcnow()
    expected = hash_token(token)
    repository = ApiTokenRepository(session)
    match: ApiToken | None = None
    for candidate in repository.find_by_prefix(display_prefix(token)):
        # compare_digest takes the same time wherever the strings differ, so response
        # times reveal nothing about how close a guess came.
        if hmac.compare_digest(candidate.token_hash, expected):
            match = candidate
    if match is None:
        raise AuthError("unknown API token", hint="create one with `personvern token create`")
    if match.revoked_at is not None:
        raise AuthError(f"API token {match.prefix}… was revoked")
    if match.expires_at is not None and now >= match.expires_at:
        raise AuthError(f"API token {match.prefix}… has expired")
    try:
        role = Role(match.role)
    except ValueError:
        # A role removed from the code while tokens for it remain: refuse, do not guess.
        raise AuthError(f"API token {match.prefix}… has an unknown role '{match.role}'") from None
    if _due_for_marking((match.id, match.token_hash), match.last_used_at, now):
        repository.mark_used(match, now, not_since=now - LAST_USED_PRECISION)
    principal = Principal(
        subject=f"api-token:{match.id}",
        role=role,
        via="api_token",
        display_name=match.name,
        token_id=match.id,
    )
    VERIFIED_TOKENS.remember(store_key(session), token, principal, match.expires_at)
    return principal


def store_key(session: Session) -> str:
    """Which store ``session`` is on, as verified tokens are remembered by (ids repeat)."""
    return str(session.get_bind().engine.url)


# Token ids this process recorded a use of, and when: concurrent calls with one token
# in the same minute then write once between them, not once each.
# Keyed by id and hash: ids repeat across stores (a test run, a second installation).
_marked: dict[tuple[int, str], datetime] = {}
_marked_lock = threading.Lock()


def _due_for_marking(token: tuple[int, str], last_used_at: datetime | None, now: datetime) -> bool:
    if last_used_at is not None and now - last_used_at < LAST_USED_PRECISION:
        return False
    with _marked_lock:
        seen = _marked.get(token)
        if seen is not None and abs(now - seen) < LAST_USED_PRECISION:
            return False
        _marked[token] = now
    return True
