"""Errors raised by the rules themselves.

PersonvernError
└── DomainError
    └── UnknownLanguageError
"""

from __future__ import annotations

from personvern.errors import PersonvernError


class DomainError(PersonvernError):
    """A rule refused an operation."""


class UnknownLanguageError(DomainError):
    """A document was asked for in a language the data map does not declare."""

    http_status = 404
    title = "Language not available"
