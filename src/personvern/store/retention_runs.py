"""Evidence of retention sweeps and the holds staff place on single records.

Each row of ``retention_runs`` is one rule on one table in one run: what it deleted or
anonymised, what it held back, the first and last key it touched, when and by whom.
Keys are the company's record keys (numbers, codes); they identify a record only
together with the company's own store, which is where the evidence must be read.
``retention_jobs`` keeps one row per run as a whole: who asked, its status, and the
table it is sweeping now with how far it got (the API shows progress from it).
``retention_holds`` keeps the holds staff place (a legal claim, a dispute) until they
expire or are lifted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from personvern.domain.retention.catch_up import PastRun
from personvern.domain.retention.holds import SubjectHold
from personvern.store.base import Base, UTCDateTime


class RetentionRunRow(Base):
    """One rule swept over one table in one run (a dry run leaves no row)."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Shared by every table of the same run.
    run_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    rule: Mapped[str] = mapped_column(sa.String(120))
    system: Mapped[str] = mapped_column(sa.String(120))
    dataset: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(16))
    #: completed, refused (safety stop), interrupted or failed.
    status: Mapped[str] = mapped_column(sa.String(16))
    deleted: Mapped[int] = mapped_column(sa.Integer())
    anonymised: Mapped[int] = mapped_column(sa.Integer())
    held: Mapped[int] = mapped_column(sa.Integer())
    first_key: Mapped[str | None] = mapped_column(sa.String(200))
    last_key: Mapped[str | None] = mapped_column(sa.String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Who or what started the run, as the audit trail names actors (``cli:kari``).
    started_by: Mapped[str] = mapped_column(sa.String(200))
    #: Why it did not complete, in words that carry no personal value.
    message: Mapped[str | None] = mapped_column(sa.String(500))


class RetentionJobRow(Base):
    """One run as a whole: asked for, running, and how it ended."""

    __tablename__ = "retention_jobs"

    run_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    #: The system swept; None: every system with rules.
    system: Mapped[str | None] = mapped_column(sa.String(120))
    #: The rule keys swept, comma-separated; None: every rule of the system(s).
    rules: Mapped[str | None] = mapped_column(sa.String(2000))
    confirm: Mapped[bool] = mapped_column(sa.Boolean())
    #: queued, running, done, failed or refused (personvern.domain.retention.run_status).
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    requested_by: Mapped[str] = mapped_column(sa.String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it failed or was refused, in words that carry no personal value.
    message: Mapped[str | None] = mapped_column(sa.String(500))
    #: The table being swept now, and how far: rows done of rows due.
    current_rule: Mapped[str | None] = mapped_column(sa.String(120))
    current_table: Mapped[str | None] = mapped_column(sa.String(250))
    current_done: Mapped[int | None] = mapped_column(sa.Integer())
    current_due: Mapped[int | None] = mapped_column(sa.Integer())


class RetentionHoldRow(Base):
    """A hold staff placed on one record, kept until it expires or is lifted."""

    __tablename__ = "retention_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "system.dataset" of the record.
    dataset: Mapped[str] = mapped_column(sa.String(250), index=True)
    record_key: Mapped[str] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.String(500))
    placed_by: Mapped[str] = mapped_column(sa.String(200))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_on: Mapped[date | None] = mapped_column(sa.Date())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class RetentionTotals:
    """What one rule did to one table over a period, summed over its runs."""

    rule: str
    system: str
    dataset: str
    action: str
    runs: int
    deleted: int
    anonymised: int
    #: Rows held back at the rule's last run in the period.
    held: int
    #: Runs that failed or were interrupted; runs the safety stop refused.
    failures: int
    refused: int
    first_run: datetime
    last_run: datetime


class RetentionRecords:
    """Reads and writes retention evidence and holds within the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_run(self, row: RetentionRunRow) -> RetentionRunRow:
        """Keep the evidence of one rule on one table (flushed)."""
        self.session.add(row)
        self.session.flush()
        return row

    def runs(self, run_id: str | None = None) -> Sequence[RetentionRunRow]:
        """Evidence rows, oldest first: of one run, or all."""
        query = sa.select(RetentionRunRow).order_by(RetentionRunRow.id)
        if run_id is not None:
            query = query.where(RetentionRunRow.run_id == run_id)
        return self.session.scalars(query).all()

    def runs_of(self, run_ids: Sequence[str]) -> dict[str, list[RetentionRunRow]]:
        """Evidence rows of several runs in one query, oldest first, by run id."""
        found: dict[str, list[RetentionRunRow]] = {run_id: [] for run_id in run_ids}
        if not run_ids:
            return found
        query = (
            sa.select(RetentionRunRow)
            .where(RetentionRunRow.run_id.in_(run_ids))
            .order_by(RetentionRunRow.id)
        )
        for row in self.session.scalars(query):
            found[row.run_id].append(row)
        return found

    def totals(self, since: datetime, until: datetime) -> list[RetentionTotals]:
        """Per rule and table, the runs that finished in [since, until), summed in the database."""
        r = RetentionRunRow
        window = sa.and_(r.finished_at >= since, r.finished_at < until)
        failed = sa.case((r.status.in_(("failed", "interrupted")), 1), else_=0)
        refused = sa.case((r.status == "refused", 1), else_=0)
        grouped = self.session.execute(
            sa.select(
                r.rule,
                r.system,
                r.dataset,
                sa.func.max(r.action),
                sa.func.count(sa.distinct(r.run_id)),
                sa.func.coalesce(sa.func.sum(r.deleted), 0),
                sa.func.coalesce(sa.func.sum(r.anonymised), 0),
                sa.func.coalesce(sa.func.sum(failed), 0),
                sa.func.coalesce(sa.func.sum(refused), 0),
                sa.func.min(r.started_at),
                sa.func.max(r.finished_at),
                sa.func.max(r.id),
            )
            .where(window)
            .group_by(r.rule, r.system, r.dataset)
            .order_by(r.system, r.dataset, r.rule)
        ).all()
        last_ids = [int(row[11]) for row in grouped]
        held = (
            dict(
                # Rows are tuples (Result.tuples() is deprecated since SQLAlchemy 2.1).
                self.session.execute(sa.select(r.id, r.held).where(r.id.in_(last_ids))).all()
            )
            if last_ids
            else {}
        )
        return [
            RetentionTotals(
                rule=row[0],
                system=row[1],
                dataset=row[2],
                action=row[3] or "",
                runs=int(row[4]),
                deleted=int(row[5]),
                anonymised=int(row[6]),
                held=int(held.get(int(row[11]), 0)),
                failures=int(row[7]),
                refused=int(row[8]),
                first_run=row[9],
                last_run=row[10],
            )
            for row in grouped
        ]

    def add_job(self, row: RetentionJobRow) -> RetentionJobRow:
        """Keep a new run (flushed)."""
        self.session.add(row)
        self.session.flush()
        return row

    def claim_job(self, run_id: str, now: datetime) -> bool:
        """Move a queued run to running; False if it is not queued (another took it)."""
        result = self.session.execute(
            sa.update(RetentionJobRow)
            .execution_options(synchronize_session=False)
            .where(RetentionJobRow.run_id == run_id, RetentionJobRow.status == "queued")
            .values(status="running", started_at=now)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    def fail_unstarted(self, run_id: str, now: datetime, message: str) -> bool:
        """Mark a run still queued failed with ``message``; False if it is no longer queued.

        Conditional on the row still being queued, so a worker claiming it at the same
        moment (claim_job) and this cannot both win.
        """
        result = self.session.execute(
            sa.update(RetentionJobRow)
            .execution_options(synchronize_session=False)
            .where(RetentionJobRow.run_id == run_id, RetentionJobRow.status == "queued")
            .values(status="failed", finished_at=now, message=message[:500])
        )
        return int(getattr(result, "rowcount", 0)) == 1

    def queued_before(self, cutoff: datetime, limit: int = 500) -> Sequence[RetentionJobRow]:
        """Runs still queued that were asked for before ``cutoff``, oldest first."""
        return self.session.scalars(
            sa.select(RetentionJobRow)
            .where(RetentionJobRow.status == "queued", RetentionJobRow.requested_at < cutoff)
            .order_by(RetentionJobRow.requested_at, RetentionJobRow.run_id)
            .limit(limit)
        ).all()

    def past_runs(self) -> list[PastRun]:
        """Per system and rules swept, when the latest run was asked for (catching up reads it).

        Runs that never started (failed without a start: not queued, or queued and never
        picked up) are left out: their scheduled time is still missed. Grouped in the
        database: one row per distinct scope, however many runs there were.
        """
        j = RetentionJobRow
        started = sa.or_(j.status != "failed", j.started_at.is_not(None))
        rows = self.session.execute(
            sa.select(j.system, j.rules, sa.func.max(j.requested_at))
            .where(started)
            .group_by(j.system, j.rules)
        ).all()
        return [
            PastRun(
                system=system,
                rules=frozenset(rules.split(",")) if rules is not None else None,
                requested_at=requested_at,
            )
            for system, rules, requested_at in rows
        ]

    def job(self, run_id: str) -> RetentionJobRow | None:
        """The run ``run_id``, or None."""
        return self.session.get(RetentionJobRow, run_id)

    def jobs(self, status: str | None = None, limit: int = 100) -> Sequence[RetentionJobRow]:
        """Runs, newest first, of one status or all."""
        query = sa.select(RetentionJobRow).order_by(
            RetentionJobRow.requested_at.desc(), RetentionJobRow.run_id
        )
        if status is not None:
            query = query.where(RetentionJobRow.status == status)
        return self.session.scalars(query.limit(limit)).all()

    def place_hold(self, hold: SubjectHold, *, at: datetime) -> RetentionHoldRow:
        """Keep a hold staff placed on one record (flushed)."""
        row = RetentionHoldRow(
            dataset=hold.dataset,
            record_key=hold.record_key,
            reason=hold.reason,
            placed_by=hold.placed_by,
            placed_at=at,
            expires_on=hold.expires_on,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def lift_hold(self, hold_id: int, *, at: datetime) -> RetentionHoldRow | None:
        """Lift a hold (kept, with when it was lifted); None if no such hold is in force."""
        row = self.session.get(RetentionHoldRow, hold_id)
        if row is None or row.lifted_at is not None:
            return None
        row.lifted_at = at
        self.session.flush()
        return row

    def hold_rows(self, today: date) -> Sequence[RetentionHoldRow]:
        """The holds in force on ``today``, oldest first."""
        return self.session.scalars(
            sa.select(RetentionHoldRow)
            .where(RetentionHoldRow.lifted_at.is_(None))
            .where(
                sa.or_(RetentionHoldRow.expires_on.is_(None), RetentionHoldRow.expires_on >= today)
            )
            .order_by(RetentionHoldRow.id)
        ).all()

    def holds(self, today: date) -> list[SubjectHold]:
        """Every hold not lifted and not expired on ``today``."""
        rows = self.hold_rows(today)
        return [
            SubjectHold(r.dataset, r.record_key, r.reason, r.placed_by, r.expires_on) for r in rows
        ]
