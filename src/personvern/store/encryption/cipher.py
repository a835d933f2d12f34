"""AES-256-GCM over envelopes (personvern.domain.envelope): the only place data is sealed."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from personvern.domain.envelope import (
    KEY_ID_BYTES,
    NONCE_BYTES,
    VERSION,
    Envelope,
    TamperedEnvelopeError,
    associated_data,
)

#: AES-256: 32-byte data keys.
DATA_KEY_BYTES = 32


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def new_key_id() -> bytes:
    """A fresh random data key id."""
    return os.urandom(KEY_ID_BYTES)


def seal(data_key: bytes, key_id: bytes, purpose: str, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` for ``purpose`` under the data key, as a stored envelope."""
    # A random 96-bit nonce per envelope: far below GCM's 2^32 messages per key limit for
    # the few fields and files one subject has.
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(
        nonce, plaintext, associated_data(VERSION, key_id, purpose)
    )
    return Envelope(key_id=key_id, nonce=nonce, ciphertext=ciphertext).to_bytes()


def open_envelope(data_key: bytes, envelope: Envelope, purpose: str) -> bytes:
    """Decrypt ``envelope`` sealed for ``purpose``; TamperedEnvelopeError if it does not open."""
    try:
        return AESGCM(data_key).decrypt(
            envelope.nonce, envelope.ciphertext, envelope.associated_data(purpose)
        )
    except InvalidTag:
        raise TamperedEnvelopeError(
            "an encrypted value does not open: it was changed, or copied from another "
            "field, row or file",
            hint="restore the value from a backup; report it as a possible breach",
        ) from None
