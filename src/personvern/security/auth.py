"""The authentication port: turn a bearer credential into a Principal.

Each way of proving identity is an :class:`Authenticator`. The API asks each in turn;
one that does not recognise the credential's shape returns None so the next can try,
and one that recognises it but finds it bad raises AuthError. API tokens are the first
adapter; the OIDC adapter (personvern.security.oidc.authenticator, validating the
identity provider's JWTs) slots in beside it without touching any route.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from personvern.security.errors import AuthError
from personvern.security.principal import Principal
from personvern.security.tokens import authenticate_token, looks_like_api_token


class Authenticator(Protocol):
    """Something that can vouch for a bearer credential."""

    def authenticate(self, credential: str, session: Session) -> Principal | None:
        """The principal for ``credential``; None if not mine; AuthError if mine but bad."""
        ...


class ApiTokenAuthenticator:
    """Authenticates personvern's own scoped API tokens (``pv_...``)."""

    def authenticate(self, credential: str, session: Session) -> Principal | None:
        """The token's principal, or None for credentials that are not API tokens."""
        if not looks_like_api_token(credential):
            return None
        return authenticate_token(session, credential)


def authenticate(
    credential: str | None, session: Session, authenticators: Sequence[Authenticator]
) -> Principal:
    """Ask each authenticator in turn; AuthError if none accepts the credential."""
    if not credential:
        raise AuthError(
            "this endpoint needs credentials",
            hint="send `Authorization: Bearer <token>`; create one with `personvern token create`",
        )
    for authenticator in authenticators:
        principal = authenticator.authenticate(credential, session)
        if principal is not None:
            return principal
    raise AuthError(
        "the credentials are not recognised",
        hint="send a personvern API token (pv_...), or the identity provider's access token "
        "if single sign-on is configured (docs/sso.md)",
    )
