"""The audit trail's tables and the one way to append to it.

Events are appended in the caller's transaction, so an event exists exactly when the
action it records committed. Two writers must never link to the same predecessor: the
chain's head is one row (``audit_chain_head``) that every append locks (SELECT ... FOR
UPDATE on PostgreSQL and MariaDB; SQLite serialises writers anyway), and the sequence
number is the primary key, so a second event with the same place cannot be stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from personvern.domain.audit.chain import (
    BreakKind,
    ChainBreak,
    ChainVerdict,
    chained,
    verify_chain,
)
from personvern.domain.audit.event import (
    GENESIS_HASH,
    AuditAction,
    AuditActor,
    AuditEvent,
    AuditOutcome,
    ChainedEvent,
    utc_iso,
)
from personvern.store.base import Base

#: The head row's id: there is only one.
HEAD_ID = 1
#: The row (same table) keeping the place and hash of the last event retention deleted:
#: the chain's stored events start after it.
PRUNED_ID = 2
#: Events a listing returns at most.
MAX_PAGE = 1000


class AuditEventRow(Base):
    """One stored audit event; ``hash`` covers every other column (domain.audit.chain)."""

    __tablename__ = "audit_events"

    sequence: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    #: The canonical UTC ISO text that was hashed: a string survives every database exactly
    #: (MariaDB's DATETIME would drop the microseconds and break the hash).
    occurred_at: Mapped[str] = mapped_column(sa.String(32), index=True)
    actor_subject: Mapped[str] = mapped_column(sa.String(200))
    actor_role: Mapped[str | None] = mapped_column(sa.String(32))
    actor_via: Mapped[str | None] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    #: The subject as a keyed hash, never in clear.
    subject_key: Mapped[str | None] = mapped_column(sa.String(64))
    purpose: Mapped[str | None] = mapped_column(sa.String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    previous_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64))

    def chained(self) -> ChainedEvent:
        """The row as the chain sees it."""
        return ChainedEvent(
            sequence=self.sequence,
            event=AuditEvent(
                occurred_at=datetime.fromisoformat(self.occurred_at),
                actor=AuditActor(self.actor_subject, self.actor_role, self.actor_via),
                action=self.action,
                outcome=self.outcome,
                subject_key=self.subject_key,
                purpose=self.purpose,
                detail=dict(self.detail or {}),
            ),
            previous_hash=self.previous_hash,
            hash=self.hash,
        )


class AuditChainHead(Base):
    """The last event's place and hash: the row every append locks."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditTrail:
    """Appends to and reads the audit trail within the caller's session and transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        action: AuditAction,
        actor: AuditActor,
        *,
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        subject_key: str | None = None,
        purpose: str | None = None,
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> ChainedEvent:
        """Append one event after the current head, in the caller's transaction."""
        event = AuditEvent(
            occurred_at=(at or datetime.now(UTC)).astimezone(UTC),
            actor=actor,
            action=AuditAction(action).value,
            outcome=AuditOutcome(outcome).value,
            subject_key=subject_key,
            purpose=purpose,
            detail=dict(detail or {}),
        )
        return self.append(event)

    def append(self, event: AuditEvent) -> ChainedEvent:
        """Link ``event`` after the head (locked until the transaction ends) and store it."""
        # Fit the columns before hashing: what is hashed must be exactly what is stored.
        event = dataclasses.replace(
            event,
            actor=AuditActor(
                event.actor.subject[:200],
                event.actor.role[:32] if event.actor.role else event.actor.role,
                event.actor.via[:32] if event.actor.via else event.actor.via,
            ),
            purpose=event.purpose[:100] if event.purpose else event.purpose,
        )
        head = self._locked_head()
        linked = chained(head.sequence, head.hash, event)
        self.session.add(
            AuditEventRow(
                sequence=linked.sequence,
                occurred_at=utc_iso(event.occurred_at),
                actor_subject=event.actor.subject,
                actor_role=event.actor.role,
                actor_via=event.actor.via,
                action=str(event.action),
                outcome=str(event.outcome),
                subject_key=event.subject_key,
                purpose=event.purpose,
                detail=event.detail,
                previous_hash=linked.previous_hash,
                hash=linked.hash,
            )
        )
        head.sequence, head.hash = linked.sequence, linked.hash
        self.session.flush()
        return linked

    def _locked_head(self) -> AuditChainHead:
        query = sa.select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
        head = self.session.scalars(query.execution_options(populate_existing=True)).first()
        if head is None:
            # Migration 0014 inserts the row; a store that lost it gets it back from the
            # last event, so appending goes on (verify still checks every link).
            last = self.last()
            head = AuditChainHead(
                id=HEAD_ID,
                sequence=last.sequence if last else 0,
                hash=last.hash if last else GENESIS_HASH,
            )
            self.session.add(head)
            self.session.flush()
        return head

    def head(self) -> tuple[int, str]:
        """The last event's sequence and hash as the head row records them (0 and zeros: none)."""
        # Columns, not the mapped row: the session must not answer from what it saw before.
        query = sa.select(AuditChainHead.sequence, AuditChainHead.hash).where(
            AuditChainHead.id == HEAD_ID
        )
        row = self.session.execute(query).first()
        return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))

    def verify(self) -> ChainVerdict:
        """Re-compute the whole chain, then check that its end is where the head row says."""
        # The head first: events appended while the chain is read only make it longer.
        head_sequence, head_hash = self.head()
        pruned_sequence, pruned_hash = self.pruned()
        verdict = verify_chain(
            self.walk(), first_sequence=pruned_sequence + 1, previous_hash=pruned_hash
        )
        if not verdict.intact:
            return verdict
        if head_sequence < verdict.head_sequence:
            # Appended while the chain was read, or written past personvern: every append
            # moves the head row in its own transaction, so the head read now shows which.
            head_sequence, head_hash = self.head()
            if head_sequence < verdict.head_sequence:
                return dataclasses.replace(
                    verdict,
                    events=head_sequence,
                    head_sequence=head_sequence,
                    head_hash=head_hash,
                    broken=ChainBreak(
                        head_sequence + 1,
                        BreakKind.INSERTED,
                        f"it lies past the chain's head row ({head_sequence}): "
                        "personvern did not append it",
                    ),
                )
            if head_sequence > verdict.head_sequence:
                return verdict
        if head_sequence > verdict.head_sequence:
            first = verdict.head_sequence + 1
            gone = f"event {first}" if first == head_sequence else f"events {first}-{head_sequence}"
            return dataclasses.replace(
                verdict,
                broken=ChainBreak(
                    first,
                    BreakKind.MISSING,
                    f"{gone} at the end are missing (the chain's head row records {head_sequence})",
                ),
            )
        if head_hash != verdict.head_hash:
            return dataclasses.replace(
                verdict,
                broken=ChainBreak(
                    head_sequence,
                    BreakKind.ALTERED,
                    "its hash differs from the one the chain's head row records",
                ),
            )
        return verdict

    def pruned(self) -> tuple[int, str]:
        """The last event retention deleted, its sequence and hash (0 and zeros: none)."""
        query = sa.select(AuditChainHead.sequence, AuditChainHead.hash).where(
            AuditChainHead.id == PRUNED_ID
        )
        row = self.session.execute(query).first()
        return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))

    def hash_at(self, sequence: int) -> str | None:
        """The stored hash of the event at ``sequence``, if there is one.

        The last event retention deleted is still known by its kept hash.
        """
        stored = self.session.scalar(
            sa.select(AuditEventRow.hash).where(AuditEventRow.sequence == sequence)
        )
        if stored is None:
            pruned_sequence, pruned_hash = self.pruned()
            if sequence == pruned_sequence:
                return pruned_hash
        return stored

    def last(self) -> AuditEventRow | None:
        """The stored event with the highest sequence, if any."""
        query = sa.select(AuditEventRow).order_by(AuditEventRow.sequence.desc()).limit(1)
        return self.session.scalars(query).first()

    def walk(self, batch: int = 1000) -> Iterator[ChainedEvent]:
        """Every stored event in sequence order, read in batches (the trail can be long)."""
        after = None
        while True:
            query = sa.select(AuditEventRow).order_by(AuditEventRow.sequence).limit(batch)
            if after is not None:
                query = query.where(AuditEventRow.sequence > after)
            rows = self.session.scalars(query).all()
            for row in rows:
                yield row.chained()
            if len(rows) < batch:
                return
            after = rows[-1].sequence
            self.session.expunge_all()

    def page(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        since: datetime | None = None,
        action: str | None = None,
    ) -> list[AuditEventRow]:
        """Events after sequence ``after``, oldest first; optionally since a time, of one action."""
        query = sa.select(AuditEventRow).where(AuditEventRow.sequence > after)
        if since is not None:
            aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
            query = query.where(AuditEventRow.occurred_at >= utc_iso(aware))
        if action is not None:
            query = query.where(AuditEventRow.action == action)
        query = query.order_by(AuditEventRow.sequence).limit(max(1, min(limit, MAX_PAGE)))
        return list(self.session.scalars(query).all())


def prune_oldest(connection: sa.Connection, through: int) -> int:
    """Delete the events up to ``through`` and keep its place and hash; the caller commits.

    Only a prefix of the chain may go, and never its last event: verification then
    starts after ``through``, linked to its hash, and needs no event before it.
    """
    events = cast(sa.Table, AuditEventRow.__table__)
    marker = cast(sa.Table, AuditChainHead.__table__)
    kept = connection.execute(
        sa.select(events.c.hash).where(events.c.sequence == through)
    ).scalar_one_or_none()
    if kept is None:
        return 0
    deleted = connection.execute(sa.delete(events).where(events.c.sequence <= through)).rowcount
    moved = connection.execute(
        sa.update(marker)
        .where(marker.c.id == PRUNED_ID, marker.c.sequence < through)
        .values(sequence=through, hash=kept)
    ).rowcount
    if not moved:
        exists = connection.execute(sa.select(marker.c.id).where(marker.c.id == PRUNED_ID)).first()
        if exists is None:
            connection.execute(sa.insert(marker).values(id=PRUNED_ID, sequence=through, hash=kept))
    return int(deleted)
