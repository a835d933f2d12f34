"""Who may do what: the roles of personvern's users and the permissions each role holds.

Least privilege: a role holds only what its work needs. The table below is the whole
rule set; the API checks a permission, never a role, so a new route states *what* it
does and the table decides *who* may.
"""

from __future__ import annotations

import difflib
from enum import StrEnum

from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind


class Role(StrEnum):
    """A role a principal (person or system) acts in."""

    ADMIN = "admin"
    PRIVACY_OFFICER = "privacy_officer"
    AGENT = "agent"
    MARKETING_SYSTEM = "marketing_system"
    AUDITOR = "auditor"


class Permission(StrEnum):
    """One thing a principal may do, named ``resource:action``."""

    DATAMAP_READ = "datamap:read"
    ROPA_READ = "ropa:read"
    REQUESTS_READ = "requests:read"
    REQUESTS_WRITE = "requests:write"
    #: Reading a subject's personal data (a request's identities, its plan, its answer),
    #: always for a purpose from the data map (personvern.domain.audit.purpose).
    PERSONAL_DATA_READ = "personal_data:read"
    CONSENTS_READ = "consents:read"
    CONSENTS_WRITE = "consents:write"
    DECISIONS_READ = "decisions:read"
    AUDIT_READ = "audit:read"
    #: Retention runs, their evidence and what comes due (counts and record keys only).
    RETENTION_READ = "retention:read"
    #: Starting retention runs, which delete or anonymise data in the company's stores.
    RETENTION_RUN = "retention:run"
    TOKENS_MANAGE = "tokens:manage"


class UnknownRoleError(DomainError):
    """A role name that is not one of :class:`Role`."""

    kind = ErrorKind.INVALID
    title = "Unknown role"


_P = Permission

#: The complete rule set. Everything not listed here is refused.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    # The DPO runs the programme but does not hand out credentials.
    Role.PRIVACY_OFFICER: frozenset(Permission) - {_P.TOKENS_MANAGE},
    # Customer service files and follows requests on a customer's behalf and may look up
    # consents to answer a caller; it does not see the register or the audit trail.
    Role.AGENT: frozenset(
        {_P.REQUESTS_READ, _P.REQUESTS_WRITE, _P.PERSONAL_DATA_READ, _P.CONSENTS_READ}
    ),
    # A marketing system only asks "may I contact this person?" (policy §2).
    Role.MARKETING_SYSTEM: frozenset({_P.DECISIONS_READ}),
    # Read-only view of the register, the requests, the consents and the evidence (the
    # audit trail, the retention runs), but not of the subjects' personal data itself.
    Role.AUDITOR: frozenset(
        {
            _P.DATAMAP_READ,
            _P.ROPA_READ,
            _P.REQUESTS_READ,
            _P.CONSENTS_READ,
            _P.AUDIT_READ,
            _P.RETENTION_READ,
        }
    ),
}


def permissions_of(role: Role) -> frozenset[Permission]:
    """Every permission ``role`` holds."""
    return ROLE_PERMISSIONS[role]


def has_permission(role: Role, permission: Permission) -> bool:
    """Whether ``role`` may do ``permission``."""
    return permission in ROLE_PERMISSIONS[role]


def roles_with(permission: Permission) -> tuple[Role, ...]:
    """The roles that hold ``permission``, in declaration order (for error messages)."""
    return tuple(role for role in Role if permission in ROLE_PERMISSIONS[role])


def parse_role(value: str) -> Role:
    """Turn user input into a :class:`Role`, with a did-you-mean hint when it is unknown."""
    normalized = value.strip().lower().replace("-", "_")
    try:
        return Role(normalized)
    except ValueError:
        names = [role.value for role in Role]
        close = difflib.get_close_matches(normalized, names, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "use one of " + ", ".join(names)
        raise UnknownRoleError(f"unknown role '{value}'", hint=hint) from None
