"""Retention runs as the CLI, the API's jobs and the schedulers start them, one per system.

``start`` takes the lock of every system the run sweeps (refusing with
RunInProgressError while another run holds one) and records the run as queued;
``execute`` sweeps, renews the lease after every batch, keeps the table being swept
and its progress on the run's row, records each table's evidence, and frees the locks.
The API starts a run in the request and executes it as a job (in this process or on a
Celery worker); the job adopts the lock the request took, so a run is refused before
it is accepted, never after.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from personvern.domain.audit.event import AuditActor
from personvern.domain.retention.catch_up import PastRun
from personvern.domain.retention.own_records import OWN_SYSTEM
from personvern.domain.retention.run_status import (
    RunAlreadyStartedError,
    RunInProgressError,
    RunStatus,
    confirm_commands,
    refusal_message,
    run_status,
    unstarted_message,
)
from personvern.engine.retention.evidence import RetentionEvidence
from personvern.engine.retention.sweep import RetentionRun, RetentionSweep
from personvern.engine.retention.table_sweep import ProgressCallback, TablePlan, TableProgress
from personvern.errors import ErrorKind, PersonvernError
from personvern.store.retention_locks import RetentionLocks
from personvern.store.retention_runs import RetentionJobRow, RetentionRecords
from personvern.store.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: How long a run holds a system after its last heartbeat (PERSONVERN_RETENTION_LOCK_SECONDS).
DEFAULT_LEASE = timedelta(minutes=10)


class LockLostError(PersonvernError):
    """The run's lease ran out and another run took the system: this one stops."""

    kind = ErrorKind.CONFLICT
    title = "Retention lock lost"


class UnknownRunError(PersonvernError):
    """No retention run has this id."""

    kind = ErrorKind.NOT_FOUND
    title = "No such retention run"


@dataclass(frozen=True)
class StartedRun:
    """A run that holds its systems' locks and waits to be executed."""

    run_id: str
    systems: tuple[str, ...]


