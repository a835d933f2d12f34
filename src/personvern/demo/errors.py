"""Errors of the demo company.

PersonvernError
└── DemoError               the demo cannot be seeded where it was asked to go
"""

from __future__ import annotations

from personvern.errors import ErrorKind, PersonvernError


class DemoError(PersonvernError):
    """The demo company cannot be seeded or described as asked."""

    kind = ErrorKind.FAILED
    title = "Demo company unavailable"
