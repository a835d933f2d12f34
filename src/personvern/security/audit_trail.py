"""What the audit trail records about callers: sign-ins, failed sign-ins and reads.

The chain and its storage live below (personvern.domain.audit, personvern.store.
audit_events) so that the engine and intake record request steps too; this module turns
principals and requests into events. No credential, address or other value a person
typed reaches the trail: a failed sign-in is recorded by its shape, a client by a keyed
hash of its address.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from personvern.domain.audit.event import ANONYMOUS, AuditAction, AuditActor, AuditOutcome
from personvern.security.principal import Principal
from personvern.security.subject_hash import keyed_hash
from personvern.security.tokens import looks_like_api_token
from personvern.store.audit_events import AuditTrail
from personvern.store.base import utcnow

#: A bearer token is presented with every call; one sign-in event per principal per
#: this long (per process) says who was active without a write on every read.
LOGIN_PRECISION = timedelta(minutes=1)

_last_login: dict[tuple[str, str], datetime] = {}
_last_login_lock = threading.Lock()


def actor_of(principal: Principal) -> AuditActor:
    """The principal as the audit trail names it: subject, role and how it signed in."""
    return AuditActor(principal.subject, principal.role.value, principal.via)


def client_key(secret: str, address: str | None) -> str | None:
    """A keyed hash of the caller's network address (None when unknown)."""
    return keyed_hash(secret, "audit-client", address) if address else None


def record_login(session: Session, principal: Principal, *, client: str | None = None) -> bool:
    """Record a successful sign-in, at most once per LOGIN_PRECISION per principal."""
    now = utcnow()
    # Keyed by store too: subjects (``api-token:1``) repeat across stores and test runs.
    bind = session.get_bind()
    key = (str(bind.engine.url), principal.subject)
    with _last_login_lock:
        last = _last_login.get(key)
        if last is not None and now - last < LOGIN_PRECISION:
            return False
        _last_login[key] = now
    AuditTrail(session).record(
        AuditAction.LOGIN_SUCCEEDED,
        actor_of(principal),
        detail={"client": client} if client else {},
        at=now,
    )
    return True


def record_staff_sign_in(session: Session, principal: Principal, *, client: str | None) -> None:
    """Record a completed sign-in to the staff pages (every one: each opens a session)."""
    detail = {"via": "staff_sign_in"}
    if client:
        detail["client"] = client
    AuditTrail(session).record(AuditAction.LOGIN_SUCCEEDED, actor_of(principal), detail=detail)


def record_failed_login(
    session: Session,
    credential: str | None,
    *,
    method: str,
    path: str,
    client: str | None = None,
    shape: str | None = None,
) -> None:
    """Record a refused sign-in by the credential's shape only, never its text."""
    if shape is None:
        shape = _credential_shape(credential)
    detail: dict[str, str] = {"credential": shape, "method": method, "path": path[:200]}
    if client:
        detail["client"] = client
    AuditTrail(session).record(
        AuditAction.LOGIN_FAILED, ANONYMOUS, outcome=AuditOutcome.DENIED, detail=detail
    )


def record_failed_password_sign_in(
    session: Session, *, account: str | None, reason: str, client: str | None
) -> None:
    """Record a refused sign-in with a local account's password.

    ``account`` is the account's subject (``local:<name>``) when such an account exists,
    else None: a user name nobody has may be a password typed into the wrong field.
    """
    detail = {"credential": "password", "via": "staff_sign_in", "reason": reason}
    if account:
        detail["account"] = account
    if client:
        detail["client"] = client
    AuditTrail(session).record(
        AuditAction.LOGIN_FAILED, ANONYMOUS, outcome=AuditOutcome.DENIED, detail=detail
    )


def record_staff_account_change(
    session: Session,
    action: AuditAction,
    actor: AuditActor,
    account: str,
    *,
    detail: dict[str, str] | None = None,
    at: datetime | None = None,
) -> None:
    """Record a change to a local staff account (never its password or hash)."""
    AuditTrail(session).record(action, actor, detail={"account": account, **(detail or {})}, at=at)


def _credential_shape(credential: str | None) -> str:
    if not credential:
        return "none"
    return "api_token" if looks_like_api_token(credential) else "other"


def record_read(
    session: Session,
    principal: Principal,
    *,
    purpose: str | None,
    subject_key: str | None,
    what: str,
    request_id: str | None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    reason: str | None = None,
) -> None:
    """Record a read of a subject's personal data (or a refused one) with its purpose.

    ``request_id`` names the request read through; None for a read by identity (a
    person's consent history), whose subject is then the identity's keyed hash.
    """
    detail: dict[str, str] = {"what": what}
    if request_id is not None:
        detail["request_id"] = request_id
    if reason:
        detail["reason"] = reason
    AuditTrail(session).record(
        AuditAction.PERSONAL_DATA_READ,
        actor_of(principal),
        outcome=outcome,
        subject_key=subject_key,
        purpose=purpose,
        detail=detail,
    )