class RetentionRuns:
    """Starts and executes retention runs, one per system at a time."""

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        sweep: Callable[[], RetentionSweep],
        *,
        lease: timedelta = DEFAULT_LEASE,
        clock: Callable[[], datetime] | None = None,
        new_run_id: Callable[[], str] | None = None,
    ) -> None:
        """Runs recorded through ``unit_of_work``; ``sweep`` builds the sweep a run executes.

        ``new_run_id``: names each run (default a random UUID; at most 36 characters).
        """
        self.unit_of_work = unit_of_work
        self.sweep = sweep
        self.lease = lease
        self.clock = clock or (lambda: datetime.now(UTC))
        self.new_run_id = new_run_id or (lambda: str(uuid.uuid4()))

    def systems(
        self, sweep: RetentionSweep, system: str | None, only: Collection[str] | None
    ) -> tuple[str, ...]:
        """The systems a run of ``system`` (None: all) and rules ``only`` sweeps, sorted."""
        rules, _ = sweep.rules(system, only)
        found = {rule.system for rule in rules}
        if sweep.own_tables(system, only):
            found.add(OWN_SYSTEM)
        if system is not None:
            found.add(system)
        return tuple(sorted(found))

    def start(
        self,
        system: str | None,
        *,
        requested_by: str,
        confirm: bool = False,
        only: Collection[str] | None = None,
        started_before: datetime | None = None,
    ) -> StartedRun:
        """Lock the run's systems and record it as queued; RunInProgressError if one is held.

        ``started_before``: a scheduler's due time; refused with RunAlreadyStartedError
        when a run of the system started at or after it.
        """
        run_id = self.new_run_id()
        systems = self.systems(self.sweep(), system, only)
        self._lock(systems, run_id, requested_by, started_before=started_before)
        try:
            with self.unit_of_work() as uow:
                RetentionRecords(uow.session).add_job(
                    RetentionJobRow(
                        run_id=run_id,
                        system=system,
                        rules=",".join(sorted(only))[:2000] if only is not None else None,
                        confirm=confirm,
                        status=RunStatus.QUEUED.value,
                        requested_by=requested_by[:200],
                        requested_at=self.clock(),
                    )
                )
        except BaseException:
            self._release(systems, run_id)
            raise
        return StartedRun(run_id, systems)

    def withdraw(self, started: StartedRun, message: str) -> None:
        """Give up a started run that could not be queued: failed, its systems freed."""
        self._finish(started.run_id, RunStatus.FAILED, message)
        self._release(started.systems, started.run_id)

    def execute(
        self,
        run_id: str,
        actor: AuditActor | None = None,
        *,
        on_batch: ProgressCallback | None = None,
        on_table: Callable[[TablePlan], None] | None = None,
    ) -> RetentionRun | None:
        """Sweep run ``run_id`` (started before); None if it is not queued (done elsewhere).

        ``actor``: who the evidence names; None: whoever asked for the run, via a job.

        An interrupt or crash leaves the run failed, its locks freed and the exception
        raised on; the next run continues where it stopped.
        """
        with self.unit_of_work() as uow:
            records = RetentionRecords(uow.session)
            job = records.job(run_id)
            if job is None:
                raise UnknownRunError(f"no retention run {run_id}")
            system, confirm, requested_by = job.system, job.confirm, job.requested_by
            only = frozenset(job.rules.split(",")) if job.rules is not None else None
            # Atomic: a message delivered twice is executed once.
            if not records.claim_job(run_id, self.clock()):
                return None
        executed_as_job = actor is None
        actor = actor or AuditActor(requested_by, via="job")
        systems: tuple[str, ...] = ()
        try:
            sweep = self.sweep()
            systems = self.systems(sweep, system, only)
            try:
                # Adopts the locks start took (same run id), or takes them again if they
                # ran out meanwhile.
                self._lock(systems, run_id, requested_by)
            except RunInProgressError as exc:
                self._finish(run_id, RunStatus.REFUSED, exc.message)
                systems = ()
                raise
            heartbeat = _Heartbeat(self, run_id, systems, on_batch)
            run = sweep.run(
                system,
                confirm=confirm,
                on_batch=heartbeat,
                on_table=lambda plan: self._on_table(run_id, plan, on_table),
                record=RetentionEvidence(self.unit_of_work, actor),
                run_id=run_id,
                only=only,
            )
        except RunInProgressError:
            raise
        except BaseException as exc:
            stopped = str(exc) if isinstance(exc, PersonvernError) else type(exc).__name__
            self._finish(run_id, RunStatus.FAILED, f"stopped: {stopped}")
            self._release(systems, run_id)
            raise
        outcome = run_status(o.status.value for o in run.outcomes)
        message = next((o.message for o in run.outcomes if o.message), None)
        if outcome is RunStatus.REFUSED:
            message = refusal_message([(o.rule, o.target, o.message) for o in run.stopped])
            if executed_as_job:
                # Nobody watches a job: say it once per run, with rule keys and tables
                # only (no personal value). The command line prints it itself.
                log.warning(
                    "retention run %s (asked for by %s) refused by the safety stop on %s; "
                    "it stays refused on every run until confirmed: check the rule, then "
                    "run %s",
                    run_id,
                    requested_by,
                    ", ".join(f"{o.rule} ({o.target})" for o in run.stopped),
                    confirm_commands(o.target for o in run.stopped),
                )
        self._finish(run_id, outcome, message)
        self._release(systems, run_id)
        return run

    def past_runs(self) -> list[PastRun]:
        """What catching up missed scheduled times weighs: the latest run per scope."""
        with self.unit_of_work() as uow:
            return RetentionRecords(uow.session).past_runs()

    def fail_unstarted(self) -> list[str]:
        """Mark failed the queued runs no worker picked up before their lease ran out.

        Such a run holds no system any more (its lease, never renewed before it
        starts, has run out), and a message delivered later finds it no longer queued
        and does nothing; its row says why and what to do. Returns their ids.
        """
        now = self.clock()
        with self.unit_of_work() as uow:
            stale = [
                (job.run_id, job.requested_at, job.system)
                for job in RetentionRecords(uow.session).queued_before(now - self.lease)
            ]
        failed: list[str] = []
        for run_id, requested_at, system in stale:
            with self.unit_of_work() as uow:
                message = unstarted_message(requested_at, self.lease, system)
                if RetentionRecords(uow.session).fail_unstarted(run_id, now, message):
                    failed.append(run_id)
            if run_id in failed:
                log.warning(
                    "retention run %s queued at %s never started: marked failed",
                    run_id,
                    requested_at.isoformat(),
                )
        return failed

    def run_now(
        self,
        system: str | None,
        actor: AuditActor,
        *,
        confirm: bool = False,
        on_batch: ProgressCallback | None = None,
        on_table: Callable[[TablePlan], None] | None = None,
    ) -> RetentionRun | None:
        """Start and execute a run in this process (the CLI)."""
        started = self.start(system, requested_by=actor.subject, confirm=confirm)
        return self.execute(started.run_id, actor, on_batch=on_batch, on_table=on_table)

    def renew(self, run_id: str, systems: Collection[str]) -> None:
        """Extend the lease on ``systems``; LockLostError if another run took one."""
        now = self.clock()
        with self.unit_of_work() as uow:
            locks = RetentionLocks(uow.session)
            lost = [s for s in systems if not locks.renew(s, run_id, now=now, lease=self.lease)]
        if lost:
            raise LockLostError(
                f"the lease on system '{lost[0]}' ran out and another run took it; this run "
                "stopped after its last committed batch",
                hint="raise PERSONVERN_RETENTION_LOCK_SECONDS above the longest batch",
            )

    def _lock(
        self,
        systems: Collection[str],
        run_id: str,
        holder: str,
        *,
        started_before: datetime | None = None,
    ) -> None:
        taken: list[str] = []
        for system in sorted(systems):
            now = self.clock()
            with self.unit_of_work() as uow:
                locks = RetentionLocks(uow.session)
                before = locks.holder(system)
                previous = before.run_id if before is not None else None
                won = locks.take(
                    system,
                    run_id,
                    holder,
                    now=now,
                    lease=self.lease,
                    started_before=started_before,
                )
                if won and previous not in (None, run_id):
                    # Taken over from a run whose lease ran out: its process died.
                    _abandoned(RetentionRecords(uow.session), str(previous), now, self.lease)
                row = None if won else locks.holder(system)
                held = row is not None and row.run_id is not None
                holder_name, until = (row.holder, row.expires_at) if row else (None, None)
            if not won:
                self._release(taken, run_id)
                if started_before is not None and not (held and until and until >= now):
                    raise RunAlreadyStartedError(system)
                raise RunInProgressError(system, holder=holder_name, until=until)
            taken.append(system)

    def _release(self, systems: Collection[str], run_id: str) -> None:
        for system in systems:
            try:
                with self.unit_of_work() as uow:
                    RetentionLocks(uow.session).release(system, run_id)
            except Exception:
                # The lease frees it in any case; the run's outcome matters more.
                log.exception("the lock of system %s could not be released", system)

    def _on_table(
        self, run_id: str, plan: TablePlan, then: Callable[[TablePlan], None] | None
    ) -> None:
        self.update_job(
            run_id,
            current_rule=plan.rule,
            current_table=plan.target,
            current_done=0,
            current_due=plan.due,
        )
        if then is not None:
            then(plan)

    def update_job(self, run_id: str, **values: object) -> None:
        """Set ``values`` on the run's row (its status, the table it sweeps now)."""
        with self.unit_of_work() as uow:
            job = RetentionRecords(uow.session).job(run_id)
            if job is not None:
                for name, value in values.items():
                    setattr(job, name, value)

    def _finish(self, run_id: str, status: RunStatus, message: str | None) -> None:
        self.update_job(
            run_id,
            status=status.value,
            finished_at=self.clock(),
            message=(message or "")[:500] or None,
            current_rule=None,
            current_table=None,
            current_done=None,
            current_due=None,
        )


