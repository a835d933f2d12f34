"""Purpose-bound reads: a route that shows a subject's personal data names why it is read.

The caller sends ``X-Personvern-Purpose: <purpose key>`` (or ``?purpose=``). The key
must be one of the data map's purposes, and the subject's restriction, objection or
withdrawn consent must not forbid it (personvern.domain.audit.purpose says which do).
The read is recorded in the audit trail with its purpose; a refused one too, as denied.
The event is committed before the route answers, so the read's own sessions (a plan
opens several) never wait for it; it records that the data was handed out for the
purpose, not whether the route then found everything it looked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query
from sqlalchemy.orm import Session

from personvern.api.deps import ContextDep, DataMapDep, SessionDep, require
from personvern.domain.audit.event import AuditOutcome
from personvern.domain.audit.purpose import (
    FlagInForce,
    PurposeForbiddenError,
    check_flags,
    check_purpose,
)
from personvern.domain.datamap import DataMap
from personvern.domain.roles import Permission
from personvern.intake.views import readable_identities
from personvern.security.audit_trail import record_read
from personvern.security.principal import Principal
from personvern.security.subject_hash import identity_hash
from personvern.store.requests import RequestRepository

PURPOSE_HEADER = "X-Personvern-Purpose"


@dataclass(frozen=True)
class PurposeBoundRead:
    """A read the audit trail has recorded: who, for which purpose, of which request."""

    principal: Principal
    purpose: str
    request_id: str


def purpose_bound_read(what: str) -> Callable[..., PurposeBoundRead]:
    """A dependency: personal_data:read, a valid purpose the subject allows, and a record."""

    def dependency(
        request_id: str,
        context: ContextDep,
        session: SessionDep,
        datamap: DataMapDep,
        principal: Annotated[Principal, Depends(require(Permission.PERSONAL_DATA_READ))],
        header: Annotated[
            str | None,
            Header(
                alias=PURPOSE_HEADER,
                max_length=100,
                description="why the personal data is read: a purpose key of the data map",
            ),
        ] = None,
        query: Annotated[
            str | None,
            Query(alias="purpose", max_length=100, description=f"instead of {PURPOSE_HEADER}"),
        ] = None,
    ) -> PurposeBoundRead:
        return read_for_purpose(
            session,
            context.settings.secret(),
            datamap,
            principal,
            request_id,
            header if header is not None else query,
            what,
        )

    dependency.__name__ = f"purpose_bound_read_{what}"
    return dependency


def read_for_purpose(
    session: Session,
    secret: str,
    datamap: DataMap,
    principal: Principal,
    request_id: str,
    asked: str | None,
    what: str,
) -> PurposeBoundRead:
    """Check that ``asked`` is a purpose the subject allows and record the read (or refusal).

    Shared by the API's dependency and the staff console's request page: one rule for
    every way personal data of a request is shown.
    """
    purpose = check_purpose(datamap, asked)
    repository = RequestRepository(session)
    request = repository.get(request_id)
    # An erased subject's identities are crypto-shredded: no flag can be looked up,
    # and nothing of theirs is left to read beyond the plain receipt.
    identities = readable_identities(request) or []
    flags = [
        FlagInForce(flag.kind, flag.purpose)
        for identity in identities
        for flag in repository.active_flags(
            identity["kind"], identity_hash(secret, identity["kind"], identity["value"])
        )
    ]
    refusal: PurposeForbiddenError | None = None
    try:
        check_flags(datamap, purpose, flags)
    except PurposeForbiddenError as refused:
        refusal = refused
    # Refused reads are recorded too, and committed before the 403 goes out.
    record_read(
        session,
        principal,
        purpose=purpose,
        subject_key=request.subject_key,
        what=what,
        request_id=request.id,
        outcome=AuditOutcome.SUCCESS if refusal is None else AuditOutcome.DENIED,
        reason=None if refusal is None else refusal.message,
    )
    session.commit()
    if refusal is not None:
        raise refusal
    return PurposeBoundRead(principal, purpose, request.id)
