"""Keyed hashes of a subject's identities: equality without keeping the value.

personvern must answer "is this the same person?" (duplicate requests, restriction and
objection flags, rate limits per address) long after it should have forgotten the
address itself. An HMAC with the installation's secret key gives that: equal inputs
give equal hashes, and without the key nobody can test guesses against the stored
values, which a plain SHA-256 of an e-mail address or a phone number would allow.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

# Separators that no normalised identity contains, so ("a", "b=c") and ("a=b", "c")
# can never hash alike.
_KIND_SEPARATOR = "\x1f"
_IDENTITY_SEPARATOR = "\x1e"


class KindAndValue(Protocol):
    """An identity: domain.requests.identity.SubjectIdentity fits."""

    @property
    def kind(self) -> str:
        """The identity's kind, e.g. ``email``."""
        ...

    @property
    def value(self) -> str:
        """The normalised value."""
        ...


def _digest(secret: str, purpose: str, text: str) -> str:
    # The purpose is part of the message so a hash made for one use (a subject key) is
    # never equal to one made for another (a single identity) from the same input.
    message = f"{purpose}{_KIND_SEPARATOR}{text}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def identity_hash(secret: str, kind: str, value: str) -> str:
    """The keyed hash of one normalised identity (64 hex characters)."""
    # As identity_hashes: a decision hashes one identity per call, many calls a second.
    mine = _keyed_prefix(secret, kind).copy()
    mine.update(value.encode())
    return mine.hexdigest()


def identity_hashes(secret: str, kind: str, values: Iterable[str]) -> list[str]:
    """identity_hash of many values of one kind, in order; for bulk work (one key set-up)."""
    keyed = _keyed_prefix(secret, kind)
    hashes = []
    for value in values:
        mine = keyed.copy()
        mine.update(value.encode())
        hashes.append(mine.hexdigest())
    return hashes


def identity_hash_pairs(
    secret: str, identities: Iterable[KindAndValue | tuple[str, str]]
) -> list[tuple[str, str]]:
    """(kind, identity_hash) of each identity: how an open request is found by identity."""
    pairs = [_kind_and_value(identity) for identity in identities]
    return [(kind, identity_hash(secret, kind, value)) for kind, value in pairs]


@lru_cache(maxsize=64)
def _keyed_prefix(secret: str, kind: str) -> hmac.HMAC:
    """The HMAC state after the key and an identity's shared prefix; never updated itself.

    Each value continues a copy of it: the same HMAC as from the key each time, a third
    faster. Only copied, so threads share it safely.
    """
    prefix = f"identity{_KIND_SEPARATOR}{kind}{_KIND_SEPARATOR}"
    return hmac.new(secret.encode("utf-8"), prefix.encode(), "sha256")


def subject_key(secret: str, identities: Iterable[KindAndValue | tuple[str, str]]) -> str:
    """The keyed hash of a set of normalised identities, independent of their order."""
    pairs = sorted({_kind_and_value(identity) for identity in identities})
    text = _IDENTITY_SEPARATOR.join(f"{kind}{_KIND_SEPARATOR}{value}" for kind, value in pairs)
    return _digest(secret, "subject", text)


def _kind_and_value(identity: KindAndValue | tuple[str, str]) -> tuple[str, str]:
    if isinstance(identity, tuple):
        return identity[0], identity[1]
    return str(identity.kind), identity.value


def keyed_hash(secret: str, purpose: str, text: str) -> str:
    """A keyed hash of ``text`` for ``purpose`` (client addresses, one-time codes)."""
    return _digest(secret, purpose, text)


def hashes_equal(left: str, right: str) -> bool:
    """Compare two hashes in constant time, so timing reveals nothing about a guess."""
    return hmac.compare_digest(left, right)
