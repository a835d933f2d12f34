"""Logs are redacted: personal data and secrets leave as ``[kind]``, the rest stays readable."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personvern.observability.logs import JsonFormatter, TextFormatter
from personvern.observability.redaction import find_personal_data, redact

# A valid fødselsnummer (checksum) of the kind the tax authority publishes for tests.
NATIONAL_ID = "15076500565"


@pytest.mark.parametrize(
    ("text", "kind", "redacted"),
    [
        ("filed by ola.nordmann@example.no", "email", "filed by [email]"),
        ("call +47 912 34 567", "phone", "call [phone]"),
        ("call 91234567 today", "phone", "call [phone] today"),
        (f"fnr {NATIONAL_ID}", "national-id", "fnr [national-id]"),
        ("fnr 150765 00565", "national-id", "fnr [national-id]"),
        ("token pv_abcdefghij_KLMNOP", "api-token", "token [api-token]"),
        ("Authorization: Bearer abc.def", "bearer", "Authorization: Bearer [credential]"),
        ("jwt eyJhbGciOi.eyJzdWIiOi.c2ln", "jwt", "jwt [jwt]"),
        (
            "GET /api/v1/downloads/abc.123 HTTP/1.1",
            "download-link",
            "GET /api/v1/downloads/<link> HTTP/1.1",
        ),
    ],
)
def test_each_kind_is_found_and_masked(text: str, kind: str, redacted: str) -> None:
    assert kind in find_personal_data(text)
    assert redacted == redact(text)
    assert set() == find_personal_data(redact(text))


@pytest.mark.parametrize(
    "text",
    [
        "resumed 3 unfinished request run(s) at 2026-12-02T18:57:43+00:00",
        "incident 3fa2b1c4d5e6: POST /api/v1/requests/42/run",
        "cannot use the store at postgresql+psycopg://personvern@db.internal:5432/pv",
        "cannot use the store at postgresql+psycopg://personvern:***@db.internal:5432/pv",
        "12345678901 is not a valid national identity number",
        "listening on 127.0.0.1:8000",
    ],
)
def test_ordinary_log_lines_are_left_alone(text: str) -> None:
    assert set() == find_personal_data(text)
    assert text == redact(text)


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("personvern.test", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_the_json_formatter_writes_one_redacted_object_per_line() -> None:
    record = _record("code sent to %s", "kari@example.no", subject={"phone": "+4791234567"})
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert ("info", "personvern.test") == (entry["level"], entry["logger"])
    assert "code sent to [email]" == entry["message"]
    assert {"phone": "[phone]"} == entry["subject"]


def test_tracebacks_are_redacted_too() -> None:
    try:
        raise ValueError(f"no customer {NATIONAL_ID}")
    except ValueError:
        record = _record("lookup failed")
        record.exc_info = sys.exc_info()
    for formatter in (JsonFormatter(), TextFormatter()):
        text = formatter.format(record)
        assert NATIONAL_ID not in text
        assert "[national-id]" in text


@given(st.uuids(), st.binary(min_size=8, max_size=32))
def test_personvern_identifiers_are_never_read_as_personal_data(
    run_id: uuid.UUID, request_bytes: bytes
) -> None:
    # A UUID in a hundred holds eight digits in a row, which read as a phone number.
    line = f"retention run {run_id} for request {request_bytes.hex()}a finished"
    assert set() == find_personal_data(line)
    assert line == redact(line)


def test_a_phone_number_beside_an_identifier_is_still_masked() -> None:
    line = "request 3f2a9c41e7d04b6f8a1c2d3e4f5a6b7c: the subject gave 912 34 567"
    assert {"phone"} == find_personal_data(line)
    assert redact(line).startswith("request 3f2a9c41e7d04b6f8a1c2d3e4f5a6b7c:")
    assert "912 34 567" not in redact(line)


def test_a_uuid_whose_digits_look_like_a_phone_number_is_kept() -> None:
    line = "job 41234567-89ab-4cde-8f01-234567890abc queued"
    assert set() == find_personal_data(line)


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_timestamp_is_never_read_as_a_phone_number(moment: datetime) -> None:
    # The microseconds of "17:57:46.437374" read as 46 43 73 74, a Norwegian mobile.
    line = f"run queued at {moment.isoformat()} never started"
    assert set() == find_personal_data(line)
