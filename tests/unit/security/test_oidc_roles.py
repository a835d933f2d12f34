"""From the provider's groups or roles claim to one personvern role, by the map's order."""

from __future__ import annotations

import pytest

from personvern.domain.roles import Role
from personvern.security.errors import ForbiddenError
from personvern.security.oidc.roles import claim_values, role_from_claims

MAP = {"personvern-dpo": Role.PRIVACY_OFFICER, "personvern-agents": Role.AGENT}


def test_claim_values_walk_into_nested_claims() -> None:
    claims = {"realm_access": {"roles": ["personvern-dpo", 7]}, "groups": "single"}
    assert ("personvern-dpo",) == claim_values(claims, "realm_access.roles")
    assert ("single",) == claim_values(claims, "groups")
    assert claim_values(claims, "realm_access.missing") is None


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["personvern-agents"], Role.AGENT),
        (["personvern-agents", "personvern-dpo"], Role.PRIVACY_OFFICER),
        (["personvern-dpo", "personvern-agents", "sales"], Role.PRIVACY_OFFICER),
    ],
)
def test_the_first_entry_of_the_map_that_the_user_holds_wins(groups: list[str], role: Role) -> None:
    assert role == role_from_claims({"groups": groups}, "groups", MAP)


def test_no_mapped_group_is_forbidden_and_names_the_map() -> None:
    with pytest.raises(ForbiddenError) as caught:
        role_from_claims({"groups": ["sales"]}, "groups", MAP)
    assert "'groups'" in caught.value.message
    assert "personvern-dpo, personvern-agents" in str(caught.value.hint)
    assert "sales" not in str(caught.value)


def test_entra_group_overage_is_explained() -> None:
    claims = {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {}}}
    with pytest.raises(ForbiddenError, match="too many groups"):
        role_from_claims(claims, "groups", MAP)
