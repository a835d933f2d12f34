"""Anchors: the audit trail's head, signed, for the company to keep outside personvern.

Anyone who can write to the store can also re-compute a whole chain after altering it,
or cut events off its end; a signed anchor kept elsewhere (a ticket, an e-mail to the
auditor, a WORM bucket) shows both, because the event it names must still be there
with the same hash. The Ed25519 signing key lives in ``<home>/audit-anchor.key``
(mode 0600, made on first use); its public key is printed with every anchor.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from personvern.data_home import FILE_MODE, ensure_home
from personvern.domain.audit.event import utc_iso
from personvern.errors import ErrorKind, PersonvernError

ANCHOR_KEY_FILE = "audit-anchor.key"
FORMAT = "personvern-audit-anchor/1"


class AnchorError(PersonvernError):
    """An anchor cannot be made or does not hold."""

    kind = ErrorKind.INVALID
    title = "Audit anchor"


@dataclass(frozen=True)
class Anchor:
    """The chain's head at a moment, signed with the installation's anchor key."""

    sequence: int
    hash: str
    anchored_at: str
    public_key: str
    signature: str

    def to_json(self) -> dict[str, Any]:
        """The anchor as the JSON document the company keeps."""
        return {
            "format": FORMAT,
            "sequence": self.sequence,
            "hash": self.hash,
            "anchored_at": self.anchored_at,
            "public_key": self.public_key,
            "signature": self.signature,
        }


def _signed_bytes(sequence: int, head_hash: str, anchored_at: str) -> bytes:
    document = {"format": FORMAT, "sequence": sequence, "hash": head_hash, "at": anchored_at}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def anchor_key(home: Path) -> Ed25519PrivateKey:
    """The anchor signing key in ``<home>/audit-anchor.key``, made (mode 0600) on first use."""
    return home_signing_key(home, ANCHOR_KEY_FILE)


def home_signing_key(home: Path, name: str) -> Ed25519PrivateKey:
    """The Ed25519 key in ``<home>/<name>``, made (mode 0600) on first use.

    One key per use (audit anchors, consent receipts): a signature made for one can never
    be passed off as one made for the other.
    """
    path = ensure_home(home) / name
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            pass  # another process made it a moment ago: use theirs
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AnchorError(
            f"{path} can be read by other users (mode {mode:o}), so its key cannot be trusted",
            hint=f"run `chmod 600 {path}`",
        )
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise AnchorError(f"{path} holds no Ed25519 key", hint="move it away to have one made")
    return loaded


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half of ``key``, base64 of its 32 raw bytes."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def make_anchor(home: Path, sequence: int, head_hash: str, at: datetime) -> Anchor:
    """Sign the head (``sequence``, ``head_hash``) at ``at`` with the home's anchor key."""
    key = anchor_key(home)
    anchored_at = utc_iso(at)
    signature = key.sign(_signed_bytes(sequence, head_hash, anchored_at))
    return Anchor(sequence, head_hash, anchored_at, public_key_text(key), _b64(signature))


def read_anchor(text: str) -> Anchor:
    """An anchor from the JSON ``personvern audit anchor`` printed; AnchorError if malformed."""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        return Anchor(
            sequence=int(data["sequence"]),
            hash=str(data["hash"]),
            anchored_at=str(data["anchored_at"]),
            public_key=str(data["public_key"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnchorError(
            f"not an audit anchor: {exc}", hint="give the JSON `personvern audit anchor` printed"
        ) from None


def signature_holds(anchor: Anchor, public_key: str) -> bool:
    """Whether ``anchor`` was signed by the key whose public half is ``public_key``."""
    try:
        verifier = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
        verifier.verify(
            base64.b64decode(anchor.signature),
            _signed_bytes(anchor.sequence, anchor.hash, anchor.anchored_at),
        )
    except (InvalidSignature, ValueError):
        return False
    return True
