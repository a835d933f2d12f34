"""Persistence of data subject requests, their history, steps, tasks, files and subject flags.

Rules (which transitions are allowed, what a deadline is) live in
personvern.domain.requests; this module only reads and writes rows within the caller's
session and transaction, and flushes so that ids and constraint errors appear at once.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditAction, AuditActor
from personvern.domain.requests.lifecycle import (
    RejectionReason,
    RequestState,
    RequestType,
)
from personvern.domain.requests.tasks import PlannedTask, TaskStatus
from personvern.store.audit_events import AuditTrail
from personvern.store.base import utcnow
from personvern.store.errors import RecordNotFoundError
from personvern.store.models import (
    DataSubjectRequest,
    RequestArtifact,
    RequestEvent,
    RequestIdentityHash,
    RequestStep,
    RequestTask,
    SubjectFlag,
)

#: Rows a listing returns at most, whatever the caller asks for.
MAX_LIST = 1000
#: Request ids per statement when deleting: under every database's bound-parameter limit.
_CHUNK = 900


def new_request_id() -> str:
    """A random, unguessable request id: 32 hex characters (128 bits)."""
    return secrets.token_hex(16)


class RequestRepository:
    """Reads and writes data subject requests within the caller's session and transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        type: RequestType,
        identities: Sequence[dict[str, str]],
        identity_hashes: Sequence[tuple[str, str]],
        subject_key: str,
        language: str,
        channel: str,
        created_by: str,
        deadline: date,
        received_at: datetime | None = None,
        details: dict[str, Any] | None = None,
        linked_request_id: str | None = None,
        requested_language: str | None = None,
    ) -> DataSubjectRequest:
        """Insert a request in state ``received`` with its first event, and return it.

        ``identity_hashes``: (kind, keyed hash) of each of ``identities``, kept while the
        request is open (see RequestIdentityHash).
        """
        received_at = received_at or utcnow()
        request = DataSubjectRequest(
            id=new_request_id(),
            type=RequestType(type).value,
            state=RequestState.RECEIVED,
            received_at=received_at,
            deadline=deadline,
            language=language,
            requested_language=requested_language,
            identities=[dict(i) for i in identities],
            subject_key=subject_key,
            channel=channel,
            created_by=created_by,
            linked_request_id=linked_request_id,
            details=dict(details or {}),
            attempts=0,
            updated_at=received_at,
        )
        self.session.add(request)
        self.session.flush()
        self.add_identity_hashes(request.id, identity_hashes)
        self._event(
            request,
            f"received through {channel}",
            created_by,
            received_at,
            action=AuditAction.REQUEST_RECEIVED,
            detail={"channel": channel},
        )
        return request

    def get(self, request_id: str, *, for_update: bool = False) -> DataSubjectRequest:
        """The request with ``request_id``, or RecordNotFoundError.

        ``for_update`` locks its row until the transaction ends (where the database
        has row locks; SQLite serialises writers anyway).
        """
        request = self.session.get(DataSubjectRequest, request_id, with_for_update=for_update)
        if request is None:
            raise RecordNotFoundError(
                f"no data subject request with id '{request_id}'",
                hint="check the id; `personvern request list` shows them",
            )
        return request

    def list(
        self,
        state: RequestState | None = None,
        type: RequestType | None = None,
        limit: int = 100,
    ) -> Sequence[DataSubjectRequest]:
        """Requests, newest first, optionally only those in ``state`` and of ``type``."""
        query = sa.select(DataSubjectRequest)
        if state is not None:
            query = query.where(DataSubjectRequest.state == RequestState(state))
        if type is not None:
            query = query.where(DataSubjectRequest.type == RequestType(type).value)
        query = query.order_by(DataSubjectRequest.received_at.desc(), DataSubjectRequest.id)
        return self.session.scalars(query.limit(max(1, min(limit, MAX_LIST)))).all()

    def open_by_deadline(
        self,
        *,
        state: RequestState | None = None,
        type: RequestType | None = None,
        subject_key: str | None = None,
        limit: int = 500,
    ) -> Sequence[DataSubjectRequest]:
        """Requests that need work, the nearest deadline in force first (the inbox's order)."""
        deadline = sa.func.coalesce(
            DataSubjectRequest.extended_deadline, DataSubjectRequest.deadline
        )
        open_task = (
            sa.select(RequestTask.id)
            .where(
                RequestTask.request_id == DataSubjectRequest.id,
                RequestTask.status == TaskStatus.OPEN.value,
            )
            .exists()
        )
        # A partially completed request still needs staff: its open tasks (manual steps,
        # Art. 19 notices) complete it.
        query = sa.select(DataSubjectRequest).where(
            sa.or_(
                DataSubjectRequest.state.in_([s for s in RequestState if s.is_open]),
                sa.and_(DataSubjectRequest.state == RequestState.PARTIALLY_COMPLETED, open_task),
            )
        )
        if state is not None:
            query = query.where(DataSubjectRequest.state == RequestState(state))
        if type is not None:
            query = query.where(DataSubjectRequest.type == RequestType(type).value)
        if subject_key is not None:
            query = query.where(DataSubjectRequest.subject_key == subject_key)
        query = query.order_by(deadline, DataSubjectRequest.received_at, DataSubjectRequest.id)
        return self.session.scalars(query.limit(max(1, min(limit, MAX_LIST)))).all()

    def verified_for_subject(
        self, subject_key: str, limit: int = 100
    ) -> Sequence[DataSubjectRequest]:
        """The subject's requests whose identity was proven, newest first."""
        query = (
            sa.select(DataSubjectRequest)
            .where(
                DataSubjectRequest.subject_key == subject_key,
                DataSubjectRequest.verified_at.is_not(None),
            )
            .order_by(DataSubjectRequest.received_at.desc(), DataSubjectRequest.id)
        )
        return self.session.scalars(query.limit(max(1, min(limit, MAX_LIST)))).all()

    def open_task_keys(self, request_ids: Sequence[str]) -> dict[str, builtins.list[str]]:
        """Per request, the keys ("system.dataset" or "system") of its open tasks."""
        found: dict[str, builtins.list[str]] = {}
        if not request_ids:
            return found
        query = sa.select(RequestTask.request_id, RequestTask.key).where(
            RequestTask.request_id.in_(list(request_ids)),
            RequestTask.status == TaskStatus.OPEN.value,
        )
        for request_id, key in self.session.execute(query):
            found.setdefault(request_id, []).append(key)
        return found

    def find_verified_original(
        self, subject_key: str, type: RequestType, *, exclude: str | None = None
    ) -> DataSubjectRequest | None:
        """The oldest open request of ``type`` for the subject whose identity was proven.

        Never a request that is itself a duplicate (a link to it would make a chain),
        and never an unverified one: a duplicate links to the proof, not to a claim.
        """
        open_states = [s.value for s in RequestState if s.is_open]
        query = (
            sa.select(DataSubjectRequest)
            .where(
                DataSubjectRequest.subject_key == subject_key,
                DataSubjectRequest.type == RequestType(type).value,
                DataSubjectRequest.state.in_(open_states),
                DataSubjectRequest.verified_at.is_not(None),
                DataSubjectRequest.linked_request_id.is_(None),
            )
            .order_by(DataSubjectRequest.received_at, DataSubjectRequest.id)
            .limit(1)
        )
        if exclude is not None:
            query = query.where(DataSubjectRequest.id != exclude)
        return self.session.scalars(query).first()

    def delete_unverified(self, request_id: str) -> None:
        """Delete a request that never got past verification, with its history and codes."""
        from personvern.store.models import VerificationChallenge

        request = self.get(request_id)
        if request.verified_at is not None:
            raise ValueError("a verified request is never deleted this way")
        for table in (VerificationChallenge, RequestEvent):
            self.session.execute(sa.delete(table).where(table.request_id == request_id))
        AuditTrail(self.session).record(
            AuditAction.REQUEST_DELETED,
            AuditActor("personvern"),
            subject_key=request.subject_key,
            detail={"request_id": request.id, "type": request.type, "reason": "never verified"},
        )
        self.session.delete(request)
        self.session.flush()

    def transition(
        self,
        request: DataSubjectRequest,
        target: RequestState,
        message: str,
        actor: str,
        *,
        at: datetime | None = None,
        rejection_reason: RejectionReason | None = None,
    ) -> DataSubjectRequest:
        """Move ``request`` to ``target`` if the lifecycle allows it, recording an event."""
        at = at or utcnow()
        before = request.state
        request.state = request.lifecycle.move_to(target)
        target = request.state
        if rejection_reason is not None:
            request.rejection_reason = RejectionReason(rejection_reason).value
        if not target.is_open:
            request.completed_at = at
            self.drop_identity_hashes(request.id)
        request.updated_at = at
        self._event(
            request,
            message,
            actor,
            at,
            action=AuditAction.REQUEST_STATE_CHANGED,
            detail={"from": before.value},
        )
        return request

    def state_and_last_event(self, request_id: str) -> tuple[RequestState, str | None]:
        """The request's state and its latest event's message, in one query."""
        last = (
            sa.select(RequestEvent.message)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        row = self.session.execute(
            sa.select(DataSubjectRequest.state, last).where(DataSubjectRequest.id == request_id)
        ).one_or_none()
        if row is None:
            raise RecordNotFoundError(
                f"no data subject request with id '{request_id}'",
                hint="check the id; `personvern request list` shows them",
            )
        return RequestState(row[0]), row[1]

    def events(self, request_id: str) -> Sequence[RequestEvent]:
        """The request's history, oldest first."""
        query = (
            sa.select(RequestEvent)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.at, RequestEvent.id)
        )
        return self.session.scalars(query).all()

    def add_event(
        self,
        request: DataSubjectRequest,
        message: str,
        actor: str,
        at: datetime | None = None,
        *,
        audit_action: AuditAction = AuditAction.REQUEST_NOTED,
        audit_detail: dict[str, Any] | None = None,
    ) -> RequestEvent:
        """Record something that happened to ``request`` without changing its state."""
        return self._event(
            request, message, actor, at or utcnow(), action=audit_action, detail=audit_detail
        )

    def save_plan(self, request: DataSubjectRequest, plan: dict[str, Any]) -> None:
        """Store the plan as last computed (replacing any earlier plan)."""
        request.plan = dict(plan)
        self.session.flush()

    def save_receipt(self, request: DataSubjectRequest, receipt: dict[str, Any]) -> None:
        """Store the receipt of what was found, sent, erased and kept."""
        request.receipt = dict(receipt)
        self.session.flush()

    def step(self, request_id: str, step: str) -> dict[str, Any] | None:
        """The recorded outcome of ``step``, or None if the step has not been done."""
        query = sa.select(RequestStep.outcome).where(
            RequestStep.request_id == request_id, RequestStep.step == step
        )
        return self.session.scalars(query).first()

    def steps_done(self, request_id: str) -> int:
        """How many steps of the request's runs are recorded as done."""
        query = sa.select(sa.func.count()).where(RequestStep.request_id == request_id)
        return int(self.session.scalar(query) or 0)

    def record_step(self, request_id: str, step: str, outcome: dict[str, Any]) -> dict[str, Any]:
        """Record that ``step`` is done; recording it again keeps the first outcome.

        Returns the outcome in force. Two workers racing on the same step meet the unique
        constraint (request_id, step): the loser's transaction fails and its retry finds
        the step done.
        """
        existing = self.step(request_id, step)
        if existing is not None:
            return existing
        self.session.add(RequestStep(request_id=request_id, step=step, outcome=dict(outcome)))
        self.session.flush()
        return dict(outcome)

    def add_task(self, request_id: str, planned: PlannedTask) -> RequestTask:
        """Record an open task; the same kind and key again returns the task already there."""
        task = self.session.scalars(
            sa.select(RequestTask).where(
                RequestTask.request_id == request_id,
                RequestTask.kind == planned.kind.value,
                RequestTask.key == planned.key,
            )
        ).first()
        if task is not None:
            return task
        task = RequestTask(
            request_id=request_id,
            kind=planned.kind.value,
            key=planned.key,
            description=planned.description,
            details=dict(planned.details),
            status=TaskStatus.OPEN.value,
            created_at=utcnow(),
        )
        self.session.add(task)
        self.session.flush()
        return task

    def tasks(self, request_id: str) -> Sequence[RequestTask]:
        """The request's tasks, in the order they were created."""
        query = (
            sa.select(RequestTask)
            .where(RequestTask.request_id == request_id)
            .order_by(RequestTask.id)
        )
        return self.session.scalars(query).all()

    def task(self, request_id: str, task_id: int) -> RequestTask:
        """Task ``task_id`` of the request, or RecordNotFoundError (also for another's task)."""
        task = self.session.scalars(
            sa.select(RequestTask).where(
                RequestTask.id == task_id, RequestTask.request_id == request_id
            )
        ).first()
        if task is None:
            raise RecordNotFoundError(
                f"request {request_id} has no task {task_id}",
                hint=f"`personvern request show {request_id}` lists its tasks",
            )
        return task

    def open_tasks(self, request_id: str) -> int:
        """How many of the request's tasks are still open."""
        query = (
            sa.select(sa.func.count())
            .select_from(RequestTask)
            .where(
                RequestTask.request_id == request_id,
                RequestTask.status == TaskStatus.OPEN.value,
            )
        )
        return int(self.session.scalar(query) or 0)

    def add_artifact(
        self,
        request_id: str,
        name: str,
        media_type: str,
        sha256: str,
        size: int,
        path: str,
        *,
        sealed: bool = False,
    ) -> RequestArtifact:
        """Record a delivered file; a file of the same name replaces the earlier record."""
        artifact = self.session.scalars(
            sa.select(RequestArtifact).where(
                RequestArtifact.request_id == request_id, RequestArtifact.name == name
            )
        ).first()
        if artifact is None:
            artifact = RequestArtifact(request_id=request_id, name=name)
            self.session.add(artifact)
        artifact.media_type = media_type
        artifact.sha256 = sha256
        artifact.size = size
        artifact.path = path
        artifact.sealed = sealed
        artifact.created_at = utcnow()
        artifact.deleted_at = None
        self.session.flush()
        return artifact

    def artifacts(self, request_id: str) -> Sequence[RequestArtifact]:
        """The files delivered for the request, by name."""
        query = (
            sa.select(RequestArtifact)
            .where(RequestArtifact.request_id == request_id)
            .order_by(RequestArtifact.name)
        )
        return self.session.scalars(query).all()

    def add_identity_hashes(self, request_id: str, hashes: Iterable[tuple[str, str]]) -> None:
        """Index an open request by the keyed hashes of its identities, as (kind, hash)."""
        rows = [
            {"request_id": request_id, "identity_kind": kind, "identity_hash": hashed}
            for kind, hashed in dict.fromkeys(hashes)
        ]
        if rows:
            self.session.execute(sa.insert(RequestIdentityHash), rows)

    def drop_identity_hashes(self, request_id: str) -> None:
        """Forget a closed request's identity hashes: it is found by identity no more."""
        self.session.execute(
            sa.delete(RequestIdentityHash).where(RequestIdentityHash.request_id == request_id)
        )

    def open_without_identity_hashes(self) -> builtins.list[DataSubjectRequest]:
        """Open requests filed before their identities were indexed (migration 0023)."""
        indexed = sa.select(RequestIdentityHash.request_id).where(
            RequestIdentityHash.request_id == DataSubjectRequest.id
        )
        query = sa.select(DataSubjectRequest).where(
            DataSubjectRequest.state.in_([s for s in RequestState if s.is_open]),
            ~indexed.exists(),
        )
        return builtins.list(self.session.scalars(query).all())

    def add_flag(
        self,
        kind: str,
        identity_kind: str,
        identity_hash: str,
        purpose: str | None,
        request_id: str | None,
    ) -> SubjectFlag:
        """Record a restriction, objection or withdrawal for a hashed identity."""
        flag = SubjectFlag(
            kind=kind,
            identity_kind=identity_kind,
            identity_hash=identity_hash,
            purpose=purpose,
            request_id=request_id,
        )
        self.session.add(flag)
        self.session.flush()
        AuditTrail(self.session).record(
            AuditAction.CONSENT_CHANGED
            if kind == "consent_withdrawal"
            else AuditAction.SUBJECT_FLAG_RECORDED,
            AuditActor("personvern"),
            subject_key=identity_hash,
            purpose=purpose,
            detail={"flag": kind, "identity_kind": identity_kind, "request_id": request_id},
        )
        return flag

    def active_flags(self, identity_kind: str, identity_hash: str) -> builtins.list[SubjectFlag]:
        """The flags in force for a hashed identity, oldest first."""
        query = (
            sa.select(SubjectFlag)
            .where(
                SubjectFlag.identity_kind == identity_kind,
                SubjectFlag.identity_hash == identity_hash,
                SubjectFlag.lifted_at.is_(None),
            )
            .order_by(SubjectFlag.created_at, SubjectFlag.id)
        )
        return builtins.list(self.session.scalars(query).all())

    def _event(
        self,
        request: DataSubjectRequest,
        message: str,
        actor: str,
        at: datetime,
        *,
        action: AuditAction = AuditAction.REQUEST_NOTED,
        detail: dict[str, Any] | None = None,
    ) -> RequestEvent:
        event = RequestEvent(
            request_id=request.id, at=at, state=request.state.value, message=message, actor=actor
        )
        self.session.add(event)
        self.session.flush()
        # Every step of a request is written here, so the audit trail gets each one in
        # the same transaction. The message stays out: it can quote a system's error.
        AuditTrail(self.session).record(
            action,
            AuditActor(actor),
            subject_key=request.subject_key,
            detail={
                "request_id": request.id,
                "type": request.type,
                "state": request.state.value,
                "event_id": event.id,
                **(detail or {}),
            },
            at=at,
        )
        return event


