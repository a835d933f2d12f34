"""The authenticated caller, whatever proved who they are (API token, OIDC, a local password)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from personvern.domain.roles import Permission, Role, has_permission, roles_with
from personvern.security.errors import ForbiddenError

#: How a principal was authenticated; each authenticator adds its own.
Via = Literal["api_token", "oidc", "password"]


@dataclass(frozen=True)
class Principal:
    """Who is calling (``subject``), in which role, and how that was established (``via``)."""

    subject: str
    role: Role
    via: Via
    #: A human-friendly name for logs and the audit trail (token name, person's name).
    display_name: str = ""
    #: The API token the call was made with; what it hands out dies with it.
    token_id: int | None = None

    def can(self, permission: Permission) -> bool:
        """Whether this principal's role grants ``permission``."""
        return has_permission(self.role, permission)

    def require(self, permission: Permission) -> None:
        """Raise ForbiddenError unless this principal may do ``permission``."""
        if not self.can(permission):
            allowed = ", ".join(roles_with(permission))
            raise ForbiddenError(
                f"role '{self.role}' lacks the permission '{permission}'",
                hint=f"roles that have it: {allowed}",
            )
