"""Time-limited signed download links for the subject's files.

A link carries, base64url-encoded, the id of its DownloadLink row, the request id,
the artifact's name and the moment the link expires, followed by an HMAC-SHA256 of
that payload under the server's secret key (``PERSONVERN_SECRET_KEY``, or the key
generated in the home). The signature proves personvern made the link; the row says
who made it, and lets it be taken back (revoked, or its creator's token revoked), so
``/api/v1/downloads/{token}`` needs no account. Changing any byte (another request id,
a later expiry) breaks the signature; signatures are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from typing import NamedTuple

from personvern.responses.errors import DownloadLinkError, DownloadLinkExpiredError

#: How long a link works unless the caller says otherwise.
DEFAULT_LINK_LIFETIME = timedelta(days=7)
#: Longer tokens are refused before any work is done on them.
MAX_TOKEN_LENGTH = 1024
# Domain separation: the same secret signs other things; a MAC from those never passes here.
_CONTEXT = b"personvern download link v2\x00"
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class LinkTarget(NamedTuple):
    """What a valid link gives access to, and the row that must still allow it."""

    link_id: str
    request_id: str
    name: str


def sign(secret: str, link_id: str, request_id: str, name: str, expires_at: datetime) -> str:
    """A URL-safe token for link ``link_id``: ``name`` of ``request_id`` until ``expires_at``."""
    if not secret:
        raise DownloadLinkError(
            "cannot sign a download link without a secret key",
            hint="set PERSONVERN_SECRET_KEY",
        )
    if expires_at.tzinfo is None:
        raise DownloadLinkError(
            "a download link's expiry must carry a time zone",
            hint="pass e.g. datetime.now(UTC) + DEFAULT_LINK_LIFETIME",
        )
    payload = json.dumps(
        [link_id, request_id, name, int(expires_at.timestamp())],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    body = _encode(payload)
    return f"{body}.{_encode(_mac(secret, body))}"


def verify(secret: str, token: str, now: datetime) -> LinkTarget:
    """The link, request id and artifact name a token grants; raises if forged or expired."""
    if len(token) > MAX_TOKEN_LENGTH or not _SHAPE.fullmatch(token):
        raise _invalid()
    body, _, signature = token.partition(".")
    try:
        given = _decode(signature)
    except ValueError:
        raise _invalid() from None
    # Signature first: an attacker must learn nothing about the payload of a forged token.
    if not hmac.compare_digest(given, _mac(secret, body)):
        raise _invalid()
    try:
        link_id, request_id, name, expires = json.loads(_decode(body))
    except (ValueError, TypeError):
        raise _invalid() from None
    if not (
        isinstance(link_id, str)
        and isinstance(request_id, str)
        and isinstance(name, str)
        and isinstance(expires, int)
    ):
        raise _invalid()
    if now.timestamp() >= expires:
        raise DownloadLinkExpiredError(
            "this download link has expired",
            hint="ask us for a new link; the files are kept until the request's retention ends",
        )
    return LinkTarget(link_id, request_id, name)


def _mac(secret: str, body: str) -> bytes:
    return hmac.new(
        secret.encode("utf-8"), _CONTEXT + body.encode("ascii"), hashlib.sha256
    ).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def _invalid() -> DownloadLinkError:
    return DownloadLinkError(
        "this download link is not valid",
        hint="use the link exactly as you received it, or ask us for a new one",
    )
