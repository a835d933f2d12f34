"""`personvern request run` and `request export`: carry out a request and hand over its files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table
from rich.text import Text

from personvern.cli.output import (
    EXIT_BAD_INPUT,
    EXIT_PROBLEMS,
    DatamapOption,
    console,
    fail,
    safe_text,
)
from personvern.domain.requests.lifecycle import RUN_REQUESTED, RequestState, RequestType

if TYPE_CHECKING:
    # Only for annotations: `personvern request --help` must not load the engine's rules.
    from personvern.domain.requests.request_plan import RequestPlan


def register(request_app: typer.Typer) -> None:
    """Add `run`, `resolve`, `approve`, `send` and `export` to the `request` command group."""
    request_app.command("run")(request_run)
    request_app.command("resolve")(request_resolve)
    request_app.command("approve")(request_approve)
    request_app.command("send")(request_send)
    request_app.command("export")(request_export)


def print_plan(plan: RequestPlan) -> None:
    """The plan as a table: per dataset what was found and what happens to it."""
    table = Table(title=f"{plan.request_type.value} plan", show_lines=False)
    for column in (
        "dataset",
        "found",
        "export",
        "delete",
        "erase fields",
        "redact",
        "keep",
        "why kept",
    ):
        table.add_column(
            column, justify="right" if column not in ("dataset", "why kept") else "left"
        )
    for part in plan.datasets:
        table.add_row(
            Text(part.name),
            str(part.found),
            str(len(part.export)),
            str(len(part.delete)),
            str(
                len(part.erase_fields)
                or len(part.rectify)
                or len(part.stop_marketing)
                or (len(part.restrict) if part.restrict_field else 0)
            ),
            str(len(part.redact)),
            str(len(part.keep)),
            Text(part.keep_reason or ""),
        )
    console.print(table)
    if plan.found_nothing:
        console.print("No data about the subject was found in any connected system.")
    for system, reason in sorted(plan.unavailable.items()):
        console.print(f"not searched: {system}: {reason}", markup=False)
    if plan.conflicts:
        console.print(
            "the identities point at different people in " + ", ".join(plan.conflicts),
            markup=False,
        )
    if plan.recipients:
        console.print("recipients to notify (Art. 19): " + ", ".join(plan.recipients))
    for step in plan.manual_steps:
        console.print(f"by hand: {safe_text(step.description)}", markup=False)


def request_run(
    request_id: str = typer.Argument(..., help="the request's id (see `request list`)"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="show what would be done, change nothing"
    ),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="run a request that changes data without asking first"
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Run a verified request now (or show its plan with --dry-run).

    A request that changes data (erasure, rectification, ...) shows its plan and asks
    before it runs, unless --yes. Exits 1 when a system could not be searched: the
    answer would be incomplete.
    """
    from personvern.cli.application import command_application
    from personvern.domain.requests.request_plan import RequestPlan
    from personvern.intake.approval import check_may_run

    application = command_application(datamap)
    engine = application.request_engine()
    if dry_run:
        plan = engine.dry_run(request_id)
        print_plan(plan)
        _fail_if_incomplete(plan)
        return
    with application.unit_of_work() as uow:
        request = uow.requests.get(request_id)
        check_may_run(request, engine.settings)
        request_type = RequestType(request.type)
        approved = (
            RequestPlan.from_json(request.plan) if request.approved_at and request.plan else None
        )
    if request_type.changes_data and not yes:
        plan = approved or engine.dry_run(request_id)
        print_plan(plan)
        if not sys.stdin.isatty():
            fail(
                f"{request_type.value} {request_id} changes data: run it with --yes, "
                "or from a terminal to be asked",
                code=EXIT_BAD_INPUT,
            )
        if not typer.confirm(f"Carry out this {request_type.value} now?", default=False):
            fail("nothing was changed", code=EXIT_PROBLEMS)
    with application.unit_of_work() as uow:
        repository = uow.requests
        request = repository.get(request_id)
        request.run_requested_by = engine.actor
        repository.add_event(request, RUN_REQUESTED, engine.actor)
    outcome = engine.run_and_deliver(request_id)
    if outcome.plan is not None:
        print_plan(outcome.plan)
    console.print(
        f"{request_id}: {outcome.state.value}: {safe_text(outcome.message)}", markup=False
    )
    if outcome.state is RequestState.NEEDS_REVIEW:
        console.print(
            f"decide: `personvern request resolve {request_id} --attach RECORD "
            "--exclude RECORD --reason TEXT` (`personvern request show` lists the records)",
            markup=False,
        )
    # Open tasks (telling recipients, steps by hand) are the normal end of many runs;
    # a system that could not be searched, a wait or a review is a problem to act on.
    if outcome.state in (RequestState.WAITING_FOR_SYSTEM, RequestState.NEEDS_REVIEW) or (
        outcome.plan is not None and outcome.plan.unavailable
    ):
        raise typer.Exit(EXIT_PROBLEMS)
    if outcome.state is RequestState.PARTIALLY_COMPLETED:
        console.print(
            f"open tasks: `personvern request show {request_id}` lists them, "
            f"`personvern request done {request_id} TASK --note ...` marks one done",
            markup=False,
        )


