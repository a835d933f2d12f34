"""Errors raised while answering a request.

PersonvernError
├── ResponseError                    the answer could not be written
└── DomainError
    └── DownloadLinkError            403: a download link that was not signed by us
        ├── DownloadLinkExpiredError 410: a genuine link whose time has run out
        └── DownloadLinkRevokedError 410: a genuine link taken back (or its creator's token)
"""

from __future__ import annotations

from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind, PersonvernError


class ResponseError(PersonvernError):
    """The report or export for a request could not be written."""

    kind = ErrorKind.FAILED
    title = "Answer could not be written"


class DownloadLinkError(DomainError):
    """A download link is malformed or its signature does not match (tampered or foreign)."""

    kind = ErrorKind.FORBIDDEN
    title = "Download link not valid"


class DownloadLinkExpiredError(DownloadLinkError):
    """A correctly signed download link whose validity has run out."""

    kind = ErrorKind.GONE
    title = "Download link expired"


class DownloadLinkRevokedError(DownloadLinkError):
    """A genuine link that was withdrawn, directly or by revoking the token that made it."""

    kind = ErrorKind.GONE
    title = "Download link withdrawn"
