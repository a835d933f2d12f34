"""Errors about credentials and permissions.

PersonvernError
└── SecurityError
    ├── AuthError              401: no credentials, or unknown, expired or revoked ones
    │   └── ForbiddenError     403: the credentials are fine but the role may not do this
    ├── TokenRequestError      422: a token cannot be issued as asked
    ├── IdentityProviderError  503: the identity provider cannot be reached or misbehaves
    ├── SsoNotConfiguredError  503: staff sign-in asked for, but no identity provider is set
    └── LocalAccountsOffError  403: a password sign-in while local staff accounts are off
"""

from __future__ import annotations

from personvern.errors import ErrorKind, PersonvernError


class SecurityError(PersonvernError):
    """A security rule refused something."""


class AuthError(SecurityError):
    """The caller is not authenticated."""

    kind = ErrorKind.UNAUTHENTICATED
    title = "Authentication required"


class ForbiddenError(AuthError):
    """The caller is authenticated but their role lacks the permission."""

    kind = ErrorKind.FORBIDDEN
    title = "Forbidden"


class TokenRequestError(SecurityError):
    """An API token cannot be issued with the given name, role or expiry."""

    kind = ErrorKind.INVALID
    title = "Invalid token request"


class IdentityProviderError(SecurityError):
    """The identity provider (discovery, keys, token endpoint) did not answer as it must."""

    kind = ErrorKind.UNAVAILABLE
    title = "Identity provider unavailable"


class SsoNotConfiguredError(SecurityError):
    """Staff sign-in was asked for, but no identity provider is configured."""

    kind = ErrorKind.UNAVAILABLE
    title = "Single sign-on is not configured"
    # Nothing secret in it, and whoever opens the page needs to know why it fails.
    public_detail = True


class LocalAccountsOffError(SecurityError):
    """A sign-in with a local account's password while local accounts are turned off."""

    kind = ErrorKind.FORBIDDEN
    title = "Local staff accounts are off"
    # It says only how this installation signs staff in, which its sign-in page shows too.
    public_detail = True
