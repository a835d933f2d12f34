"""Local staff accounts: create them, sign in with their passwords, lock, unlock and disable.

For installations without an identity provider (and, if PERSONVERN_STAFF_LOCAL_ACCOUNTS
is true, as break-glass accounts beside one). Passwords are hashed with Argon2id
(argon2-cffi's defaults, RFC 9106's second recommended profile); a stored hash made
with older parameters is replaced at the next successful sign-in.

A refused sign-in says the same thing whether the user name is unknown, the password
wrong or the account disabled, and takes as long: an unknown name is checked against a
dummy hash. Only a locked account says so (with when it opens), because its owner needs
to know; docs/staff-accounts.md says what that tells an attacker.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditAction, AuditActor
from personvern.domain.roles import Role
from personvern.domain.staff_accounts import (
    PASSWORD_MAX_LENGTH,
    AccountLockedError,
    DuplicateAccountError,
    FailedSignIns,
    InvalidUsernameError,
    LockoutPolicy,
    UnknownAccountError,
    WeakPasswordError,
    after_failure,
    check_password,
    normalize_password,
    parse_username,
    staff_role,
)
from personvern.errors import PersonvernError
from personvern.security.audit_trail import (
    record_failed_password_sign_in,
    record_staff_account_change,
    record_staff_sign_in,
)
from personvern.security.errors import AuthError, LocalAccountsOffError
from personvern.security.principal import Principal
from personvern.security.staff_sessions import LOCAL_SUBJECT_PREFIX, close_sessions_of
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.staff_accounts import StaffAccount, StaffAccountRepository

#: One hasher for the process: its parameters are what check_needs_rehash compares with.
PASSWORD_HASHER = PasswordHasher()

#: The one message for every refused password sign-in but a lock.
SIGN_IN_REFUSED = "the user name or password is not right"
SIGN_IN_HINT = "check both and try again; an admin can reset the password"

#: Generated passwords: 5 groups of 5 from 52 characters that cannot be misread for one
#: another (no 0/O/o, 1/l/I, 5/S, 2/Z), about 142 bits, easy to read out and type.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789"
_GROUPS, _GROUP_LENGTH = 5, 5


def local_subject(username: str) -> str:
    """The principal subject of a local account: ``local:<user name>``."""
    return LOCAL_SUBJECT_PREFIX + username


def local_accounts_enabled(settings: Settings) -> bool:
    """Whether staff may sign in with local accounts under ``settings``.

    PERSONVERN_STAFF_LOCAL_ACCOUNTS decides when set; otherwise local accounts work only
    when no identity provider is configured, so that single sign-on is not bypassed by
    an account someone forgot.
    """
    if settings.staff_local_accounts is not None:
        return settings.staff_local_accounts
    return not settings.oidc_enabled


def lockout_policy(settings: Settings) -> LockoutPolicy:
    """The lockout policy PERSONVERN_STAFF_LOCKOUT_ATTEMPTS and _MINUTES ask for."""
    return LockoutPolicy(
        attempts=settings.staff_lockout_attempts,
        window=timedelta(minutes=settings.staff_lockout_minutes),
    )


@dataclass(frozen=True)
class AccountInfo:
    """What may be shown about a staff account (never its password hash)."""

    username: str
    role: str
    created_at: datetime
    created_by: str
    disabled_at: datetime | None
    failed_attempts: int
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    password_changed_at: datetime

    @classmethod
    def of(cls, row: StaffAccount) -> AccountInfo:
        """The shareable facts about a stored account."""
        return cls(
            username=row.username,
            role=row.role,
            created_at=row.created_at,
            created_by=row.created_by,
            disabled_at=row.disabled_at,
            failed_attempts=row.failed_attempts,
            locked_until=row.locked_until,
            last_sign_in_at=row.last_sign_in_at,
            password_changed_at=row.password_changed_at,
        )

    def status(self, now: datetime | None = None) -> str:
        """``disabled``, ``locked`` or ``active``."""
        if self.disabled_at is not None:
            return "disabled"
        if self.locked_until is not None and (now or utcnow()) < self.locked_until:
            return "locked"
        return "active"


@dataclass(frozen=True)
class CreatedAccount:
    """A new account; ``generated_password`` is set (once, here only) when personvern made it."""

    account: AccountInfo
    generated_password: str | None


def generate_password(username: str = "") -> str:
    """A new random password that meets the policy for ``username``."""
    while True:
        password = "-".join(
            "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
        )
        try:
            check_password(password, username=username)
        except WeakPasswordError:  # pragma: no cover - needs the user name inside by chance
            continue
        return password


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (normalised), as stored."""
    return PASSWORD_HASHER.hash(normalize_password(password))


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(stored_hash, normalize_password(password))
    except (VerificationError, InvalidHashError):
        return False
    except UnicodeEncodeError:
        # A lone surrogate (no UTF-8 form): no stored password has one (check_password).
        return False


