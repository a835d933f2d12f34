"""`personvern retention run | runs | hold | report`: enforce retention, show the evidence.

A dry run counts, per rule and table, what is due, what is held and why, and the
oldest due record; a real run deletes or anonymises in batches with a progress bar and
records each table's outcome as evidence (store and audit trail). A rule that would
remove more than PERSONVERN_RETENTION_MAX_SHARE of its table stops (exit 1) unless
--confirm.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from personvern.cli.output import EXIT_PROBLEMS, DatamapOption, console, errors, fail, safe_text

if TYPE_CHECKING:
    from personvern.bootstrap import Application
    from personvern.engine.retention.sweep import RetentionRun, RetentionSweep
    from personvern.engine.retention.table_sweep import TablePlan

retention_app = typer.Typer(
    help="Retention rules enforced in the company's stores: sweeps and holds.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add `retention` to ``app``."""
    app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(
    system: str | None = typer.Option(
        None, "--system", help="sweep this system only (personvern: its own records)"
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="count what is due and held, change nothing"
    ),
    confirm: bool = typer.Option(
        False,
        "--confirm",
        help="sweep rules that would remove more than PERSONVERN_RETENTION_MAX_SHARE "
        "of their table",
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Delete or anonymise what the retention rules say is due (or count it with --dry-run)."""
    from personvern.cli.application import command_application

    application = command_application(datamap)
    sweep = application.retention_sweep()
    if dry_run:
        plan = sweep.plan(system)
        for table in plan.tables:
            _print_plan(table, sweep.max_share)
        for unswept in plan.unswept:
            console.print(f"{unswept.key}: not swept: {unswept.reason}", markup=False)
        for failed in plan.failed:
            errors.print(f"{failed.rule}: {safe_text(failed.message)}", markup=False)
        if plan.failed:
            raise typer.Exit(EXIT_PROBLEMS)
        return
    run = _run(application, system, confirm=confirm)
    for outcome in run.outcomes:
        progress = outcome.progress
        if outcome.status.value == "completed" and progress is not None and outcome.plan:
            console.print(
                f"{outcome.rule}: {outcome.target}: {progress.deleted:,} deleted, "
                f"{progress.anonymised:,} anonymised, {outcome.plan.held:,} held",
                markup=False,
            )
        else:
            errors.print(
                f"{outcome.rule}: {outcome.target}: {outcome.status.value}: "
                f"{safe_text(outcome.message)}",
                markup=False,
            )
    console.print(f"run {run.run_id}: evidence kept in the store and audit trail", markup=False)
    if run.stopped:
        fail(
            f"{len(run.stopped)} rule(s) stopped by the safety stop; check them, then run "
            "again with --confirm",
            code=EXIT_PROBLEMS,
        )
    if run.failed:
        raise typer.Exit(EXIT_PROBLEMS)


@retention_app.command("runs")
def retention_runs(
    status: str | None = typer.Option(
        None, "--status", help="only runs with this status: queued, running, done, failed, refused"
    ),
    limit: int = typer.Option(20, "--limit", min=1, max=500, help="at most this many"),
) -> None:
    """List retention runs, newest first, with why each failed or was refused."""
    from personvern.cli.application import store_unit_of_work
    from personvern.domain.retention.run_status import RunStatus
    from personvern.store.retention_runs import RetentionRecords

    statuses = [s.value for s in RunStatus]
    if status is not None and status not in statuses:
        fail(f"--status {safe_text(status)!r} is not one of {', '.join(statuses)}")
    with store_unit_of_work() as uow:
        jobs = RetentionRecords(uow.session).jobs(status, limit)
        for job in jobs:
            console.print(
                f"{job.requested_at:%Y-%m-%d %H:%M} {job.status:<8} {job.system or 'all'} "
                f"run {job.run_id} by {safe_text(job.requested_by)}",
                markup=False,
            )
            if job.message:
                console.print(f"    {safe_text(job.message)}", markup=False, soft_wrap=True)
    if not jobs:
        console.print("no retention runs" + (f" {status}" if status else ""), markup=False)


@retention_app.command("hold")
def retention_hold(
    dataset: str = typer.Argument(..., help="the record's system.dataset"),
    key: str = typer.Argument(..., help="the record's key"),
    reason: str = typer.Option(..., "--reason", help="why it is kept (a claim, a dispute)"),
    until: str | None = typer.Option(
        None, "--until", help="last day kept (YYYY-MM-DD); omitted, until lifted"
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Keep one record past its retention period (a legal claim, a dispute)."""
    from personvern.cli.application import command_application
    from personvern.cli.output import cli_actor
    from personvern.domain.audit.event import AuditAction, AuditActor
    from personvern.domain.retention.holds import SubjectHold
    from personvern.store.audit_events import AuditTrail
    from personvern.store.retention_runs import RetentionRecords

    expires: date | None = None
    if until is not None:
        try:
            expires = date.fromisoformat(until)
        except ValueError:
            fail(f"--until {safe_text(until)!r} is no date; write YYYY-MM-DD")
    reason = reason.strip()
    if not reason or len(reason) > 500:
        fail("--reason must say why, in at most 500 characters")
    application = command_application(datamap)
    known = {f"{s.key}.{d.name}" for s in application.datamap.require().systems for d in s.datasets}
    if dataset not in known:
        fail(f"{safe_text(dataset)} is no dataset of the data map; write system.dataset")
    if not key.strip() or len(key) > 200:
        fail("the record's key must be 1 to 200 characters")
    actor = cli_actor()
    hold = SubjectHold(dataset, key.strip(), reason, actor, expires)
    now = datetime.now(UTC)
    with application.unit_of_work() as uow:
        RetentionRecords(uow.session).place_hold(hold, at=now)
        AuditTrail(uow.session).record(
            AuditAction.RETENTION_HOLD_PLACED,
            AuditActor(actor, via="cli"),
            detail={"table": dataset, "key": hold.record_key, "until": until or "lifted"},
            at=now,
        )
    console.print(
        f"{dataset} {key}: held {'until ' + until if until else 'until lifted'}", markup=False
    )


@retention_app.command("holds")
def retention_holds() -> None:
    """List the holds staff placed that are in force today."""
    from personvern.cli.application import store_unit_of_work
    from personvern.store.retention_runs import RetentionRecords

    with store_unit_of_work() as uow:
        rows = RetentionRecords(uow.session).hold_rows(datetime.now(UTC).date())
        for row in rows:
            until = row.expires_on.isoformat() if row.expires_on else "lifted"
            console.print(
                f"{row.id}: {row.dataset} {safe_text(row.record_key)} until {until}: "
                f"{safe_text(row.reason)} ({safe_text(row.placed_by)})",
                markup=False,
            )
    if not rows:
        console.print("no holds in force", markup=False)


@retention_app.command("lift")
def retention_lift(
    hold_id: int = typer.Argument(..., help="the hold's number (see `retention holds`)"),
) -> None:
    """Lift a hold: the record's retention rule applies again from the next run."""
    from personvern.cli.application import store_unit_of_work
    from personvern.cli.output import cli_actor
    from personvern.domain.audit.event import AuditAction, AuditActor
    from personvern.store.audit_events import AuditTrail
    from personvern.store.retention_runs import RetentionRecords

    now = datetime.now(UTC)
    with store_unit_of_work() as uow:
        row = RetentionRecords(uow.session).lift_hold(hold_id, at=now)
        if row is not None:
            AuditTrail(uow.session).record(
                AuditAction.RETENTION_HOLD_LIFTED,
                AuditActor(cli_actor(), via="cli"),
                detail={"table": row.dataset, "key": row.record_key, "hold": hold_id},
                at=now,
            )
    if row is None:
        fail(f"no hold {hold_id} is in force; `personvern retention holds` lists them")
    console.print(f"hold {hold_id} lifted", markup=False)


@retention_app.command("report")
def retention_report(
    since: str | None = typer.Option(
        None, "--since", help="first day of the period (YYYY-MM-DD); default: a year ago"
    ),
    until: str | None = typer.Option(
        None, "--until", help="last day of the period (YYYY-MM-DD); default: today"
    ),
    fmt: str = typer.Option("text", "--format", help="text, html (for the DPO) or csv (auditors)"),
    lang: str = typer.Option("en", "--lang", help="language of the HTML report: en or nb"),
    output: Path | None = typer.Option(None, "--output", help="write the report to this file"),
    datamap: Path | None = DatamapOption,
) -> None:
    """What retention destroyed over a period, and what comes due in the next 30 and 90 days."""
    from personvern.cli.application import command_application
    from personvern.engine.retention.report import (
        REPORT_FORMATS,
        REPORT_LANGUAGES,
        build_report,
        period_bounds,
        render_report,
    )
    from personvern.store.retention_runs import RetentionRecords

    if fmt not in REPORT_FORMATS:
        fail(f"--format {safe_text(fmt)!r} is not one of {', '.join(REPORT_FORMATS)}")
    if lang not in REPORT_LANGUAGES:
        fail(f"--lang {safe_text(lang)!r} is not one of {', '.join(REPORT_LANGUAGES)}")
    now = datetime.now(UTC)
    last = _day_option("--until", until) or now.date()
    first = _day_option("--since", since) or last - timedelta(days=364)
    if first > last:
        fail(f"--since {first.isoformat()} is after --until {last.isoformat()}")
    application = command_application(datamap)
    start, end = period_bounds(first, last)
    with application.unit_of_work() as uow:
        totals = RetentionRecords(uow.session).totals(start, end)
    report = build_report(
        totals, lambda at: _sweep(application, at), since=first, until=last, now=now
    )
    text = render_report(report, fmt, lang, application.datamap.require().organization.name)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}", code=EXIT_PROBLEMS)
    console.print(f"retention report written to {output}", markup=False)


def _day_option(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name} {safe_text(value)!r} is no date; write YYYY-MM-DD")


def _sweep(application: Application, now: datetime | None = None) -> RetentionSweep:
    return application.retention_sweep(now)


def _run(application: Application, system: str | None, *, confirm: bool) -> RetentionRun:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from personvern.cli.output import cli_actor
    from personvern.domain.audit.event import AuditActor
    from personvern.domain.retention.run_status import RunInProgressError
    from personvern.engine.retention.table_sweep import TableProgress

    runs = application.retention_runs()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=False,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def on_table(plan: TablePlan) -> None:
            tasks[plan.rule] = bars.add_task(f"{plan.rule} ({plan.target})", total=plan.due)

        def on_batch(progress: TableProgress) -> None:
            bars.update(tasks[progress.rule], completed=progress.done)

        try:
            run = runs.run_now(
                system,
                AuditActor(cli_actor(), via="cli"),
                confirm=confirm,
                on_batch=on_batch,
                on_table=on_table,
            )
        except RunInProgressError as exc:
            fail(str(exc), code=EXIT_PROBLEMS)
    if run is None:  # pragma: no cover - a run started here is executed here
        fail("the run was taken over by another process", code=EXIT_PROBLEMS)
    return run


def _print_plan(table: TablePlan, max_share: float) -> None:
    from personvern.engine.retention.file_sweep import FilePlan
    from personvern.engine.retention.webhook_sweep import WebhookPlan

    oldest = table.oldest_due.isoformat() if table.oldest_due else "-"
    unit = "files" if isinstance(table, FilePlan) else "rows"
    if isinstance(table, WebhookPlan):
        unit = "records"
    console.print(
        f"{table.rule}: {table.target}: {table.due:,} of {table.total:,} {unit} due to "
        f"{table.action.value} ({table.share:.0%}), {table.held:,} held, oldest due {oldest}",
        markup=False,
    )
    if isinstance(table, FilePlan):
        for count, why in (
            (table.undated, f"have no readable {table.trigger}: never due"),
            (table.refused, "are links or keys of several owners: never touched"),
        ):
            if count:
                console.print(f"    {count:,} {safe_text(why)}", markup=False)
    for count, why in (
        (table.held_by_law, f"by law ({table.statutory})"),
        (table.held_by_staff, "by staff (`personvern retention hold`)"),
        (
            table.held_by_reference,
            "as rows of " + ", ".join(table.referenced_by) + " refer to them",
        ),
    ):
        if count:
            console.print(f"    {count:,} held {safe_text(why)}", markup=False)
    if table.needs_confirmation(max_share):
        console.print(
            f"    more than {max_share:.0%} of the table: a real run needs --confirm",
            markup=False,
        )
