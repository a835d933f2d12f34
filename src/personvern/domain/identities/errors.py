"""Errors raised when an identity cannot be used.

PersonvernError
└── DomainError
    └── InvalidIdentityError
"""

from __future__ import annotations

from personvern.domain.errors import DomainError


class InvalidIdentityError(DomainError):
    """An identity a subject or agent gave cannot be used to find anyone."""

    http_status = 422
    title = "Invalid identity"
