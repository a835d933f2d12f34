"""`/staff/retention`: the latest retention runs, what comes due, and the report to download.

Failed and refused runs are listed first, then the latest runs with their counts per rule
and table (deleted, anonymised, held). What comes due is the sweep's own plan asked as of
today, in 30 and in 90 days, as `GET /api/v1/retention/upcoming` asks it: counted in each
system's database, no row read into personvern. Everything here is counts, rule names and
who started a run; never a personal value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from personvern.api.console.pages import NO_STORE, FormError, language_of, page_requires, render
from personvern.api.deps import ContextDep, DataMapDep, SettingsDep
from personvern.api.media import MEDIA_TYPES
from personvern.bootstrap import Application
from personvern.domain.retention.run_status import RunStatus
from personvern.domain.roles import Permission
from personvern.engine.retention.coming_due import ComingDue, coming_due
from personvern.engine.retention.report import (
    HORIZONS,
    build_report,
    period_bounds,
    render_report,
)
from personvern.security.principal import Principal
from personvern.store.retention_runs import RetentionJobRow, RetentionRecords, RetentionRunRow

router = APIRouter()
RetentionReader = Annotated[Principal, Depends(page_requires(Permission.RETENTION_READ))]

#: How many of the latest runs the page lists, and how many failed or refused runs on top.
LATEST_RUNS = 50
ATTENTION_RUNS = 10
#: Statuses that need someone's attention: listed above the others.
ATTENTION = (RunStatus.FAILED, RunStatus.REFUSED)
#: The longest period a report may cover from the page, in days.
MAX_REPORT_DAYS = 3660


@dataclass(frozen=True)
class RunLine:
    """One run as the page shows it: its row, its tables and their totals."""

    job: RetentionJobRow
    tables: list[RetentionRunRow]

    @property
    def deleted(self) -> int:
        """Rows deleted over all its tables."""
        return sum(t.deleted for t in self.tables)

    @property
    def anonymised(self) -> int:
        """Rows anonymised over all its tables."""
        return sum(t.anonymised for t in self.tables)

    @property
    def held(self) -> int:
        """Rows held back over all its tables."""
        return sum(t.held for t in self.tables)


@dataclass(frozen=True)
class Upcoming:
    """What comes due per rule and table, and the rules that could not be counted, and why."""

    tables: list[ComingDue]
    unswept: list[tuple[str, str]]
    failed: list[tuple[str, str]]


def latest_runs(records: RetentionRecords) -> tuple[list[RunLine], list[RunLine]]:
    """The failed and refused runs (newest first), and the latest runs of any status."""
    latest = list(records.jobs(None, LATEST_RUNS))
    attention = sorted(
        (job for status in ATTENTION for job in records.jobs(status.value, ATTENTION_RUNS)),
        key=lambda job: (job.requested_at, job.run_id),
        reverse=True,
    )[:ATTENTION_RUNS]
    # One query for every listed run's evidence, as the API's run list reads it.
    evidence = records.runs_of(list({job.run_id for job in (*latest, *attention)}))
    return (
        [RunLine(job, evidence[job.run_id]) for job in attention],
        [RunLine(job, evidence[job.run_id]) for job in latest],
    )


def upcoming(application: Application, now: datetime) -> Upcoming:
    """Per rule and table, what is due today and what comes due within each horizon."""
    plan = coming_due(application.retention_sweep, now, HORIZONS)
    # Counted lines only: a rule that could not be counted is listed with its reason.
    counted = [line for line in plan.lines if line.due_now is not None or line.due_by]
    return Upcoming(
        sorted(counted, key=lambda line: (line.target, line.rule)), plan.unswept, plan.failed
    )


@router.get("/retention", name="staff_retention")
def retention_page(
    request: Request,
    context: ContextDep,
    settings: SettingsDep,
    _datamap: DataMapDep,
    principal: RetentionReader,
) -> Response:
    """Failed runs on top, the latest runs with counts per rule, and what comes due."""
    now = datetime.now(UTC)
    application = context.application
    # Counted first: on SQLite the sweep's reads of personvern's own records would wait
    # for the lock of a unit of work left open around them.
    coming = upcoming(application, now)
    with application.unit_of_work() as uow:
        attention, latest = latest_runs(RetentionRecords(uow.session))
        return render(
            request,
            settings,
            "retention.html.j2",
            principal=principal,
            title_key="retention.title",
            attention=attention,
            latest=latest,
            upcoming=coming,
            horizons=HORIZONS,
            report_since=now.date() - timedelta(days=364),
            report_until=now.date(),
        )


@router.get("/retention/report", name="staff_retention_report")
def retention_report(
    request: Request,
    context: ContextDep,
    _datamap: DataMapDep,
    _principal: RetentionReader,
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    fmt: Annotated[str, Query(alias="format", pattern=r"^(html|csv)$")] = "html",
) -> Response:
    """The retention report for a period, as `personvern retention report` writes it."""
    now = datetime.now(UTC)
    last = until or now.date()
    first = since or last - timedelta(days=364)
    if first > last or (last - first).days > MAX_REPORT_DAYS:
        raise FormError(
            f"the period {first.isoformat()} to {last.isoformat()} cannot be reported",
            hint="give a first day on or before the last day, at most ten years apart",
        )
    application = context.application
    start, end = period_bounds(first, last)
    with application.unit_of_work() as uow:
        totals = RetentionRecords(uow.session).totals(start, end)
    report = build_report(totals, application.retention_sweep, since=first, until=last, now=now)
    lang = language_of(request).value
    text = render_report(report, fmt, lang, application.datamap.require().organization.name)
    name = f"retention-report-{first.isoformat()}-{last.isoformat()}.{fmt}"
    return Response(
        text,
        media_type=MEDIA_TYPES[fmt],
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )
