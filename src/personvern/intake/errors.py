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

from personvern.errors import PersonvernError


class IntakeError(PersonvernError):
    """A data subject request could not be filed or verified."""

    http_status = 422
    title = "Request not accepted"


class InvalidRequestError(IntakeError):
    """The request as filed cannot be accepted (type, language or details)."""

    title = "Invalid request"


class StaffOnlyError(IntakeError):
    """Something only an authenticated agent may do was asked for without their rights."""

    http_status = 403
    title = "Staff only"


class VerificationUnavailableError(IntakeError):
    """A code would be needed but no mail server is configured."""

    http_status = 503
    title = "Verification unavailable"
    public_detail = True


class RateLimitedError(IntakeError):
    """Too many codes for one address or from one client within the window."""

    http_status = 429
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        #: Whole seconds until another code may be sent (the Retry-After header).
        self.retry_after = max(1, math.ceil(retry_after))


class RequestNotFoundError(IntakeError):
    """No request with this id."""

    http_status = 404
    title = "Request not found"


class NotAwaitingVerificationError(IntakeError):
    """The request is not waiting for a code."""

    http_status = 409
    title = "No code expected"


class WrongCodeError(IntakeError):
    """The code entered is not the one sent."""

    title = "Wrong code"


class CodeExpiredError(IntakeError):
    """The code was sent too long ago."""

    http_status = 410
    title = "Code expired"


class CodeLockedError(IntakeError):
    """The code was entered wrongly too often and no longer works."""

    http_status = 410
    title = "Code locked"