def _abandoned(records: RetentionRecords, run_id: str, now: datetime, lease: timedelta) -> None:
    """Mark a run whose lease ran out failed, if its row still says it is under way."""
    job = records.job(run_id)
    if job is not None and job.status == RunStatus.QUEUED.value:
        # Never picked up: say so, not that a process running it died.
        records.fail_unstarted(run_id, now, unstarted_message(job.requested_at, lease, job.system))
    elif job is not None and job.status == RunStatus.RUNNING.value:
        job.status = RunStatus.FAILED.value
        job.finished_at = now
        job.message = (
            "stopped: its lease ran out without a heartbeat (the process running it "
            "ended); the next run continued its work"
        )
        job.current_rule = job.current_table = None
        job.current_done = job.current_due = None


class _Heartbeat:
    """After each committed batch: renew the lease, keep the progress, tell the caller."""

    def __init__(
        self,
        runs: RetentionRuns,
        run_id: str,
        systems: Collection[str],
        then: ProgressCallback | None,
    ) -> None:
        self.runs = runs
        self.run_id = run_id
        self.systems = tuple(systems)
        self.then = then

    def __call__(self, progress: TableProgress) -> None:
        """Renew, record and pass on one batch's progress (LockLostError stops the run)."""
        self.runs.renew(self.run_id, self.systems)
        self.runs.update_job(self.run_id, current_done=progress.done)
        if self.then is not None:
            self.then(progress)
