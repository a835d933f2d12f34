"""Checking a JWT from the identity provider: signature, algorithm, issuer, audience, times."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any

import jwt
from jwt import exceptions as jwt_errors

from personvern.security.errors import AuthError
from personvern.security.oidc.keys import SigningKeys

#: The key type each algorithm family needs: an RS256 token cannot be checked with an EC key.
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
#: Claims every token must carry; nbf is checked when present.
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
MAX_SUBJECT_LENGTH = 255
_PRINTABLE = re.compile(r"^[A-Za-z0-9._-]{1,16}$")

Claims = Mapping[str, Any]


class TokenValidator:
    """Validates JWTs signed by one issuer's published keys."""

    def __init__(
        self,
        *,
        issuer: str,
        keys: SigningKeys,
        algorithms: tuple[str, ...],
        leeway_seconds: int,
    ) -> None:
        self.issuer = issuer
        self.keys = keys
        self.algorithms = algorithms
        self.leeway = leeway_seconds

    def validate(self, token: str, *, audience: str, nonce: str | None = None) -> Claims:
        """The token's claims if it is genuine and current for ``audience``; else AuthError."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt_errors.PyJWTError:
            raise AuthError("the bearer token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        self._check_algorithm(algorithm)
        assert isinstance(algorithm, str)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthError("the token's key id (kid) is not a string")
        key = self.keys.key(kid)
        expected_type = _KEY_TYPES.get(algorithm[:2])
        declared = key.algorithm
        if key.key_type != expected_type or (declared is not None and declared != algorithm):
            raise AuthError(
                f"the token's algorithm {algorithm} does not match the key that should sign it"
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.jwk.key,
                algorithms=[algorithm],
                audience=audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt_errors.PyJWTError as exc:
            raise _auth_error(exc, audience=audience, issuer=self.issuer) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
            raise AuthError("the token's subject (sub) is missing or malformed")
        if nonce is not None:
            found = claims.get("nonce")
            if not isinstance(found, str) or not hmac.compare_digest(found, nonce):
                raise AuthError(
                    "the ID token does not answer this sign-in (nonce mismatch)",
                    hint="start again at /staff/login",
                )
        return claims

    def _check_algorithm(self, algorithm: object) -> None:
        if isinstance(algorithm, str) and algorithm in self.algorithms:
            return
        accepted = ", ".join(self.algorithms)
        if isinstance(algorithm, str) and algorithm.lower() == "none":
            raise AuthError("unsigned tokens (alg none) are never accepted")
        shown = algorithm if isinstance(algorithm, str) and _PRINTABLE.match(algorithm) else "?"
        raise AuthError(
            f"the token's signature algorithm {shown} is not accepted",
            hint=f"accepted: {accepted} (PERSONVERN_OIDC_ALGORITHMS)",
        )


def _auth_error(exc: jwt_errors.PyJWTError, *, audience: str, issuer: str) -> AuthError:
    """A message a DPO can act on for each way a token fails."""
    if isinstance(exc, jwt_errors.MissingRequiredClaimError):
        return AuthError(f"the token lacks the '{exc.claim}' claim")
    explanations: tuple[tuple[type[jwt_errors.PyJWTError], str, str | None], ...] = (
        (
            jwt_errors.ExpiredSignatureError,
            "the token has expired",
            "get a new one from the identity provider",
        ),
        (
            jwt_errors.ImmatureSignatureError,
            "the token is not valid yet (nbf or iat lies in the future)",
            "check that the clocks of personvern and the identity provider agree",
        ),
        (
            jwt_errors.InvalidAudienceError,
            "the token is meant for another audience (aud)",
            f"personvern accepts tokens for '{audience}' (PERSONVERN_OIDC_AUDIENCE)",
        ),
        (
            jwt_errors.InvalidIssuerError,
            "the token comes from another issuer (iss)",
            f"personvern trusts '{issuer}' (PERSONVERN_OIDC_ISSUER)",
        ),
        (jwt_errors.InvalidSignatureError, "the token's signature does not verify", None),
    )
    for kind, message, hint in explanations:
        if isinstance(exc, kind):
            return AuthError(message, hint=hint)
    return AuthError("the token is not valid")
