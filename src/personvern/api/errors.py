"""Errors the API raises itself.

PersonvernError
└── ApiError
    └── DataMapUnavailableError   503: the server started but its data map did not load
"""

from __future__ import annotations

from personvern.errors import PersonvernError


class ApiError(PersonvernError):
    """The API cannot serve a request for a reason of its own."""


class DataMapUnavailableError(ApiError):
    """The data map failed to load when the server started; routes that need it refuse."""

    http_status = 503
    title = "Data map unavailable"
