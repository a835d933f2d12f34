"""Each table's sweep kept as evidence: a row in personvern's store and an audit event.

Both are written in one transaction of the store, so the evidence and the trail never
disagree. Neither carries a personal value: the rule, the table, counts and the first
and last record key touched (the company's keys, meaningful only in its own store).
"""

from __future__ import annotations

from datetime import UTC, datetime

from personvern.domain.audit.event import AuditAction, AuditActor, AuditOutcome
from personvern.engine.retention.sweep import TableOutcome, TableStatus
from personvern.store.audit_events import AuditTrail
from personvern.store.retention_runs import RetentionRecords, RetentionRunRow
from personvern.store.unit_of_work import UnitOfWorkFactory

_OUTCOMES = {
    TableStatus.COMPLETED: AuditOutcome.SUCCESS,
    TableStatus.REFUSED: AuditOutcome.DENIED,
    TableStatus.INTERRUPTED: AuditOutcome.FAILED,
    TableStatus.FAILED: AuditOutcome.FAILED,
}


class RetentionEvidence:
    """Records sweep outcomes as ``actor`` in the store behind ``unit_of_work``."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, actor: AuditActor) -> None:
        """Evidence goes to the store; ``actor`` is who started the run."""
        self.unit_of_work = unit_of_work
        self.actor = actor

    def __call__(self, run_id: str, outcome: TableOutcome) -> None:
        """Keep one table's outcome: an evidence row and an audit event, together."""
        progress = outcome.progress
        plan = outcome.plan
        system, _, dataset = outcome.target.partition(".")
        started = progress.started_at if progress else outcome.finished_at
        row = RetentionRunRow(
            run_id=run_id,
            rule=outcome.rule,
            system=system,
            dataset=dataset,
            action=plan.action.value if plan else "",
            status=outcome.status.value,
            deleted=progress.deleted if progress else 0,
            anonymised=progress.anonymised if progress else 0,
            held=plan.held if plan else 0,
            first_key=_short(progress.first_key if progress else None),
            last_key=_short(progress.last_key if progress else None),
            started_at=started,
            finished_at=outcome.finished_at or datetime.now(UTC),
            started_by=self.actor.subject[:200],
            message=(outcome.message or "")[:500] or None,
        )
        with self.unit_of_work() as uow:
            RetentionRecords(uow.session).add_run(row)
            AuditTrail(uow.session).record(
                AuditAction.RETENTION_SWEPT,
                self.actor,
                outcome=_OUTCOMES[outcome.status],
                detail={
                    "run_id": run_id,
                    "rule": outcome.rule,
                    "table": outcome.target,
                    "status": outcome.status.value,
                    "deleted": row.deleted,
                    "anonymised": row.anonymised,
                    "held": row.held,
                    "first_key": row.first_key,
                    "last_key": row.last_key,
                },
                at=outcome.finished_at,
            )


def _short(key: str | None) -> str | None:
    return None if key is None else key[:200]