def delete_requests(
    connection: sa.Connection,
    ids: Sequence[str],
    *,
    keep_flags: bool,
    still: sa.ColumnElement[bool] | None = None,
) -> int:
    """Delete requests with everything they hold; the caller commits. Returns how many went.

    Only those of ``ids`` still meeting ``still`` go (a request changed since it was
    chosen stays). Their history, steps, tasks, answer files' rows, download links and
    verification codes go with them; the flags they raised go too, or with
    ``keep_flags`` stay (without the request): a restriction in force is the person's.
    Requests linked to one of them keep standing on their own.
    """
    from personvern.store.models import DownloadLink, VerificationChallenge

    requests = cast(sa.Table, DataSubjectRequest.__table__)
    deleted = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        if still is not None:
            chunk = list(
                connection.execute(
                    sa.select(requests.c.id).where(requests.c.id.in_(chunk), still)
                ).scalars()
            )
        if not chunk:
            continue
        connection.execute(
            sa.update(requests)
            .where(requests.c.linked_request_id.in_(chunk))
            .values(linked_request_id=None)
        )
        flags = cast(sa.Table, SubjectFlag.__table__)
        if keep_flags:
            connection.execute(
                sa.update(flags).where(flags.c.request_id.in_(chunk)).values(request_id=None)
            )
        else:
            connection.execute(sa.delete(flags).where(flags.c.request_id.in_(chunk)))
        for model in (
            VerificationChallenge,
            RequestEvent,
            RequestStep,
            RequestTask,
            RequestArtifact,
            DownloadLink,
        ):
            table = cast(sa.Table, model.__table__)
            connection.execute(sa.delete(table).where(table.c.request_id.in_(chunk)))
        deleted += connection.execute(sa.delete(requests).where(requests.c.id.in_(chunk))).rowcount
    return deleted