@functools.cache
def _dummy_hash() -> str:
    # Made once per process with the current parameters, so checking it costs what
    # checking a real account's password costs.
    return PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


def _spend_a_check(password: str) -> None:
    """Take as long as checking a real password, and learn nothing."""
    _password_matches(_dummy_hash(), password[:PASSWORD_MAX_LENGTH])


def _account(session: Session, username: str) -> StaffAccount:
    row = StaffAccountRepository(session).by_username(parse_username(username))
    if row is None:
        raise UnknownAccountError(
            f"there is no staff account '{parse_username(username)}'",
            hint="`personvern user list` shows the accounts",
        )
    return row


def create_account(
    session: Session,
    username: str,
    role: Role,
    password: str | None,
    *,
    created_by: str,
    actor: AuditActor | None = None,
    now: datetime | None = None,
) -> CreatedAccount:
    """Create a staff account; with ``password`` None, generate one and return it (only here).

    ``created_by`` names who did it as the audit trail names actors (``cli:kari``);
    ``actor`` is recorded as the one who acted (default: ``created_by``).
    """
    now = now or utcnow()
    name = parse_username(username)
    role = staff_role(Role(role))
    generated = None
    if password is None:
        password = generated = generate_password(name)
    check_password(password, username=name)
    repository = StaffAccountRepository(session)
    if repository.by_username(name) is not None:
        raise _duplicate(name)
    try:
        # A savepoint: a concurrent create of the same name fails here, not the caller's
        # whole transaction.
        with session.begin_nested():
            row = repository.add(
                username=name,
                role=role.value,
                password_hash=hash_password(password),
                created_by=created_by[:200],
                now=now,
            )
    except IntegrityError:
        raise _duplicate(name) from None
    record_staff_account_change(
        session,
        AuditAction.STAFF_ACCOUNT_CREATED,
        actor or AuditActor(created_by),
        local_subject(name),
        detail={"role": role.value, "password": "generated" if generated else "given"},
        at=now,
    )
    return CreatedAccount(account=AccountInfo.of(row), generated_password=generated)


def _duplicate(name: str) -> DuplicateAccountError:
    return DuplicateAccountError(
        f"a staff account '{name}' exists already",
        hint=f"choose another user name, or `personvern user reset-password {name}`",
    )


def sign_in_with_password(
    session: Session,
    username: str,
    password: str,
    *,
    settings: Settings,
    client: str | None,
    now: datetime | None = None,
) -> Principal:
    """The principal of a local account whose password is right.

    Raises AuthError (one message for an unknown name, a wrong password and a disabled
    account), AccountLockedError (too many failures; ``retry_after``, ``locked_until``)
    or LocalAccountsOffError. ``client`` is the caller's address as
    personvern.security.audit_trail.client_key makes it. A refusal's record (the failure
    count, the lock, the audit event) is committed before the error is raised, so it
    stays although the caller's request fails; a success is left to the caller to commit.
    """
    now = now or utcnow()
    if not local_accounts_enabled(settings):
        raise LocalAccountsOffError(
            "sign-in with a local staff account is turned off here",
            hint="sign in through the identity provider (/staff/login); an admin can allow "
            "local accounts as a fallback with PERSONVERN_STAFF_LOCAL_ACCOUNTS=true",
        )
    repository = StaffAccountRepository(session)
    try:
        name: str | None = parse_username(username)
    except InvalidUsernameError:
        name = None
    row = repository.by_username(name) if name is not None else None
    if row is None or row.disabled_at is not None:
        _spend_a_check(password)
        _refuse(session, row, "unknown_account" if row is None else "disabled", client)
    failures = FailedSignIns(row.failed_attempts, row.last_failed_at, row.locked_until)
    if failures.locked_until is not None and failures.locked_at(now):
        _refuse(session, row, "locked", client, AccountLockedError(failures.locked_until, now))
    if len(password) > PASSWORD_MAX_LENGTH:
        # No stored password is this long (the policy refuses it): a failure, unhashed.
        _spend_a_check(password)
        _count_failure(session, row.id, settings, client, now)
    if not _password_matches(row.password_hash, password):
        _count_failure(session, row.id, settings, client, now)
    try:
        role = Role(row.role)
    except ValueError:
        # A role removed from the code while accounts with it remain: refuse, do not guess.
        _refuse(session, row, "unknown_role", client)
    row.failed_attempts = 0
    row.last_failed_at = None
    row.locked_until = None
    row.last_sign_in_at = now
    if PASSWORD_HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
    principal = Principal(
        subject=local_subject(row.username),
        role=role,
        via="password",
        display_name=row.username,
    )
    record_staff_sign_in(session, principal, client=client)
    session.flush()
    return principal


