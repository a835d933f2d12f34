"""Accepting the identity provider's access tokens on the API (the Authenticator port)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from personvern.security.oidc.provider import IdentityProvider
from personvern.security.oidc.roles import role_from_claims
from personvern.security.principal import Principal

#: Three base64url parts; the signature may be empty (alg none), which is then refused
#: as a bad token of this kind rather than passed on as "not mine".
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
#: Far above any real token; parsing stops before a huge header costs anything.
MAX_TOKEN_LENGTH = 16 * 1024
MAX_DISPLAY_NAME_LENGTH = 200
#: Prefixed so a provider's subject can never equal one of personvern's own (api-token:7).
SUBJECT_PREFIX = "oidc:"


def looks_like_jwt(credential: str) -> bool:
    """Whether ``credential`` has the shape of a JWT (not whether it is valid)."""
    return len(credential) <= MAX_TOKEN_LENGTH and _JWT_SHAPE.match(credential) is not None


def principal_from_claims(claims: Mapping[str, Any], provider: IdentityProvider) -> Principal:
    """The principal validated ``claims`` stand for, in the role the role map gives them."""
    config = provider.config
    role = role_from_claims(claims, config.role_claim, config.role_map)
    # Kept for the audit trail, never logged: it is the person's name or address.
    display_name = next(
        (
            value
            for name in ("preferred_username", "name", "email")
            if isinstance(value := claims.get(name), str) and value
        ),
        "",
    )
    return Principal(
        subject=SUBJECT_PREFIX + str(claims["sub"]),
        role=role,
        via="oidc",
        display_name=display_name[:MAX_DISPLAY_NAME_LENGTH],
    )


class OidcAuthenticator:
    """Authenticates bearer access tokens issued by the configured identity provider."""

    def __init__(self, provider: IdentityProvider) -> None:
        self.provider = provider

    def authenticate(self, credential: str, session: Session) -> Principal | None:
        """The token's principal; None for credentials that are not JWTs; AuthError if bad."""
        if not looks_like_jwt(credential):
            return None
        claims = self.provider.validator.validate(
            credential, audience=self.provider.config.audience
        )
        return principal_from_claims(claims, self.provider)
