"""Retention runs through the API: start one, follow it, list them, see what comes due.

`POST /retention/runs` starts a run as a job (in this process when embedded, on a
Celery worker with a broker) and answers 202 with its id; the system lock is taken in
the request, so a second run on a system is refused with 409 before it is accepted. A
dry run only counts, so it answers its plan at once (200). Responses carry rules,
tables, counts and the company's record keys, never a personal value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from personvern.api.context import AppContext
from personvern.api.deps import ContextDep, DataMapDep, require
from personvern.api.errors import ApiError
from personvern.domain.datamap import Key
from personvern.domain.retention.run_status import RunStatus
from personvern.domain.roles import Permission
from personvern.engine.retention.coming_due import coming_due
from personvern.engine.retention.runs import UnknownRunError
from personvern.engine.retention.sweep import RetentionPlan
from personvern.engine.retention.table_sweep import TablePlan
from personvern.errors import ErrorKind, PersonvernError
from personvern.security.principal import Principal
from personvern.store.retention_runs import RetentionJobRow, RetentionRecords, RetentionRunRow

router = APIRouter(tags=["retention"])


class UnknownSystemError(ApiError):
    """A query names a system the data map lacks."""

    kind = ErrorKind.NOT_FOUND
    title = "Unknown system"


RUNS_PATH = "/retention/runs"


class RetentionRunIn(BaseModel):
    """What to sweep: one system or all, counted only or for real."""

    model_config = ConfigDict(extra="forbid")

    system: Key | None = Field(None, description="sweep this system only; omitted: all")
    dry_run: bool = Field(False, description="count what is due and held; change nothing")
    confirm: bool = Field(
        False,
        description="sweep rules that would remove more than PERSONVERN_RETENTION_MAX_SHARE "
        "of their table (the safety stop)",
    )


class TablePlanOut(BaseModel):
    """What one rule would do to one table today."""

    rule: str
    table: str
    action: str
    total: int
    in_scope: int
    due: int
    held: int
    held_by_law: int
    held_by_staff: int
    held_by_reference: int
    oldest_due: date | None
    #: Whether a real run stops at the safety stop without ``confirm``.
    needs_confirm: bool

    @classmethod
    def of(cls, plan: TablePlan, max_share: float) -> TablePlanOut:
        """The plan as the API shows it."""
        return cls(
            rule=plan.rule,
            table=plan.target,
            action=plan.action.value,
            total=plan.total,
            in_scope=plan.in_scope,
            due=plan.due,
            held=plan.held,
            held_by_law=plan.held_by_law,
            held_by_staff=plan.held_by_staff,
            held_by_reference=plan.held_by_reference,
            oldest_due=plan.oldest_due,
            needs_confirm=plan.needs_confirmation(max_share),
        )


class RuleNote(BaseModel):
    """A rule no sweep enforces, or a table that could not be counted, and why."""

    rule: str
    reason: str


class RetentionPlanOut(BaseModel):
    """A dry run: per rule and table what a run would do; the rules it leaves, and why."""

    tables: list[TablePlanOut]
    unswept: list[RuleNote]
    failed: list[RuleNote]


class RunAccepted(BaseModel):
    """The run is queued; follow it at ``run``."""

    run_id: str
    status: str
    systems: list[str]
    job: str
    run: str


class TableOut(BaseModel):
    """One rule on one table in a run: how it ended and what it did."""

    rule: str
    table: str
    action: str
    status: str
    deleted: int
    anonymised: int
    held: int
    first_key: str | None
    last_key: str | None
    started_at: datetime
    finished_at: datetime
    message: str | None

    @classmethod
    def of(cls, row: RetentionRunRow) -> TableOut:
        """The evidence row as the API shows it."""
        return cls(
            rule=row.rule,
            table=f"{row.system}.{row.dataset}",
            action=row.action,
            status=row.status,
            deleted=row.deleted,
            anonymised=row.anonymised,
            held=row.held,
            first_key=row.first_key,
            last_key=row.last_key,
            started_at=row.started_at,
            finished_at=row.finished_at,
            message=row.message,
        )


class CurrentTable(BaseModel):
    """The table a running run is sweeping now, and how far it got."""

    rule: str
    table: str
    done: int
    due: int


class RunOut(BaseModel):
    """A run: who asked, its status, the table it sweeps now, and each table done."""

    run_id: str
    status: RunStatus
    system: str | None
    rules: list[str] | None
    confirm: bool
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    message: str | None
    current: CurrentTable | None
    deleted: int
    anonymised: int
    held: int
    tables: list[TableOut]

    @classmethod
    def of(cls, job: RetentionJobRow, tables: list[RetentionRunRow]) -> RunOut:
        """The run's row and its evidence as the API shows them."""
        current = None
        if job.current_rule is not None and job.current_table is not None:
            current = CurrentTable(
                rule=job.current_rule,
                table=job.current_table,
                done=job.current_done or 0,
                due=job.current_due or 0,
            )
        return cls(
            run_id=job.run_id,
            status=RunStatus(job.status),
            system=job.system,
            rules=job.rules.split(",") if job.rules is not None else None,
            confirm=job.confirm,
            requested_by=job.requested_by,
            requested_at=job.requested_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            message=job.message,
            current=current,
            deleted=sum(t.deleted for t in tables),
            anonymised=sum(t.anonymised for t in tables),
            held=sum(t.held for t in tables),
            tables=[TableOut.of(t) for t in tables],
        )


class UpcomingOut(BaseModel):
    """How many rows of one table come due between today and ``until``."""

    rule: str
    table: str
    action: str
    due_now: int
    due_by_then: int
    coming_due: int


