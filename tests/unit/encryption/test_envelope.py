"""The envelope's layout and what its associated data binds it to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personvern.domain.envelope import (
    HEADER_BYTES,
    KEY_ID_BYTES,
    VERSION,
    Envelope,
    MalformedEnvelopeError,
    SubjectKeyDestroyedError,
    TamperedEnvelopeError,
    field_purpose,
    file_purpose,
)
from personvern.store.encryption.cipher import new_data_key, new_key_id, open_envelope, seal

ROW = field_purpose("data_subject_requests", "identities", "a" * 32)


def test_a_sealed_value_has_version_key_id_nonce_and_opens_again() -> None:
    key, key_id = new_data_key(), new_key_id()
    sealed = seal(key, key_id, ROW, b"12345678901")
    envelope = Envelope.from_bytes(sealed)
    assert VERSION == sealed[0]
    assert key_id == envelope.key_id
    assert b"12345678901" not in sealed
    assert len(sealed) == HEADER_BYTES + len("12345678901") + 16
    assert b"12345678901" == open_envelope(key, envelope, ROW)


def test_two_seals_of_one_value_differ() -> None:
    key, key_id = new_data_key(), new_key_id()
    assert seal(key, key_id, ROW, b"kari") != seal(key, key_id, ROW, b"kari")


@pytest.mark.parametrize(
    "elsewhere",
    [
        field_purpose("data_subject_requests", "identities", "b" * 32),
        field_purpose("data_subject_requests", "verification_note", "a" * 32),
        field_purpose("request_tasks", "identities", "a" * 32),
        file_purpose("answer", "a" * 32, "export.zip"),
    ],
)
def test_a_ciphertext_moved_to_another_row_column_table_or_file_does_not_open(
    elsewhere: str,
) -> None:
    key, key_id = new_data_key(), new_key_id()
    envelope = Envelope.from_bytes(seal(key, key_id, ROW, b"kari@example.no"))
    with pytest.raises(TamperedEnvelopeError, match="copied from another"):
        open_envelope(key, envelope, elsewhere)


def test_an_envelope_whose_header_names_another_key_does_not_open() -> None:
    key, key_id = new_data_key(), new_key_id()
    sealed = bytearray(seal(key, key_id, ROW, b"kari"))
    sealed[1 : 1 + KEY_ID_BYTES] = new_key_id()
    with pytest.raises(TamperedEnvelopeError):
        open_envelope(key, Envelope.from_bytes(bytes(sealed)), ROW)


def test_a_flipped_ciphertext_bit_is_detected() -> None:
    key, key_id = new_data_key(), new_key_id()
    sealed = bytearray(seal(key, key_id, ROW, b"kari"))
    sealed[-1] ^= 1
    with pytest.raises(TamperedEnvelopeError):
        open_envelope(key, Envelope.from_bytes(bytes(sealed)), ROW)


def test_truncated_and_unknown_versions_are_refused() -> None:
    sealed = seal(new_data_key(), new_key_id(), ROW, b"kari")
    with pytest.raises(MalformedEnvelopeError, match="truncated"):
        Envelope.from_bytes(sealed[:20])
    with pytest.raises(MalformedEnvelopeError, match="version 2"):
        Envelope.from_bytes(b"\x02" + sealed[1:])


def test_purposes_cannot_be_made_ambiguous() -> None:
    with pytest.raises(ValueError, match="not a table"):
        field_purpose("data_subject_requests:x", "identities", "a")
    with pytest.raises(ValueError, match="row id"):
        field_purpose("data_subject_requests", "identities", "")
    assert field_purpose("t", "c", "r") != file_purpose("t", "c", "r")


def test_the_destroyed_key_error_tells_the_dpo_when() -> None:
    error = SubjectKeyDestroyedError(datetime(2026, 11, 3, 14, 0, tzinfo=UTC))
    assert "this subject was erased; their data key was destroyed on 2026-11-03" == error.message
