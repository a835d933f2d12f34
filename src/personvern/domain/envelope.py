"""The sealed form of an encrypted field or file, and what binds it to its place.

An envelope is ``version (1 byte) | data key id (16 bytes) | nonce (12 bytes) |
ciphertext and GCM tag``. The associated data authenticated with it is the version,
the key id and the envelope's *purpose*: the table, column and row of a field
(``data_subject_requests.identities:<request id>``), or the kind and name of a file.
A ciphertext copied into another row, column or file therefore fails to open, as
does one whose header was edited to name another key.

Pure rules only: the cipher itself lives with the key store (personvern.store.encryption).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind

#: The one envelope layout written today; a reader refuses versions it does not know.
VERSION = 1
KEY_ID_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
#: Separates the parts of a purpose; no table, column or request id contains it.
_SEP = ":"


class EncryptionError(DomainError):
    """Encrypted data could not be sealed or opened."""

    kind = ErrorKind.FAILED
    title = "Encrypted data unreadable"


class MalformedEnvelopeError(EncryptionError):
    """Bytes that are no envelope personvern wrote (truncated, or an unknown version)."""


class TamperedEnvelopeError(EncryptionError):
    """The envelope does not open: changed, moved to another field, or another key."""


class SubjectKeyDestroyedError(EncryptionError):
    """The subject was erased: their data key is gone, so their data cannot be read."""

    kind = ErrorKind.GONE
    title = "Subject erased"

    def __init__(self, destroyed_at: datetime) -> None:
        """Say when the key was destroyed, as the DPO's records will show it."""
        self.destroyed_at = destroyed_at
        super().__init__(
            "this subject was erased; their data key was destroyed on "
            f"{destroyed_at.date().isoformat()}",
            hint="the data was crypto-shredded on purpose and cannot be recovered",
        )


class UnknownDataKeyError(EncryptionError):
    """An envelope names a data key the key store never had (a wrong or lost key store)."""


@dataclass(frozen=True)
class Envelope:
    """A sealed value: which data key, which nonce, and the ciphertext with its tag."""

    key_id: bytes
    nonce: bytes
    ciphertext: bytes
    version: int = VERSION

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_BYTES or len(self.nonce) != NONCE_BYTES:
            raise MalformedEnvelopeError("an envelope's key id or nonce has the wrong length")
        if len(self.ciphertext) < TAG_BYTES:
            raise MalformedEnvelopeError("an envelope's ciphertext is shorter than its tag")

    def to_bytes(self) -> bytes:
        """The envelope as stored."""
        return bytes([self.version]) + self.key_id + self.nonce + self.ciphertext

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Read a stored envelope, or MalformedEnvelopeError."""
        if len(data) < HEADER_BYTES + TAG_BYTES:
            raise MalformedEnvelopeError("the encrypted value is truncated")
        if data[0] != VERSION:
            raise MalformedEnvelopeError(
                f"the encrypted value has envelope version {data[0]}, this personvern "
                f"reads version {VERSION}",
                hint="upgrade personvern to the version that wrote it",
            )
        return cls(
            key_id=data[1 : 1 + KEY_ID_BYTES],
            nonce=data[1 + KEY_ID_BYTES : HEADER_BYTES],
            ciphertext=data[HEADER_BYTES:],
        )

    def associated_data(self, purpose: str) -> bytes:
        """What GCM authenticates besides the ciphertext: header and purpose."""
        return associated_data(self.version, self.key_id, purpose)


def associated_data(version: int, key_id: bytes, purpose: str) -> bytes:
    """The associated data of an envelope of ``version`` under ``key_id`` for ``purpose``."""
    return bytes([version]) + key_id + purpose.encode("utf-8")


def field_purpose(table: str, column: str, row: str) -> str:
    """The purpose of a field's envelope: its table, column and row."""
    for part in (table, column):
        if not part or _SEP in part:
            raise ValueError(f"not a table or column name: {part!r}")
    if not row:
        raise ValueError("a field's row id is empty")
    return f"field{_SEP}{table}.{column}{_SEP}{row}"


def file_purpose(kind: str, owner: str, name: str) -> str:
    """The purpose of a file's envelope: what it is (answer), whose (request id), its name."""
    if not kind or not owner or not name or _SEP in kind:
        raise ValueError("a file's purpose needs a kind, an owner and a name")
    return f"file{_SEP}{kind}{_SEP}{owner}{_SEP}{name}"
