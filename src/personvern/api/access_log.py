"""The server's access log never records a download link: the link is the credential.

uvicorn logs every request line, ``GET /api/v1/downloads/<token>`` included, so anyone
who reads the log (or wherever a log shipper sends it) could fetch a subject's export
for as long as the link works. This filter replaces the token before the line is
written. The same goes for the staff sign-in's callback, whose query carries the
identity provider's authorization code and state. Consent and decision calls name
a person in their query (``?identity=``, ``?email=``, ``?phone=``): those values are
replaced too, so the log says a decision was asked for, not for whom. A reverse proxy
in front of personvern needs the same care in its own log.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_TOKEN = re.compile(r"(/downloads/)[^/?\s]+")
_CALLBACK_QUERY = re.compile(r"(/staff/callback\?)\S*")
#: Query parameters that carry a person's identity, wherever they appear.
_IDENTITY_PARAMETER = re.compile(r"([?&](?:identity|email|phone)=)[^&\s\"#]*", re.IGNORECASE)


def _redact(text: str) -> str:
    text = _IDENTITY_PARAMETER.sub(r"\1<redacted>", text)
    return _CALLBACK_QUERY.sub(r"\1<redacted>", _TOKEN.sub(r"\1<link>", text))


class RedactDownloadLinks(logging.Filter):
    """Replaces download tokens with ``<link>``, sign-in callback queries and identities in
    queries with ``<redacted>``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments (uvicorn passes the path as one of them)."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                _redact(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


def redact_download_links() -> None:
    """Install the filter on uvicorn's access logger (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactDownloadLinks) for f in logger.filters):
        logger.addFilter(RedactDownloadLinks())
