"""Errors raised when an identity cannot be used.

PersonvernError
└── DomainError
    └── InvalidIdentityError
"""

from __future__ import annotations

from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind


class InvalidIdentityError(DomainError):
    """An identity a subject or agent gave cannot be used to find anyone."""

    kind = ErrorKind.INVALID
    title = "Invalid identity"
