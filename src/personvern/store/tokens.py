"""Persistence of API tokens. Rules about tokens live in personvern.security.tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from personvern.store.errors import RecordNotFoundError
from personvern.store.models import ApiToken


class ApiTokenRepository:
    """Reads and writes rows of ``api_tokens`` within the caller's session and transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        name: str,
        role: str,
        token_hash: str,
        prefix: str,
        created_at: datetime,
        expires_at: datetime | None = None,
    ) -> ApiToken:
        """Insert a token row and return it with its id assigned."""
        token = ApiToken(
            name=name,
            role=role,
            token_hash=token_hash,
            prefix=prefix,
            created_at=created_at,
            expires_at=expires_at,
        )
        self.session.add(token)
        self.session.flush()
        return token

    def get(self, token_id: int) -> ApiToken:
        """The token with ``token_id``, or RecordNotFoundError."""
        token = self.session.get(ApiToken, token_id)
        if token is None:
            raise RecordNotFoundError(
                f"no API token with id {token_id}", hint="`personvern token list` shows the ids"
            )
        return token

    def find_by_prefix(self, prefix: str) -> Sequence[ApiToken]:
        """Tokens whose display prefix is ``prefix`` (normally one; prefixes may collide)."""
        return self.session.scalars(sa.select(ApiToken).where(ApiToken.prefix == prefix)).all()

    def list_all(self) -> Sequence[ApiToken]:
        """Every token, revoked ones included, oldest first."""
        return self.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()

    def mark_used(
        self, token: ApiToken, at: datetime, *, not_since: datetime | None = None
    ) -> None:
        """Record that ``token`` was used at ``at``, unless a use after ``not_since`` is known.

        One conditional UPDATE: another process that recorded a use a moment ago wins,
        and nothing is read first.
        """
        query = sa.update(ApiToken).where(ApiToken.id == token.id)
        if not_since is not None:
            query = query.where(
                sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= not_since)
            )
        self.session.execute(
            query.values(last_used_at=at).execution_options(synchronize_session=False)
        )
        # Reflect it on the object without making it dirty (no second UPDATE on flush).
        set_committed_value(token, "last_used_at", at)

    def revoke(self, token: ApiToken, at: datetime) -> None:
        """Revoke ``token`` from ``at`` on; revoking twice keeps the first time."""
        if token.revoked_at is None:
            token.revoked_at = at
            self.session.flush()
