"""Local staff accounts: what a user name and a password must be, and when an account locks.

The rules only; hashing, storing and signing in live in personvern.security.staff_accounts.
A user name is stored in one canonical form (NFKC, lower case), so ``Kari`` and ``kari``
are one account. A password is compared after NFKC normalisation (NIST SP 800-63B
5.1.1.2), so the same password typed on two keyboards that compose characters
differently still matches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from personvern.domain.errors import DomainError
from personvern.domain.roles import Role
from personvern.errors import ErrorKind

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 64
PASSWORD_MIN_LENGTH = 12
#: Argon2 takes any length, but a megabyte "password" is only a way to burn CPU.
PASSWORD_MAX_LENGTH = 1024
#: "aaaaaaaaaaaa" and "121212121212" meet the length and nothing else.
PASSWORD_MIN_DISTINCT = 5

#: Lower-case ASCII letters and digits, then also ``.``, ``_``, ``-`` and ``@`` (so an
#: e-mail address works as a user name). The first character is a letter or digit, so
#: a user name never reads as a command-line option.
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]*")
USERNAME_RULE = (
    f"{USERNAME_MIN_LENGTH}-{USERNAME_MAX_LENGTH} characters: lower-case letters a-z, "
    "digits and . _ - @, starting with a letter or digit"
)
PASSWORD_HINT = (
    f"use at least {PASSWORD_MIN_LENGTH} characters that do not include the user name; "
    "four or five random words make a good one, or leave the password out and let "
    "personvern generate one"
)

#: Roles a person signs in with; a system's role belongs on an API token.
_SYSTEM_ROLES = frozenset({Role.MARKETING_SYSTEM})


class InvalidUsernameError(DomainError):
    """A user name that breaks the rule for staff account names."""

    kind = ErrorKind.INVALID
    title = "Invalid user name"


class WeakPasswordError(DomainError):
    """A password the policy refuses (too short, too long, contains the user name, ...)."""

    kind = ErrorKind.INVALID
    title = "Password refused"


class StaffRoleError(DomainError):
    """A role that is not for people (the marketing system's)."""

    kind = ErrorKind.INVALID
    title = "Role not for staff accounts"


class DuplicateAccountError(DomainError):
    """A staff account with that user name exists already."""

    kind = ErrorKind.CONFLICT
    title = "Staff account exists"


class UnknownAccountError(DomainError):
    """No staff account has that user name (for staff commands, never for sign-in)."""

    kind = ErrorKind.NOT_FOUND
    title = "No such staff account"


class AccountLockedError(DomainError):
    """The account is locked after too many failed sign-ins; it opens again at ``locked_until``."""

    kind = ErrorKind.TOO_MANY
    title = "Account locked"

    def __init__(self, locked_until: datetime, now: datetime) -> None:
        until = locked_until.astimezone(UTC)
        super().__init__(
            "this account is locked after too many failed sign-ins",
            hint=f"try again after {until:%H:%M} UTC or ask an admin to unlock it",
        )
        self.locked_until = until
        #: Whole seconds until it opens (at least 1): the API's Retry-After.
        self.retry_after = max(1, int((locked_until - now).total_seconds() + 0.999))


def parse_username(value: str) -> str:
    """The canonical user name (NFKC, trimmed, lower case); InvalidUsernameError if bad."""
    for character in value:
        if unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp"):
            raise InvalidUsernameError(
                f"a user name may not contain control or invisible characters "
                f"(found U+{ord(character):04X})",
                hint=USERNAME_RULE,
            )
    if len(value) > 4 * USERNAME_MAX_LENGTH:
        # Before NFKC, which can make a string many times longer.
        raise InvalidUsernameError(
            f"a user name may have at most {USERNAME_MAX_LENGTH} characters", hint=USERNAME_RULE
        )
    # NFKC first: full-width "ｋａｒｉ" is "kari"; then lower case for one account per name.
    name = unicodedata.normalize("NFKC", value).strip().lower()
    if not name:
        raise InvalidUsernameError("a user name is needed", hint=USERNAME_RULE)
    if len(name) > USERNAME_MAX_LENGTH:
        raise InvalidUsernameError(
            f"a user name may have at most {USERNAME_MAX_LENGTH} characters", hint=USERNAME_RULE
        )
    if len(name) < USERNAME_MIN_LENGTH:
        raise InvalidUsernameError(
            f"a user name needs at least {USERNAME_MIN_LENGTH} characters", hint=USERNAME_RULE
        )
    if not _USERNAME.fullmatch(name):
        # Echoed escaped: past the checks above it may still hold any printable character.
        raise InvalidUsernameError(
            f"'{_visible(name)}' is not a valid user name", hint=USERNAME_RULE
        )
    return name


def _visible(name: str) -> str:
    """``name`` with anything outside printable ASCII escaped, for an error message."""
    return "".join(c if " " <= c <= "~" else f"\\u{ord(c):04x}" for c in name)


def staff_role(role: Role) -> Role:
    """``role`` if a person may sign in with it; StaffRoleError for a system's role."""
    if role in _SYSTEM_ROLES:
        raise StaffRoleError(
            f"'{role.value}' is the role of a system, not of a person",
            hint="give the system an API token with `personvern token create --role "
            f"{role.value}`; staff roles: "
            + ", ".join(r.value for r in Role if r not in _SYSTEM_ROLES),
        )
    return role


def normalize_password(password: str) -> str:
    """The form a password is hashed and checked in (NFKC)."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, username: str) -> None:
    """Refuse a password the policy does not allow, with a hint; returns nothing if it is fine."""
    # The raw length first: NFKC can make a string many times longer.
    if len(password) > PASSWORD_MAX_LENGTH:
        raise WeakPasswordError(
            f"the password is longer than {PASSWORD_MAX_LENGTH} characters", hint=PASSWORD_HINT
        )
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in password):
        # Cs: a lone surrogate has no UTF-8 form, so it could never be hashed.
        raise WeakPasswordError(
            "the password contains a control character (a line break, tab or NUL) or a "
            "broken character",
            hint="type it on one line; " + PASSWORD_HINT,
        )
    normalized = normalize_password(password)
    if len(normalized) < PASSWORD_MIN_LENGTH:
        raise WeakPasswordError(
            f"the password has {len(normalized)} characters; at least "
            f"{PASSWORD_MIN_LENGTH} are needed",
            hint=PASSWORD_HINT,
        )
    if len(normalized) > PASSWORD_MAX_LENGTH:
        raise WeakPasswordError(
            f"the password is longer than {PASSWORD_MAX_LENGTH} characters", hint=PASSWORD_HINT
        )
    if username and username.casefold() in normalized.casefold():
        raise WeakPasswordError("the password contains the user name", hint=PASSWORD_HINT)
    if len(set(normalized)) < PASSWORD_MIN_DISTINCT:
        raise WeakPasswordError(
            f"the password repeats too few characters (needs {PASSWORD_MIN_DISTINCT} different)",
            hint=PASSWORD_HINT,
        )


@dataclass(frozen=True)
class LockoutPolicy:
    """Lock for ``window`` after ``attempts`` failures, each within ``window`` of the last."""

    attempts: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.window <= timedelta(0):
            msg = "a lockout policy needs at least one attempt and a positive window"
            raise ValueError(msg)


@dataclass(frozen=True)
class FailedSignIns:
    """An account's record of failed sign-ins: how many in a row, the last one, the lock."""

    count: int = 0
    last_failed_at: datetime | None = None
    locked_until: datetime | None = None

    def locked_at(self, now: datetime) -> bool:
        """Whether the account is locked at ``now``."""
        return self.locked_until is not None and now < self.locked_until


def after_failure(policy: LockoutPolicy, record: FailedSignIns, now: datetime) -> FailedSignIns:
    """The record after one more failed sign-in at ``now``; locked once the policy's count is hit.

    Failures further apart than the window do not add up: a mistyped password once a
    week never locks anyone out. Reaching the count locks the account for the window
    and the lock's end is where the next count begins (the last failure is a window old).
    """
    if record.locked_at(now):
        # Attempts on a locked account are refused unchecked; they neither count nor
        # lengthen the lock, which ends when the refusal said it would.
        return record
    recent = record.last_failed_at is not None and now - record.last_failed_at < policy.window
    count = (record.count if recent else 0) + 1
    locked_until = now + policy.window if count >= policy.attempts else None
    return FailedSignIns(count=count, last_failed_at=now, locked_until=locked_until)
