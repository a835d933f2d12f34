"""Keyed pseudonyms: the same record always gets the same stand-in, nobody can reverse it."""

from __future__ import annotations

import hashlib
import hmac

from personvern.connectors.port import Key, Pseudonymiser


def pseudonymiser(secret: bytes) -> Pseudonymiser:
    """A function giving each (dataset, field, key) a stable HMAC-SHA256 pseudonym."""

    def pseudonym(dataset: str, field: str, key: Key) -> str:
        digest = hmac.new(secret, f"{dataset}\x1f{field}\x1f{key}".encode(), hashlib.sha256)
        # 24 hex digits (96 bits) fit the short columns names and phones live in and
        # still make a collision across a company's records practically impossible.
        return f"pv-{digest.hexdigest()[:24]}"

    return pseudonym
