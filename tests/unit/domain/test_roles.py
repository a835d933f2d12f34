"""Who may do what: the role table as cases a reader can check by eye."""

from __future__ import annotations

import pytest

from personvern.domain.roles import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    UnknownRoleError,
    has_permission,
    parse_role,
    permissions_of,
    roles_with,
)

A, PO, AG, MS, AU = (
    Role.ADMIN,
    Role.PRIVACY_OFFICER,
    Role.AGENT,
    Role.MARKETING_SYSTEM,
    Role.AUDITOR,
)


@pytest.mark.parametrize(
    ("permission", "allowed"),
    [
        (Permission.DATAMAP_READ, {A, PO, AU}),
        (Permission.ROPA_READ, {A, PO, AU}),
        (Permission.REQUESTS_READ, {A, PO, AG, AU}),
        (Permission.REQUESTS_WRITE, {A, PO, AG}),
        (Permission.PERSONAL_DATA_READ, {A, PO, AG}),
        (Permission.CONSENTS_READ, {A, PO, AG, AU}),
        (Permission.CONSENTS_WRITE, {A, PO}),
        (Permission.DECISIONS_READ, {A, PO, MS}),
        (Permission.AUDIT_READ, {A, PO, AU}),
        (Permission.RETENTION_READ, {A, PO, AU}),
        (Permission.RETENTION_RUN, {A, PO}),
        (Permission.TOKENS_MANAGE, {A}),
    ],
)
def test_each_permission_is_held_by_exactly_these_roles(
    permission: Permission, allowed: set[Role]
) -> None:
    assert allowed == set(roles_with(permission))
    for role in Role:
        assert (role in allowed) == has_permission(role, permission), role


def test_the_table_covers_every_role() -> None:
    assert set(Role) == set(ROLE_PERMISSIONS)


def test_admin_holds_every_permission() -> None:
    assert set(Permission) == permissions_of(Role.ADMIN)


def test_the_auditor_only_reads() -> None:
    assert all(p.value.endswith(":read") for p in permissions_of(Role.AUDITOR))


def test_a_marketing_system_may_only_ask_for_decisions() -> None:
    assert frozenset({Permission.DECISIONS_READ}) == permissions_of(Role.MARKETING_SYSTEM)


def test_roles_with_lists_roles_in_declaration_order() -> None:
    assert (Role.ADMIN, Role.PRIVACY_OFFICER, Role.AUDITOR) == roles_with(Permission.DATAMAP_READ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("admin", Role.ADMIN),
        ("privacy_officer", Role.PRIVACY_OFFICER),
        ("Privacy-Officer", Role.PRIVACY_OFFICER),
        (" auditor ", Role.AUDITOR),
        ("marketing_system", Role.MARKETING_SYSTEM),
        ("agent", Role.AGENT),
    ],
)
def test_parse_role_accepts_names_forgivingly(text: str, expected: Role) -> None:
    assert expected == parse_role(text)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("adm", "did you mean 'admin'?"),
        ("auditr", "did you mean 'auditor'?"),
        ("root", "use one of admin, privacy_officer, agent, marketing_system, auditor"),
    ],
)
def test_parse_role_refuses_unknown_names_with_a_hint(text: str, hint: str) -> None:
    with pytest.raises(UnknownRoleError) as caught:
        parse_role(text)
    assert f"unknown role '{text}'" == caught.value.message
    assert hint == caught.value.hint
