"""The identity provider's signing keys (JWKS), cached and refreshed when they rotate.

Keys are fetched once and kept for the cache lifetime. A token naming a key id the cache
does not know triggers a refresh, because the provider may have rotated its keys since;
such refreshes are rate-limited, so a flood of tokens with made-up key ids costs the
provider at most one request per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWKError

from personvern.security.errors import AuthError, IdentityProviderError

log = logging.getLogger("personvern.security.oidc")

#: What fetching the JWKS returns: the parsed JSON document.
JwksFetcher = Callable[[], Mapping[str, Any]]


@dataclass(frozen=True)
class PublishedKey:
    """One public key from the JWKS, with the algorithm it was published for (if any)."""

    jwk: PyJWK
    #: The JWK's ``alg``; None when the provider leaves it to the key type.
    algorithm: str | None

    @property
    def key_type(self) -> str:
        """The JWK key type: RSA, EC or OKP."""
        return str(self.jwk.key_type)


class SigningKeys:
    """The provider's public signing keys by key id, refreshed on rotation."""

    def __init__(
        self,
        fetch: JwksFetcher,
        *,
        lifetime_seconds: float,
        min_refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._lifetime = lifetime_seconds
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str | None, PublishedKey] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        # One refresh at a time: the others wait for it instead of each asking the provider.
        self._lock = threading.Lock()

    def key(self, kid: str | None) -> PublishedKey:
        """The key named ``kid``; AuthError if the provider does not publish it."""
        with self._lock:
            now = self._clock()
            if self._keys is None or now - self._fetched_at >= self._lifetime:
                self._refresh(now, keep_stale=self._keys is not None)
            assert self._keys is not None
            found = self._lookup(kid)
            if found is None and self._may_refresh(now):
                self._refresh(now, keep_stale=True)
                found = self._lookup(kid)
        if found is None:
            raise AuthError(
                "the token is signed with a key the identity provider does not publish",
                hint="a token from another provider or environment, or from a retired key",
            )
        return found

    def _lookup(self, kid: str | None) -> PublishedKey | None:
        assert self._keys is not None
        if kid is None:
            # Without a key id the token can only be checked if there is one key.
            only = list(self._keys.values())
            return only[0] if len(only) == 1 else None
        return self._keys.get(kid)

    def _may_refresh(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._min_refresh

    def _refresh(self, now: float, *, keep_stale: bool) -> None:
        self._attempted_at = now
        try:
            self._keys = parse_jwks(self._fetch())
        except IdentityProviderError as exc:
            if not keep_stale:
                raise
            # Better the keys we had than none: tokens they signed stay checkable.
            log.warning("keeping the cached signing keys: %s", exc.message)
            return
        self._fetched_at = now


def parse_jwks(document: Mapping[str, Any]) -> dict[str | None, PublishedKey]:
    """The usable signature keys of a JWKS document, by key id."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise IdentityProviderError(
            "the identity provider's key set (JWKS) has no 'keys' list",
            hint="check the jwks_uri in its discovery document",
        )
    keys: dict[str | None, PublishedKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") == "oct":
            # A shared secret has no place in a public key set; never verify with one.
            continue
        try:
            key = PyJWK(entry)
        except PyJWKError:
            # Key types personvern cannot use (or does not accept) are not an error:
            # providers publish encryption keys and newer key types beside the signing keys.
            continue
        kid = entry.get("kid")
        alg = entry.get("alg")
        published = PublishedKey(jwk=key, algorithm=alg if isinstance(alg, str) else None)
        keys[kid if isinstance(kid, str) else None] = published
    return keys
