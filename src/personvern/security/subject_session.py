"""A data subject's short proof, after entering their e-mail code, that a request is theirs.

The privacy centre lets a person follow their requests once they have proven their
address with the code we mailed. The proof is a signed value in a cookie: the request
id and an expiry, with an HMAC under the installation's secret. It holds nothing
personal, cannot be forged or extended, and dies with the browser session or after
:data:`LIFETIME`, whichever comes first.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

#: How long a person may follow their requests after entering their code.
LIFETIME = timedelta(minutes=30)
_MAX_LENGTH = 200


def _signature(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), f"subject:{payload}".encode(), hashlib.sha256).hexdigest()


def seal_subject(secret: str, request_id: str, now: datetime) -> str:
    """The cookie value proving the holder verified ``request_id`` just now."""
    payload = f"{request_id}.{int((now + LIFETIME).timestamp())}"
    return f"{payload}.{_signature(secret, payload)}"


def verified_request(secret: str, value: str | None, now: datetime) -> str | None:
    """The request id a valid, unexpired cookie value proves; None for anything else."""
    if not value or len(value) > _MAX_LENGTH or value.count(".") != 2:
        return None
    request_id, expiry, signature = value.split(".")
    payload = f"{request_id}.{expiry}"
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        return None
    if not expiry.isdigit() or int(expiry) < now.timestamp():
        return None
    return request_id
