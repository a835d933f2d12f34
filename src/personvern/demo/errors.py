"""Errors of the demo company.

PersonvernError
└── DemoError               the demo cannot be seeded where it was asked to go
"""

from __future__ import annotations

from personvern.errors import PersonvernError


class DemoError(PersonvernError):
    """The demo company cannot be seeded or described as asked."""

    http_status = 500
    title = "Demo company unavailable"