def _count_failure(
    session: Session, account_id: int, settings: Settings, client: str | None, now: datetime
) -> NoReturn:
    """Add a failure to the account's count (under a row lock), maybe lock it, and refuse."""
    row = StaffAccountRepository(session).locked_for_update(account_id)
    if row is None:  # pragma: no cover - deleted between the two reads
        _refuse(session, None, "unknown_account", client)
    before = FailedSignIns(row.failed_attempts, row.last_failed_at, row.locked_until)
    after = after_failure(lockout_policy(settings), before, now)
    row.failed_attempts = after.count
    row.last_failed_at = after.last_failed_at
    row.locked_until = after.locked_until
    if after.locked_until is None or not after.locked_at(now):
        _refuse(session, row, "wrong_password", client)
    if not before.locked_at(now):
        record_staff_account_change(
            session,
            AuditAction.STAFF_ACCOUNT_LOCKED,
            AuditActor("personvern"),
            local_subject(row.username),
            detail={
                "until": f"{after.locked_until:%Y-%m-%dT%H:%M:%SZ}",
                "failed_attempts": str(after.count),
            },
            at=now,
        )
    _refuse(session, row, "wrong_password", client, AccountLockedError(after.locked_until, now))


def _refuse(
    session: Session,
    row: StaffAccount | None,
    reason: str,
    client: str | None,
    error: PersonvernError | None = None,
) -> NoReturn:
    """Record the refusal, commit it (it must outlive the failing request), and raise."""
    record_failed_password_sign_in(
        session,
        account=local_subject(row.username) if row is not None else None,
        reason=reason,
        client=client,
    )
    session.commit()
    raise error or AuthError(SIGN_IN_REFUSED, hint=SIGN_IN_HINT)


def disable_account(
    session: Session, username: str, *, actor: AuditActor, now: datetime | None = None
) -> AccountInfo:
    """Disable the account (it can no longer sign in) and end its sessions."""
    now = now or utcnow()
    row = _account(session, username)
    if row.disabled_at is None:
        row.disabled_at = now
        ended = close_sessions_of(session, local_subject(row.username))
        record_staff_account_change(
            session,
            AuditAction.STAFF_ACCOUNT_DISABLED,
            actor,
            local_subject(row.username),
            detail={"sessions_ended": str(ended)},
            at=now,
        )
    session.flush()
    return AccountInfo.of(row)


def unlock_account(
    session: Session, username: str, *, actor: AuditActor, now: datetime | None = None
) -> AccountInfo:
    """Lift a lock and forget the failed sign-ins counted so far."""
    now = now or utcnow()
    row = _account(session, username)
    was_locked = row.locked_until is not None and now < row.locked_until
    row.failed_attempts = 0
    row.last_failed_at = None
    row.locked_until = None
    record_staff_account_change(
        session,
        AuditAction.STAFF_ACCOUNT_UNLOCKED,
        actor,
        local_subject(row.username),
        detail={"was_locked": "yes" if was_locked else "no"},
        at=now,
    )
    session.flush()
    return AccountInfo.of(row)


def reset_password(
    session: Session,
    username: str,
    password: str | None,
    *,
    actor: AuditActor,
    now: datetime | None = None,
) -> str | None:
    """Set a new password (generated when ``password`` is None, and returned only then).

    The account is unlocked too, and its sessions end: whoever knew the old password is
    signed out.
    """
    now = now or utcnow()
    row = _account(session, username)
    generated = None
    if password is None:
        password = generated = generate_password(row.username)
    check_password(password, username=row.username)
    row.password_hash = hash_password(password)
    row.password_changed_at = now
    row.failed_attempts = 0
    row.last_failed_at = None
    row.locked_until = None
    ended = close_sessions_of(session, local_subject(row.username))
    record_staff_account_change(
        session,
        AuditAction.STAFF_ACCOUNT_PASSWORD_RESET,
        actor,
        local_subject(row.username),
        detail={"password": "generated" if generated else "given", "sessions_ended": str(ended)},
        at=now,
    )
    session.flush()
    return generated


def list_accounts(session: Session) -> list[AccountInfo]:
    """Every staff account, by user name."""
    return [AccountInfo.of(row) for row in StaffAccountRepository(session).list_all()]
