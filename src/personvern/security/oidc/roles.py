"""From the provider's groups or roles claim to exactly one personvern role.

Precedence: when a user holds several mapped groups, the entry listed first in
PERSONVERN_OIDC_ROLE_MAP wins. The order is the company's declared choice, so a DPO who
is also in the agents' group gets whichever role the map names first, never a guess
about which role is "more".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from personvern.domain.roles import Role
from personvern.security.errors import ForbiddenError


def claim_values(claims: Mapping[str, Any], claim: str) -> tuple[str, ...] | None:
    """The strings in ``claim`` (dots walk into nested objects); None if it is absent."""
    value: Any = claims
    for part in claim.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def role_from_claims(claims: Mapping[str, Any], claim: str, role_map: Mapping[str, Role]) -> Role:
    """The role of the first role-map entry the user's ``claim`` holds; ForbiddenError if none."""
    values = claim_values(claims, claim)
    if values is None:
        overage = claims.get("_claim_names")
        if isinstance(overage, Mapping) and claim in overage:
            raise ForbiddenError(
                f"the identity provider left the '{claim}' claim out of the token "
                "because the user is in too many groups",
                hint="use app roles (PERSONVERN_OIDC_ROLE_CLAIM=roles) or let the provider "
                "send only the groups assigned to the application (docs/sso.md)",
            )
        raise ForbiddenError(
            f"the token has no '{claim}' claim, so personvern cannot tell the user's role",
            hint="make the identity provider put the groups or roles into the token, or set "
            "PERSONVERN_OIDC_ROLE_CLAIM to the claim that holds them (docs/sso.md)",
        )
    held = set(values)
    for group, role in role_map.items():
        if group in held:
            return role
    mapped = ", ".join(role_map)
    raise ForbiddenError(
        f"none of the user's '{claim}' values maps to a personvern role",
        hint=f"PERSONVERN_OIDC_ROLE_MAP maps: {mapped}; add the user to one of these groups "
        "at the identity provider, or map their group",
    )
