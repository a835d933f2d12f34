"""Signed download links work until they expire and refuse any change."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from personvern.errors import ErrorKind
from personvern.responses.download_link import sign, verify
from personvern.responses.errors import DownloadLinkError, DownloadLinkExpiredError

SECRET = "test-secret-key-0123456789"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=7)


def test_a_signed_link_verifies_to_its_request_and_file() -> None:
    token = sign(SECRET, "lnk1", "req_Q2xh9vY3pT", "export.zip", EXPIRES)
    assert ("lnk1", "req_Q2xh9vY3pT", "export.zip") == verify(SECRET, token, NOW)
    # The token goes in a URL path segment: base64url and one dot only.
    assert token.replace("-", "").replace("_", "").replace(".", "").isalnum()


def test_a_link_expires() -> None:
    token = sign(SECRET, "lnk1", "req_Q2xh9vY3pT", "export.zip", EXPIRES)
    assert ("lnk1", "req_Q2xh9vY3pT", "export.zip") == verify(
        SECRET, token, EXPIRES - timedelta(seconds=1)
    )
    with pytest.raises(DownloadLinkExpiredError) as raised:
        verify(SECRET, token, EXPIRES)
    assert ErrorKind.GONE is raised.value.kind


def _forge(token: str, **changes: object) -> str:
    body, signature = token.split(".")
    link_id, request_id, name, expires = json.loads(base64.urlsafe_b64decode(body + "=="))
    values = {"link_id": link_id, "request_id": request_id, "name": name, "expires": expires}
    values |= changes
    payload = json.dumps(
        [values["link_id"], values["request_id"], values["name"], values["expires"]]
    ).encode()
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + "." + signature


@pytest.mark.parametrize(
    "change",
    [
        {"link_id": "lnk2"},
        {"request_id": "req_SOMEONEELSE"},
        {"name": "access-report.pdf"},
        {"expires": int((EXPIRES + timedelta(days=365)).timestamp())},
    ],
)
def test_a_changed_payload_is_refused(change: dict[str, object]) -> None:
    token = sign(SECRET, "lnk1", "req_Q2xh9vY3pT", "export.zip", EXPIRES)
    with pytest.raises(DownloadLinkError) as raised:
        verify(SECRET, _forge(token, **change), NOW)
    assert ErrorKind.FORBIDDEN is raised.value.kind
    assert not isinstance(raised.value, DownloadLinkExpiredError)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nodot",
        ".",
        "abc.",
        ".abc",
        "a.b.c",
        "ab$c.def",
        "ä.b",
        "x" * 2000 + ".y",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(DownloadLinkError, match="not valid"):
        verify(SECRET, token, NOW)


def test_a_link_signed_with_another_key_or_a_changed_signature_is_refused() -> None:
    token = sign("another-secret", "lnk1", "req_Q2xh9vY3pT", "export.zip", EXPIRES)
    with pytest.raises(DownloadLinkError):
        verify(SECRET, token, NOW)
    genuine = sign(SECRET, "lnk1", "req_Q2xh9vY3pT", "export.zip", EXPIRES)
    flipped = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    with pytest.raises(DownloadLinkError):
        verify(SECRET, flipped, NOW)


def test_an_expiry_without_time_zone_is_refused() -> None:
    with pytest.raises(DownloadLinkError, match="time zone"):
        sign(SECRET, "lnk1", "req_Q2xh9vY3pT", "export.zip", datetime(2025, 3, 11, 12, 0))