class UpcomingPage(BaseModel):
    """Per rule and table, what comes due in the next ``days`` days (counted in the database)."""

    days: int
    until: date
    tables: list[UpcomingOut]
    unswept: list[RuleNote]
    failed: list[RuleNote]


def resume_queued_runs(context: AppContext) -> int:
    """Queue again the retention runs an earlier server accepted but never executed.

    Embedded only: a Celery broker keeps its queued runs. A run that finds its systems
    taken meanwhile ends refused. Returns how many were queued.
    """
    application = context.application
    if application.settings.broker_url or application.datamap.loaded is None:
        return 0
    with application.unit_of_work() as uow:
        queued = [job.run_id for job in RetentionRecords(uow.session).jobs("queued", 500)]
    for run_id in reversed(queued):
        application.jobs().submit_retention(run_id)
    return len(queued)


@router.post(
    RUNS_PATH,
    status_code=status.HTTP_202_ACCEPTED,
    response_model=None,
    responses={
        202: {"model": RunAccepted, "description": "the run is queued"},
        200: {"model": RetentionPlanOut, "description": "a dry run: the plan, nothing changed"},
        409: {"description": "another run holds one of the systems (one run per system)"},
    },
)
def start_run(
    body: RetentionRunIn,
    context: ContextDep,
    _datamap: DataMapDep,
    principal: Annotated[Principal, Depends(require(Permission.RETENTION_RUN))],
) -> JSONResponse:
    """Start a retention run as a job (202), or count what one would do (dry run, 200).

    Follow a run at `GET /retention/runs/{run_id}`. 409 while another run holds one of
    its systems; 400 for a system the data map lacks.
    """
    application = context.application
    if body.dry_run:
        sweep = application.retention_sweep()
        plan = sweep.plan(body.system)
        return JSONResponse(_plan_out(plan, sweep.max_share).model_dump(mode="json"), 200)
    runs = application.retention_runs()
    started = runs.start(body.system, requested_by=f"api:{principal.subject}", confirm=body.confirm)
    try:
        job = application.jobs().submit_retention(started.run_id)
    except PersonvernError as exc:
        # Not queued (the broker is down): the run must not hold its systems until the
        # lease runs out, nor stay "queued" for ever.
        runs.withdraw(started, f"not queued: {exc.title}")
        raise
    accepted = RunAccepted(
        run_id=started.run_id,
        status=RunStatus.QUEUED.value,
        systems=list(started.systems),
        job=job,
        run=f"/api/v1{RUNS_PATH}/{started.run_id}",
    )
    return JSONResponse(accepted.model_dump(mode="json"), status.HTTP_202_ACCEPTED)


@router.get(RUNS_PATH, dependencies=[Depends(require(Permission.RETENTION_READ))])
def list_runs(
    context: ContextDep,
    run_status: Annotated[
        RunStatus | None, Query(alias="status", description="only runs with this status")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 100,
) -> list[RunOut]:
    """Retention runs, newest first (`?status=failed` for the failed ones)."""
    with context.application.unit_of_work() as uow:
        records = RetentionRecords(uow.session)
        jobs = records.jobs(run_status.value if run_status else None, limit)
        # One query for every listed run's evidence, not one per run.
        evidence = records.runs_of([job.run_id for job in jobs])
        return [RunOut.of(job, evidence[job.run_id]) for job in jobs]


@router.get(RUNS_PATH + "/{run_id}", dependencies=[Depends(require(Permission.RETENTION_READ))])
def get_run(run_id: str, context: ContextDep) -> RunOut:
    """One run: its status, the table it sweeps now and how far, and counts per table."""
    with context.application.unit_of_work() as uow:
        records = RetentionRecords(uow.session)
        job = records.job(run_id[:36])
        if job is None:
            raise UnknownRunError(
                "no retention run has this id", hint="`GET /api/v1/retention/runs` lists them"
            )
        return RunOut.of(job, list(records.runs(job.run_id)))


@router.get(
    "/retention/upcoming",
    dependencies=[Depends(require(Permission.RETENTION_READ))],
    responses={404: {"description": "no such system in the data map"}},
)
def upcoming(
    context: ContextDep,
    datamap: DataMapDep,
    days: Annotated[int, Query(ge=1, le=366, description="look this many days ahead")] = 30,
    system: Annotated[Key | None, Query(description="this system only")] = None,
) -> UpcomingPage:
    """Per rule and table, how many rows come due in the next ``days`` days.

    Counted in each system's database as the dry run counts (holds in force today
    respected); no row is read into personvern.
    """
    if system is not None and datamap.system(system) is None:
        raise UnknownSystemError(
            f"no system '{system}' in the data map", hint="name a system key of the data map"
        )
    now = datetime.now(UTC)
    plan = coming_due(context.application.retention_sweep, now, (days,), system)
    tables = [
        UpcomingOut(
            rule=line.rule,
            table=line.target,
            action=line.action,
            due_now=line.due_now or 0,
            due_by_then=line.due_by[days],
            coming_due=line.coming[days],
        )
        for line in plan.lines
        if days in line.due_by
    ]
    return UpcomingPage(
        days=days,
        until=(now + timedelta(days=days)).date(),
        tables=tables,
        unswept=[RuleNote(rule=rule, reason=reason) for rule, reason in plan.unswept],
        failed=[RuleNote(rule=rule, reason=reason) for rule, reason in plan.failed],
    )


def _plan_out(plan: RetentionPlan, max_share: float) -> RetentionPlanOut:
    return RetentionPlanOut(
        tables=[TablePlanOut.of(t, max_share) for t in plan.tables],
        unswept=[RuleNote(rule=u.key, reason=u.reason) for u in plan.unswept],
        failed=[RuleNote(rule=f.rule, reason=f.message or "failed") for f in plan.failed],
    )
