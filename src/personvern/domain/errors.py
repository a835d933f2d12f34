"""Errors raised by the rules themselves.

PersonvernError
└── DomainError
    └── UnknownLanguageError
"""

from __future__ import annotations

from personvern.errors import ErrorKind, PersonvernError


class DomainError(PersonvernError):
    """A rule refused an operation."""


class UnknownLanguageError(DomainError):
    """A document was asked for in a language the data map does not declare."""

    kind = ErrorKind.NOT_FOUND
    title = "Language not available"