def request_resolve(
    request_id: str = typer.Argument(..., help="the id of the request that needs review"),
    attach: list[str] = typer.Option(
        [],
        "--attach",
        help="a record that is the subject's, as SYSTEM.DATASET:KEY (repeat for each)",
    ),
    exclude: list[str] = typer.Option(
        [],
        "--exclude",
        help="a record that is not the subject's, or cannot be read, as SYSTEM.DATASET:KEY "
        "(repeat for each)",
    ),
    reason: str = typer.Option(..., "--reason", help="why: recorded with each decision"),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="run a request that changes data at once, without its plan"
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Decide every record a request stopped for review on, with a reason, and run it again.

    Each record the review names (`personvern request show ID`) is attached (it is the
    subject's) or excluded (it is not; a record that cannot be read is then left out and
    checked by hand). An access runs at once; a request that changes data runs at once
    with --yes, else `personvern request run ID` shows its new plan first.
    """
    from datetime import UTC, datetime

    from personvern.cli.application import command_application
    from personvern.intake.review import resolve_review

    application = command_application(datamap)
    engine = application.request_engine()
    with application.unit_of_work() as uow:
        resolved = resolve_review(
            uow.session,
            engine.settings,
            request_id,
            attach=attach,
            exclude=exclude,
            reason=reason,
            actor=engine.actor,
            now=datetime.now(UTC),
        )
        request_type = RequestType(uow.requests.get(request_id).type)
    for decision in resolved.decisions:
        console.print(f"{request_id}: {safe_text(decision.note)}", markup=False)
    if not resolved.may_run:
        console.print(
            f"{request_id}: review resolved; a second person approves the plan next: "
            f"`personvern request approve {request_id}`",
            markup=False,
        )
        return
    if request_type.changes_data and not yes:
        console.print(
            f"{request_id}: review resolved; `personvern request run {request_id}` shows the "
            "new plan and runs it",
            markup=False,
        )
        return
    outcome = engine.run_and_deliver(request_id)
    if outcome.plan is not None:
        print_plan(outcome.plan)
    console.print(
        f"{request_id}: {outcome.state.value}: {safe_text(outcome.message)}", markup=False
    )
    if outcome.state in (RequestState.WAITING_FOR_SYSTEM, RequestState.NEEDS_REVIEW):
        raise typer.Exit(EXIT_PROBLEMS)


def request_approve(
    request_id: str = typer.Argument(..., help="the erasure's id"),
    yes: bool = typer.Option(False, "--yes", "-y", help="approve without asking first"),
    datamap: Path | None = DatamapOption,
) -> None:
    """Approve an erasure's plan as the second person (four eyes); the run executes it.

    A plan whose identities point at different people cannot be approved: the request
    goes to review instead (`personvern request resolve`), and is approved after.
    """
    from datetime import UTC, datetime

    from personvern.cli.application import command_application
    from personvern.intake.approval import answer_of, approve

    application = command_application(datamap)
    engine = application.request_engine()
    plan, found = engine.preview(request_id)
    print_plan(plan)
    if engine.hold_for_review(request_id, plan, engine.actor):
        fail(
            f"the plan cannot be approved: the identities point at different people in "
            f"{', '.join(plan.conflicts)}; the request now needs review: "
            f"`personvern request resolve {request_id}`",
            code=EXIT_PROBLEMS,
        )
    _fail_if_incomplete(plan)
    if not yes:
        if not sys.stdin.isatty():
            fail("approve with --yes, or from a terminal to be asked", code=EXIT_BAD_INPUT)
        if not typer.confirm("Approve this plan?", default=False):
            fail("not approved", code=EXIT_PROBLEMS)
    with application.unit_of_work() as uow:
        approve(
            uow.session,
            engine.settings,
            request_id,
            plan.to_json(),
            approver=engine.actor,
            now=datetime.now(UTC),
            answer=answer_of(found),
        )
    console.print(f"{request_id}: plan approved by {engine.actor}", markup=False)


def request_send(
    request_id: str = typer.Argument(..., help="the finished request's id"),
    days: int = typer.Option(7, "--days", min=1, max=30, help="how long the links work"),
    datamap: Path | None = DatamapOption,
) -> None:
    """Mail the subject their answer: links to their files, or a letter saying what was done."""
    from datetime import UTC, datetime

    from personvern.cli.application import command_application
    from personvern.responses.handover import send_answer

    application = command_application(datamap)
    engine = application.request_engine()
    mailer = application.mailer()
    if mailer is None:
        fail(
            "e-mail is not configured (PERSONVERN_SMTP_HOST): hand the answer over with "
            "`personvern request export`",
            code=EXIT_PROBLEMS,
        )
    with application.unit_of_work() as uow:
        sent = send_answer(
            uow.session,
            engine.settings,
            engine.datamap,
            request_id,
            sender=engine.actor,
            token_id=None,
            mailer=mailer,
            now=datetime.now(UTC),
            days=days,
        )
    extra = f" with {len(sent.links)} link(s)" if sent.links else ""
    console.print(
        f'{request_id}: mailed "{safe_text(sent.subject)}" to {safe_text(sent.address)}{extra}',
        markup=False,
    )


def _fail_if_incomplete(plan: RequestPlan) -> None:
    """Exit 1, loudly, when systems of the data map could not be searched."""
    if plan.unavailable:
        fail(
            f"{len(plan.unavailable)} system(s) could not be searched, so this plan is "
            "incomplete: " + ", ".join(sorted(plan.unavailable)),
            code=EXIT_PROBLEMS,
        )


def request_export(
    request_id: str = typer.Argument(..., help="the request's id"),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="folder to write the files to (default: PERSONVERN_HOME/exports/<id>, private "
        "to you; never the current folder, which may be a checkout)",
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Copy the request's report, export and receipt to a folder (mode 0700, files 0600)."""
    import json

    from personvern.cli.application import command_application, record_cli_read
    from personvern.data_home import private_folder, write_private_file

    application = command_application(datamap)
    engine = application.request_engine()
    with application.unit_of_work() as uow:
        repo = uow.requests
        request = repo.get(request_id)
        artifacts = [(a.name, a.path) for a in repo.artifacts(request_id) if a.deleted_at is None]
        receipt = request.receipt
        if receipt is not None:
            record_cli_read(uow.session, request.id, request.subject_key, "request_export")
    if receipt is None:
        fail(f"request {request_id} has no receipt yet: run it first", code=EXIT_PROBLEMS)
    target = private_folder(out or engine.settings.home.resolve() / "exports" / request_id)
    for name, _path in artifacts:
        # Opened: the copy is for a person to hand over, the home's file is sealed.
        write_private_file(target / name, engine.read_answer(request_id, name))
    write_private_file(
        target / "receipt.json",
        (json.dumps(receipt, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"),
    )
    console.print(f"wrote {len(artifacts) + 1} files to {target}", markup=False)
