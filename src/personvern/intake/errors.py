"""Errors of request intake; every message is written for the subject or the agent.

PersonvernError
└── IntakeError
    ├── InvalidRequestError            422: the request as filed cannot be accepted
    ├── StaffOnlyError                 403: only staff may record how identity was verified
    ├── VerificationUnavailableError   503: no mail server configured for codes
    ├── RateLimitedError               429: too many codes for an address or a client
    ├── RequestNotFoundError           404: no such request awaits a code
    ├── NotAwaitingVerificationError   409: the request needs no code (any more)
    ├── WrongCodeError                 422: the code does not match
    ├── CodeExpiredError               410: the code is older than its lifetime
    └── CodeLockedError                410: too many wrong codes; a new one is needed

Mail delivery failures are personvern.mail.MailDeliveryError (503).
Identity problems are personvern.domain.requests.identity.InvalidIdentityError (422).
"""

from __future__ import annotations

import math

from personvern.errors import ErrorKind, PersonvernError


class IntakeError(PersonvernError):
    """A data subject request could not be filed or verified."""

    kind = ErrorKind.INVALID
    title = "Request not accepted"


class InvalidRequestError(IntakeError):
    """The request as filed cannot be accepted (type, language or details)."""

    title = "Invalid request"


class StaffOnlyError(IntakeError):
    """Something only an authenticated agent may do was asked for without their rights."""

    kind = ErrorKind.FORBIDDEN
    title = "Staff only"


class VerificationUnavailableError(IntakeError):
    """A code would be needed but no mail server is configured."""

    kind = ErrorKind.UNAVAILABLE
    title = "Verification unavailable"
    public_detail = True


class RateLimitedError(IntakeError):
    """Too many codes for one address or from one client within the window."""

    kind = ErrorKind.TOO_MANY
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        #: Whole seconds until another code may be sent (the Retry-After header).
        self.retry_after = max(1, math.ceil(retry_after))


class RequestNotFoundError(IntakeError):
    """No request with this id."""

    kind = ErrorKind.NOT_FOUND
    title = "Request not found"


class NotAwaitingVerificationError(IntakeError):
    """The request is not waiting for a code."""

    kind = ErrorKind.CONFLICT
    title = "No code expected"


class WrongCodeError(IntakeError):
    """The code entered is not the one sent."""

    title = "Wrong code"


class CodeExpiredError(IntakeError):
    """The code was sent too long ago."""

    kind = ErrorKind.GONE
    title = "Code expired"


class CodeLockedError(IntakeError):
    """The code was entered wrongly too often and no longer works."""

    kind = ErrorKind.GONE
    title = "Code locked"
