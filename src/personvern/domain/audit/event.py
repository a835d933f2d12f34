"""One audit event and its canonical form: who did what to whose data, why, when, with what end.

The trail itself must hold no plain personal data: a subject appears only as a keyed
hash (personvern.security.subject_hash), an actor as a principal's subject
(``api-token:3``, ``cli:kari``), and ``detail`` carries ids and counts, never values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

#: The predecessor of the first event: 64 zeros, so every event has a predecessor hash.
GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    """What happened."""

    PERSONAL_DATA_READ = "personal_data.read"
    REQUEST_RECEIVED = "request.received"
    REQUEST_STATE_CHANGED = "request.state_changed"
    REQUEST_NOTED = "request.noted"
    REQUEST_DELETED = "request.deleted"
    SUBJECT_FLAG_RECORDED = "subject_flag.recorded"
    CONSENT_CHANGED = "consent.changed"
    REGISTER_CHANGED = "register.changed"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action name, not a secret
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an action name, not a secret
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    STAFF_ACCOUNT_CREATED = "staff_account.created"
    STAFF_ACCOUNT_DISABLED = "staff_account.disabled"
    STAFF_ACCOUNT_LOCKED = "staff_account.locked"
    STAFF_ACCOUNT_UNLOCKED = "staff_account.unlocked"
    STAFF_ACCOUNT_PASSWORD_RESET = "staff_account.password_reset"  # noqa: S105 - an action name
    #: A retention rule swept one table (detail: rule, table, counts, first and last key).
    RETENTION_SWEPT = "retention.swept"
    #: Staff placed a hold on one record, keeping it past its retention period.
    RETENTION_HOLD_PLACED = "retention.hold_placed"
    RETENTION_HOLD_LIFTED = "retention.hold_lifted"


class AuditOutcome(StrEnum):
    """How it ended."""

    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditActor:
    """Who acted: a principal's subject, its role and how it was authenticated."""

    subject: str
    role: str | None = None
    via: str | None = None


#: The actor of events nobody signed in for (a subject's own request, a failed login).
ANONYMOUS = AuditActor(subject="anonymous")


@dataclass(frozen=True)
class AuditEvent:
    """What is recorded, before it is chained (no sequence or hashes yet)."""

    occurred_at: datetime
    actor: AuditActor
    #: An AuditAction's value; text, so a stored value of a later version still verifies.
    action: str
    outcome: str = AuditOutcome.SUCCESS
    #: The subject as a keyed hash; None when the event concerns no one subject.
    subject_key: str | None = None
    #: The data map purpose a read was made for; None for events that are no read.
    purpose: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChainedEvent:
    """An event as stored: its place in the chain, its predecessor's hash and its own."""

    sequence: int
    event: AuditEvent
    previous_hash: str
    hash: str


def utc_iso(moment: datetime) -> str:
    """``moment`` as UTC ISO 8601 with microseconds; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("an audit event's time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(sequence: int, previous_hash: str, event: AuditEvent) -> bytes:
    """The bytes the event's hash is taken over: deterministic JSON, sorted keys, UTF-8."""
    document = {
        "sequence": sequence,
        "previous_hash": previous_hash,
        "occurred_at": utc_iso(event.occurred_at),
        "actor": {
            "subject": event.actor.subject,
            "role": event.actor.role,
            "via": event.actor.via,
        },
        "action": str(event.action),
        "outcome": str(event.outcome),
        "subject_key": event.subject_key,
        "purpose": event.purpose,
        "detail": event.detail,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
