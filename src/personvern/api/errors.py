"""Errors the API raises itself.

PersonvernError
└── ApiError
    └── DataMapUnavailableError   503: the server started but its data map did not load
"""

from __future__ import annotations

from personvern.errors import ErrorKind, PersonvernError


class ApiError(PersonvernError):
    """The API cannot serve a request for a reason of its own."""


class DataMapUnavailableError(ApiError):
    """The data map failed to load when the server started; routes that need it refuse."""

    kind = ErrorKind.UNAVAILABLE
    title = "Data map unavailable"
