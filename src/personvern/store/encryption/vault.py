"""Seal and open a subject's data under their data key; shred and rotate keys.

Unwrapped data keys are cached in a dict the caller owns: the store passes one per
session (a unit of work), so a key stays in memory only while that transaction runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from personvern.domain.envelope import (
    Envelope,
    SubjectKeyDestroyedError,
    UnknownDataKeyError,
)
from personvern.store.base import utcnow
from personvern.store.encryption.cipher import new_data_key, new_key_id, open_envelope, seal
from personvern.store.encryption.providers import KeyEncryptionKeyProvider
from personvern.store.subject_keys import KeyStore, SubjectKey

#: Unwrapped keys of one unit of work: by key id, and the key in force by subject.
KeyCache = dict[Any, Any]


@dataclass
class RotationReport:
    """What ``personvern keys rotate`` did."""

    new_kek: str
    rewrapped: int
    #: KEK versions no live key uses any more: they may be deleted from the provider.
    removable: list[str] = field(default_factory=list)


@dataclass
class VaultStatus:
    """What ``personvern keys status`` shows: counts, never keys."""

    provider: str
    current_kek: str
    live_keys: int
    destroyed_keys: int
    keys_per_kek: dict[str, int]
    removable: list[str]


class SubjectVault:
    """Per-subject data keys from the key store, wrapped by a KEK provider."""

    def __init__(self, keys: KeyStore, provider: KeyEncryptionKeyProvider, name: str) -> None:
        """Use ``keys`` for the wrapped data keys and ``provider`` (called ``name``) for KEKs."""
        self.keys = keys
        self.provider = provider
        self.name = name

    def _subject_key(self, subject_hash: str, cache: KeyCache) -> tuple[bytes, bytes]:
        cached = cache.get(("subject", subject_hash))
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        row = self.keys.active(subject_hash)
        if row is None or row.wrapped_key is None or row.kek_id is None:
            data_key, key_id = new_data_key(), new_key_id()
            kek_id, wrapped = self.provider.wrap(data_key)
            self.keys.add(
                SubjectKey(
                    key_id=key_id.hex(),
                    subject_hash=subject_hash,
                    kek_id=kek_id,
                    wrapped_key=wrapped,
                    created_at=utcnow(),
                )
            )
        else:
            key_id = bytes.fromhex(row.key_id)
            data_key = self.provider.unwrap(row.kek_id, row.wrapped_key)
        cache[("subject", subject_hash)] = (key_id, data_key)
        cache[key_id] = data_key
        return key_id, data_key

    def _data_key(self, key_id: bytes, cache: KeyCache) -> bytes:
        cached = cache.get(key_id)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        row = self.keys.get(key_id.hex())
        if row is None:
            raise UnknownDataKeyError(
                "an encrypted value names a data key the key store does not have",
                hint="PERSONVERN_KEY_STORE_URL points at the wrong key store, or it was "
                "replaced by an older backup; restore the newest key store",
            )
        if row.destroyed_at is not None or row.wrapped_key is None or row.kek_id is None:
            raise SubjectKeyDestroyedError(row.destroyed_at or utcnow())
        data_key = self.provider.unwrap(row.kek_id, row.wrapped_key)
        cache[key_id] = data_key
        return data_key

    def seal(
        self, subject_hash: str, purpose: str, plaintext: bytes, cache: KeyCache | None = None
    ) -> bytes:
        """Encrypt ``plaintext`` for ``purpose`` under the subject's data key."""
        key_id, data_key = self._subject_key(subject_hash, {} if cache is None else cache)
        return seal(data_key, key_id, purpose, plaintext)

    def open(self, purpose: str, sealed: bytes, cache: KeyCache | None = None) -> bytes:
        """Decrypt what ``seal`` made for ``purpose``; SubjectKeyDestroyedError once shredded."""
        envelope = Envelope.from_bytes(sealed)
        data_key = self._data_key(envelope.key_id, {} if cache is None else cache)
        return open_envelope(data_key, envelope, purpose)

    def seal_json(
        self, subject_hash: str, purpose: str, value: object, cache: KeyCache | None = None
    ) -> bytes:
        """Encrypt a JSON value."""
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return self.seal(subject_hash, purpose, text.encode("utf-8"), cache)

    def open_json(self, purpose: str, sealed: bytes, cache: KeyCache | None = None) -> Any:
        """Decrypt a JSON value."""
        return json.loads(self.open(purpose, sealed, cache).decode("utf-8"))

    def shred(self, subject_hash: str, *, created_before: datetime | None = None) -> int:
        """Destroy the subject's data keys (made before ``created_before``); how many."""
        return len(self.keys.destroy(subject_hash, created_before=created_before))

    def rotate(self) -> RotationReport:
        """Make a new KEK version and re-wrap every live data key with it.

        Only wrapped keys change: no ciphertext is read or written.
        """
        new_kek = self.provider.add_version()
        rewrapped = 0
        with self.keys.session() as session, session.begin():
            for row in session.query(SubjectKey).filter(SubjectKey.destroyed_at.is_(None)):
                if row.kek_id is None or row.wrapped_key is None or row.kek_id == new_kek:
                    continue
                data_key = self.provider.unwrap(row.kek_id, row.wrapped_key)
                row.kek_id, row.wrapped_key = self.provider.wrap(data_key)
                row.rewrapped_at = utcnow()
                rewrapped += 1
        return RotationReport(new_kek, rewrapped, self._removable())

    def _removable(self) -> list[str]:
        used = self.keys.kek_usage()
        current = self.provider.current()
        return [v for v in self.provider.versions() if v != current and not used.get(v)]

    def status(self) -> VaultStatus:
        """Counts of keys per KEK version, destroyed keys, and removable KEK versions."""
        rows = self.keys.all()
        return VaultStatus(
            provider=self.name,
            current_kek=self.provider.current(),
            live_keys=sum(1 for r in rows if r.destroyed_at is None),
            destroyed_keys=sum(1 for r in rows if r.destroyed_at is not None),
            keys_per_kek=self.keys.kek_usage(),
            removable=self._removable(),
        )

    def close(self) -> None:
        """Release the key store's connections and the provider's session."""
        self.keys.engine.dispose()
        close = getattr(self.provider, "close", None)
        if close is not None:
            close()
