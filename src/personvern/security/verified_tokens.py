"""API tokens this process verified a moment ago, trusted again without the store.

A marketing system asks for thousands of decisions a second with one token, and
looking the token up (after the failed-authentication counter) on every call cost more
than the decision itself. A token verified here is trusted again for
:data:`VERIFIED_FOR` without reading the store: after that it is looked up again (and
its last use and the sign-in are recorded then, at their one-minute precision). A
revocation in this process takes effect at once; one made by another process (`personvern
token revoke`, another server worker) within :data:`VERIFIED_FOR`, as an identity
provider's access tokens are trusted until they expire.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from personvern.security.principal import Principal

#: How long a verified token is trusted without reading the store again.
VERIFIED_FOR = timedelta(seconds=5)
#: Tokens remembered at most (a handful are in use; the bound keeps guesses from growing it).
CAPACITY = 1_000


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    expires_at: datetime | None
    #: time.monotonic() after which the token is looked up again.
    until: float


class VerifiedTokens:
    """Tokens verified lately, by store and token digest (never the token itself)."""

    def __init__(self, trusted_for: timedelta = VERIFIED_FOR) -> None:
        """Remember verified tokens for ``trusted_for``."""
        self._seconds = trusted_for.total_seconds()
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Verified] = {}

    def principal(self, store: str, token: str, now: datetime) -> Principal | None:
        """The principal of ``token`` if it was verified on ``store`` lately and is unexpired."""
        key = (store, _digest(token))
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() >= entry.until or (
                entry.expires_at is not None and now >= entry.expires_at
            ):
                del self._entries[key]
                return None
        return entry.principal

    def remember(
        self, store: str, token: str, principal: Principal, expires_at: datetime | None
    ) -> None:
        """Note that ``token`` was just verified on ``store`` as ``principal``."""
        entry = _Verified(principal, expires_at, time.monotonic() + self._seconds)
        with self._lock:
            if len(self._entries) >= CAPACITY:
                self._entries.clear()
            self._entries[(store, _digest(token))] = entry

    def forget_all(self) -> None:
        """Look every token up again (a token was revoked)."""
        with self._lock:
            self._entries.clear()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: The process's verified tokens (API workers, the staff pages' API calls).
VERIFIED_TOKENS = VerifiedTokens()
