"""`GET /api/v1/audit/events`: the audit trail, oldest first, a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from personvern.api.deps import SessionDep, require
from personvern.domain.audit.event import AuditAction
from personvern.domain.roles import Permission
from personvern.store.audit_events import MAX_PAGE, AuditEventRow, AuditTrail

router = APIRouter(tags=["audit"])


class AuditEventOut(BaseModel):
    """One event: who did what, to which subject (a keyed hash), why, when, with what end."""

    sequence: int
    occurred_at: str
    actor: str
    role: str | None
    via: str | None
    action: str
    outcome: str
    subject_key: str | None
    purpose: str | None
    detail: dict[str, Any]
    previous_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditEventRow) -> AuditEventOut:
        """The stored event as the API shows it."""
        return cls(
            sequence=row.sequence,
            occurred_at=row.occurred_at,
            actor=row.actor_subject,
            role=row.actor_role,
            via=row.actor_via,
            action=row.action,
            outcome=row.outcome,
            subject_key=row.subject_key,
            purpose=row.purpose,
            detail=dict(row.detail or {}),
            previous_hash=row.previous_hash,
            hash=row.hash,
        )


class AuditPage(BaseModel):
    """A page of events; ask for the next with ``after=next_after`` while it is not None."""

    events: list[AuditEventOut]
    next_after: int | None


@router.get(
    "/audit/events",
    response_model=AuditPage,
    dependencies=[Depends(require(Permission.AUDIT_READ))],
)
def list_audit_events(
    session: SessionDep,
    after: Annotated[int, Query(ge=0, description="only events after this sequence")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    since: Annotated[datetime | None, Query(description="only events at or after")] = None,
    action: Annotated[AuditAction | None, Query(description="only events of this action")] = None,
) -> AuditPage:
    """Audit events oldest first; subjects appear only as keyed hashes."""
    rows = AuditTrail(session).page(
        after=after,
        limit=limit,
        since=since,
        action=action.value if action is not None else None,
    )
    return AuditPage(
        events=[AuditEventOut.of(row) for row in rows],
        next_after=rows[-1].sequence if len(rows) == limit else None,
    )
