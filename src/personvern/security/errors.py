"""Errors about credentials and permissions.

PersonvernError
└── SecurityError
    ├── AuthError              401: no credentials, or unknown, expired or revoked ones
    │   └── ForbiddenError     403: the credentials are fine but the role may not do this
    └── TokenRequestError      422: a token cannot be issued as asked
"""

from __future__ import annotations

from personvern.errors import PersonvernError


class SecurityError(PersonvernError):
    """A security rule refused something."""


class AuthError(SecurityError):
    """The caller is not authenticated."""

    http_status = 401
    title = "Authentication required"


class ForbiddenError(AuthError):
    """The caller is authenticated but their role lacks the permission."""

    http_status = 403
    title = "Forbidden"


class TokenRequestError(SecurityError):
    """An API token cannot be issued with the given name, role or expiry."""

    http_status = 422
    title = "Invalid token request"
