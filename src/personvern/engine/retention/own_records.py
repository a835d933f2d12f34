"""personvern's own records swept like the company's: counted, then deleted in batches.

Each rule of personvern.domain.retention.own_records becomes one table sweep on
personvern's own store, with the interface of a data-map rule's sweep (``plan`` and
``run``), so ``personvern retention run`` enforces both with the same safety stop,
progress, evidence and audit events, under the system name ``personvern``. As there,
everything is decided in the database: only the keys of a batch cross into Python.

What makes a record due differs per kind:

- a closed request: closed before the cutoff; it goes with its history, steps, tasks,
  answer files, links and verification codes (flags it raised stay: a restriction in
  force is the person's, not the request's);
- an unverified request: received before the cutoff and never proven; it goes with all
  it raised, as housekeeping deletes it (both use ``store.requests.delete_requests``);
- a download link: expired or revoked before the cutoff;
- a consent proof: superseded before the cutoff by a later record of the same person
  and purpose that covers at least its channels, so it can never be the state in force;
- a web event: occurred before the cutoff;
- an audit event: recorded before the cutoff, and only the chain's oldest run of them
  (never the last event): the place and hash of the last one deleted are kept, so
  ``personvern audit verify`` checks the rest from there.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from personvern.connectors.port import Pseudonymiser
from personvern.domain.audit.event import utc_iso
from personvern.domain.datamap import RetentionAction, TriggerFormat
from personvern.domain.requests.lifecycle import RequestState
from personvern.domain.retention.own_records import OWN_SYSTEM, OwnRecordRule
from personvern.domain.retention.trigger_time import boundary
from personvern.engine.retention.table_sweep import ProgressCallback, TablePlan, TableProgress
from personvern.store.audit_events import AuditChainHead, AuditEventRow, prune_oldest
from personvern.store.base import Base
from personvern.store.consent_models import ConsentRecordRow
from personvern.store.models import DataSubjectRequest, DownloadLink
from personvern.store.requests import delete_requests
from personvern.store.web_event_models import WebEventRow

#: Keys per statement: well under every database's limit on bound parameters.
_CHUNK = 900
_CLOSED = [s.value for s in RequestState if not s.is_open]
_UNVERIFIED = [RequestState.RECEIVED.value, RequestState.AWAITING_VERIFICATION.value]


@dataclass(frozen=True)
class _Kind:
    """What one rule counts and deletes, as SQL over one table of the store."""

    table: sa.Table
    key: sa.ColumnElement[Any]
    #: The rows the rule governs at all.
    scope: sa.ColumnElement[bool]
    #: The rows due (given the cutoff).
    due: sa.ColumnElement[bool]
    #: The oldest due row's trigger time.
    oldest: sa.Select[Any]


class OwnTableSweep:
    """One rule of personvern's own records on its table, in the store behind ``engine``."""

    def __init__(
        self, rule: OwnRecordRule, engine: Engine, *, today: date, home: Path | None = None
    ) -> None:
        """Sweep ``rule`` as of ``today`` (UTC); request files are removed from ``home``."""
        self.rule = rule
        self.engine = engine
        self.home = home
        self.last_due_day = rule.last_due_day(today)
        self.cutoff: datetime | None = (
            None
            if self.last_due_day is None
            else _aware(boundary(TriggerFormat.TIMESTAMP, self.last_due_day, None))
        )

    @property
    def key(self) -> str:
        """The rule's key."""
        return self.rule.key

    @property
    def target(self) -> str:
        """ "personvern.<table>"."""
        return self.rule.target

    def plan(self) -> TablePlan:
        """Count what a sweep would delete today (nothing changes)."""
        with self.engine.connect() as conn:
            kind = self._kind(conn)
            total, in_scope, due = (
                _count(conn, kind.table, predicate)
                for predicate in (sa.true(), kind.scope, kind.due)
            )
            oldest = _day(conn.execute(kind.oldest).scalar_one_or_none()) if due else None
        return TablePlan(
            rule=self.rule.key,
            system=OWN_SYSTEM,
            dataset=self.rule.table,
            action=RetentionAction.DELETE,
            total=total,
            in_scope=in_scope,
            due=due,
            held_by_law=0,
            held_by_staff=0,
            held_by_reference=0,
            oldest_due=oldest,
            last_due_day=self.last_due_day,
        )

    def run(
        self,
        progress: TableProgress,
        *,
        batch_size: int,
        pseudonymise: Pseudonymiser | None = None,
        on_batch: ProgressCallback | None = None,
    ) -> TableProgress:
        """Delete every due record in batches, each its own transaction."""
        del pseudonymise  # own records are deleted, never anonymised
        after: Any = None
        while True:
            with self.engine.begin() as conn:
                kind = self._kind(conn)
                query = sa.select(kind.key).where(kind.due).order_by(kind.key).limit(batch_size)
                if after is not None:
                    query = query.where(kind.key > after)
                keys = list(conn.execute(query).scalars())
                if not keys:
                    return progress
                deleted = self._delete(conn, kind, keys)
            after = keys[-1]
            progress.batches += 1
            progress.done += len(keys)
            progress.deleted += deleted
            if deleted:
                progress.first_key = progress.first_key or str(keys[0])
                progress.last_key = str(keys[-1])
            if on_batch is not None:
                on_batch(progress)

    # -- per kind -----------------------------------------------------------------

    def _kind(self, conn: sa.Connection) -> _Kind:
        cutoff = self.cutoff
        match self.rule.key:
            case "own-requests" | "own-unverified-requests":
                return self._requests(cutoff, unverified=self.rule.key != "own-requests")
            case "own-download-links":
                return self._links(cutoff)
            case "own-consent-proofs":
                return self._consents(cutoff)
            case "own-web-events":
                events = _table(WebEventRow)
                due = sa.false() if cutoff is None else events.c.occurred_at < cutoff
                oldest = sa.select(sa.func.min(events.c.occurred_at)).where(due)
                return _Kind(events, events.c.id, sa.true(), due, oldest)
            case "own-audit-events":
                return self._audit(conn, cutoff)
        raise ValueError(f"no sweep for personvern's own rule {self.rule.key}")

    def _requests(self, cutoff: datetime | None, *, unverified: bool) -> _Kind:
        requests = _table(DataSubjectRequest)
        if unverified:
            scope = sa.and_(requests.c.state.in_(_UNVERIFIED), requests.c.verified_at.is_(None))
            trigger: sa.ColumnElement[Any] = requests.c.received_at
        else:
            scope = requests.c.state.in_(_CLOSED)
            trigger = sa.func.coalesce(requests.c.completed_at, requests.c.updated_at)
        due = sa.false() if cutoff is None else sa.and_(scope, trigger < cutoff)
        return _Kind(
            requests, requests.c.id, scope, due, sa.select(sa.func.min(trigger)).where(due)
        )

    def _links(self, cutoff: datetime | None) -> _Kind:
        links = _table(DownloadLink)
        due = (
            sa.false()
            if cutoff is None
            else sa.or_(links.c.expires_at < cutoff, links.c.revoked_at < cutoff)
        )
        ended = sa.func.coalesce(links.c.revoked_at, links.c.expires_at)
        return _Kind(links, links.c.id, sa.true(), due, sa.select(sa.func.min(ended)).where(due))

    def _consents(self, cutoff: datetime | None) -> _Kind:
        records = _table(ConsentRecordRow)
        later = records.alias("later")
        # A later record of the same person and purpose covering at least the same
        # channels: one without a channel covers all; one with a channel covers only its
        # own (a record without a channel is superseded only by another without one).
        supersedes = sa.and_(
            later.c.identity_kind == records.c.identity_kind,
            later.c.identity_hash == records.c.identity_hash,
            later.c.purpose == records.c.purpose,
            sa.or_(later.c.channel.is_(None), later.c.channel == records.c.channel),
            sa.or_(
                later.c.at > records.c.at,
                sa.and_(later.c.at == records.c.at, later.c.id > records.c.id),
            ),
        )
        if cutoff is None:
            return _Kind(records, records.c.id, sa.true(), sa.false(), sa.select(sa.null()))
        due = sa.exists().where(supersedes, later.c.at < cutoff)
        oldest = sa.select(sa.func.min(later.c.at)).select_from(
            records.join(later, sa.and_(supersedes, later.c.at < cutoff))
        )
        return _Kind(records, records.c.id, sa.true(), due, oldest)

    def _audit(self, conn: sa.Connection, cutoff: datetime | None) -> _Kind:
        events = _table(AuditEventRow)
        if cutoff is None:
            return _Kind(events, events.c.sequence, sa.true(), sa.false(), sa.select(sa.null()))
        # Only the oldest run of due events, and never the chain's last event: the first
        # event kept is the first one recorded on or after the cutoff.
        first_kept = conn.execute(
            sa.select(sa.func.min(events.c.sequence)).where(events.c.occurred_at >= utc_iso(cutoff))
        ).scalar_one_or_none()
        head = conn.execute(
            sa.select(_table(AuditChainHead).c.sequence).where(AuditChainHead.id == 1)
        ).scalar_one_or_none()
        last = conn.execute(sa.select(sa.func.max(events.c.sequence))).scalar_one_or_none()
        bounds = [int(v) for v in (first_kept, head, last) if v is not None]
        limit = min(bounds) if bounds else 0
        due = events.c.sequence < limit
        oldest = sa.select(sa.func.min(events.c.occurred_at)).where(due)
        return _Kind(events, events.c.sequence, sa.true(), due, oldest)

    def _delete(self, conn: sa.Connection, kind: _Kind, keys: Sequence[Any]) -> int:
        match self.rule.key:
            case "own-requests" | "own-unverified-requests":
                # Files first: a run killed after this finds the rows still due and
                # deletes them next time; the files are gone either way.
                if self.home is not None:
                    home = self.home.resolve()
                    for request_id in keys:
                        for folder in (
                            home / "requests" / request_id,
                            home / "exports" / request_id,
                        ):
                            if folder.resolve().is_relative_to(home):
                                shutil.rmtree(folder, ignore_errors=True)
                return delete_requests(
                    conn, keys, keep_flags=self.rule.key == "own-requests", still=kind.due
                )
            case "own-audit-events":
                return prune_oldest(conn, int(keys[-1]))
            case "own-consent-proofs":
                # By key alone: MySQL refuses a DELETE whose condition reads the same
                # table, and a superseded record stays superseded (the ledger only grows).
                return sum(
                    conn.execute(
                        sa.delete(kind.table).where(kind.key.in_(keys[i : i + _CHUNK]))
                    ).rowcount
                    for i in range(0, len(keys), _CHUNK)
                )
        return sum(
            conn.execute(
                sa.delete(kind.table).where(kind.key.in_(keys[i : i + _CHUNK])).where(kind.due)
            ).rowcount
            for i in range(0, len(keys), _CHUNK)
        )


def own_table_sweeps(
    rules: Sequence[OwnRecordRule], engine: Engine, *, now: datetime, home: Path | None
) -> list[OwnTableSweep]:
    """A sweep for each of ``rules`` on the store behind ``engine``, as of ``now``."""
    today = now.astimezone(UTC).date()
    return [OwnTableSweep(rule, engine, today=today, home=home) for rule in rules]


def _remove_files(home: Path, request_ids: Sequence[str]) -> None:
    """A request's answer files and exports in personvern's home."""
    for request_id in request_ids:
        for folder in (home / "requests" / request_id, home / "exports" / request_id):
            # Ids are personvern's own hex, but a path is checked before it is removed.
            if folder.resolve().is_relative_to(home):
                shutil.rmtree(folder, ignore_errors=True)


def _table(model: type[Base]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _count(conn: sa.Connection, table: sa.Table, predicate: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(predicate)
    return int(conn.execute(query).scalar_one())


def _aware(value: object) -> datetime:
    if not isinstance(value, datetime):  # pragma: no cover - TIMESTAMP boundaries are
        raise TypeError("a timestamp boundary is a datetime")
    return value


def _day(value: object) -> date | None:
    """The UTC day of a stored time (a datetime, or the audit trail's ISO text)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
