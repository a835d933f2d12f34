"""Key-encryption keys: the port, and the default adapter (a key file in the home).

The KEK never encrypts data: it only wraps data keys (AES key wrap, RFC 3394), so
rotating it re-wraps a few hundred bytes per subject and leaves every ciphertext as
it is. A provider keeps every version it has made, each under its own id, so keys
wrapped before a rotation still unwrap until they are re-wrapped.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from personvern.data_home import FILE_MODE, ensure_home, write_private_file
from personvern.domain.envelope import EncryptionError

KEK_FILE = "kek.key"
_PREFIX = "local:"


class KeyProviderError(EncryptionError):
    """The key-encryption key cannot be used (missing, unreadable, unsafe)."""


class KeyEncryptionKeyProvider(Protocol):
    """Wraps and unwraps data keys with a key-encryption key it never hands out."""

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """Wrap ``data_key`` with the current KEK: (kek id, wrapped key)."""
        ...

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        """Unwrap a key wrapped by KEK version ``kek_id``."""
        ...

    def current(self) -> str:
        """The id of the KEK version new keys are wrapped with."""
        ...

    def versions(self) -> list[str]:
        """Every KEK version the provider still holds, oldest first."""
        ...

    def add_version(self) -> str:
        """Make a new KEK version and make it current; return its id."""
        ...


class LocalKeyFileProvider:
    """KEK versions in a key file (mode 0600), created on first start.

    The file has a line ``v<N> <base64 key>`` per version; the last one is current.
    """

    def __init__(self, path: Path) -> None:
        """Use the key file at ``path``, creating it with one version if it is missing."""
        self.path = path
        self._keys = self._read_or_create()

    @classmethod
    def in_home(cls, home: Path) -> LocalKeyFileProvider:
        """The key file in personvern's home."""
        return cls(ensure_home(home) / KEK_FILE)

    def _read_or_create(self) -> dict[str, bytes]:
        if not self.path.exists():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            except FileExistsError:
                pass  # another process made it a moment ago: read theirs
            else:
                with os.fdopen(fd, "w", encoding="ascii") as out:
                    out.write(_line(1, secrets.token_bytes(32)))
                    out.flush()
                    os.fsync(out.fileno())
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise KeyProviderError(
                f"{self.path} can be read by other users (mode {mode:o}), so its keys "
                "cannot be trusted",
                hint=f"run `chmod 600 {self.path}` if nobody else read it; otherwise rotate "
                "with a new provider and treat the old key as compromised",
            )
        keys: dict[str, bytes] = {}
        for number, raw in enumerate(self.path.read_text(encoding="ascii").splitlines(), 1):
            if not raw.strip():
                continue
            version, _, value = raw.strip().partition(" ")
            try:
                key = base64.urlsafe_b64decode(value)
            except ValueError:
                key = b""
            if not version.startswith("v") or len(key) != 32:
                raise KeyProviderError(
                    f"{self.path}:{number} is not a key line",
                    hint="restore the key file from its backup",
                )
            keys[_PREFIX + version] = key
        if not keys:
            raise KeyProviderError(f"{self.path} holds no key", hint="restore it from its backup")
        return keys

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """Wrap ``data_key`` with the current KEK version."""
        kek_id = self.current()
        return kek_id, aes_key_wrap(self._keys[kek_id], data_key)

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        """Unwrap a key wrapped by version ``kek_id``."""
        kek = self._keys.get(kek_id)
        if kek is None:
            raise KeyProviderError(
                f"the key file {self.path} has no key-encryption key {kek_id}",
                hint="restore the key file from its backup (it must hold every version "
                "that `personvern keys status` lists as in use)",
            )
        try:
            return aes_key_unwrap(kek, wrapped)
        except InvalidUnwrap:
            raise KeyProviderError(
                f"a data key does not unwrap with {kek_id}: the key file or the key store "
                "was changed",
                hint="restore both from matching backups",
            ) from None

    def current(self) -> str:
        """The newest version."""
        return next(reversed(self._keys))

    def versions(self) -> list[str]:
        """Every version in the file, oldest first."""
        return list(self._keys)

    def add_version(self) -> str:
        """Append a new random version to the file and make it current."""
        number = max(int(k.removeprefix(_PREFIX + "v")) for k in self._keys) + 1
        keys = {**self._keys, f"{_PREFIX}v{number}": secrets.token_bytes(32)}
        text = "".join(_line(int(k.removeprefix(_PREFIX + "v")), v) for k, v in keys.items())
        write_private_file(self.path, text.encode("ascii"))
        self._keys = keys
        return self.current()


def _line(number: int, key: bytes) -> str:
    return f"v{number} {base64.urlsafe_b64encode(key).decode('ascii')}\n"
