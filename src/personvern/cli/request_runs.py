"""`personvern request run` and `request export`: carry out a request and hand over its files."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.table import Table

from personvern.cli.output import EXIT_PROBLEMS, DatamapOption, console, fail
from personvern.domain.requests.lifecycle import RequestState
from personvern.domain.requests.request_plan import RequestPlan


def register(request_app: typer.Typer) -> None:
    """Add `run` and `export` to the `request` command group."""
    request_app.command("run")(request_run)
    request_app.command("export")(request_export)


def _engine(datamap: Path | None):  # type: ignore[no-untyped-def]
    from personvern.datamap.loader import load_datamap, resolve_datamap_path
    from personvern.engine.runner import RequestEngine
    from personvern.settings import load_settings
    from personvern.store.db import make_engine, make_session_factory
    from personvern.store.migrate import upgrade_to_head

    settings = load_settings()
    loaded = load_datamap(resolve_datamap_path(datamap or settings.datamap))
    engine = make_engine(settings)
    if settings.should_auto_migrate:
        upgrade_to_head(engine)
    return RequestEngine(
        settings=settings,
        datamap=loaded.datamap,
        session_factory=make_session_factory(engine),
        actor="cli",
    )


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
            part.name,
            str(part.found),
            str(len(part.export)),
            str(len(part.delete)),
            str(len(part.erase_fields) or len(part.rectify) or len(part.stop_marketing)),
            str(len(part.redact)),
            str(len(part.keep)),
            part.keep_reason or "",
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


def request_run(
    request_id: str = typer.Argument(..., help="the request's id (see `request list`)"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="show what would be done, change nothing"
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Run a verified request now (or show its plan with --dry-run)."""
    engine = _engine(datamap)
    if dry_run:
        print_plan(engine.dry_run(request_id))
        return
    outcome = engine.run(request_id)
    if outcome.plan is not None:
        print_plan(outcome.plan)
    console.print(f"{request_id}: {outcome.state.value}: {outcome.message}", markup=False)
    if outcome.state in (RequestState.WAITING_FOR_SYSTEM, RequestState.NEEDS_REVIEW):
        raise typer.Exit(EXIT_PROBLEMS)


def request_export(
    request_id: str = typer.Argument(..., help="the request's id"),
    out: Path = typer.Option(..., "--out", "-o", help="folder to write the files to"),
    datamap: Path | None = DatamapOption,
) -> None:
    """Copy the request's report, export and receipt to a folder."""
    import json

    from personvern.store.db import session_scope
    from personvern.store.requests import RequestRepository

    engine = _engine(datamap)
    with session_scope(engine.session_factory) as session:
        repo = RequestRepository(session)
        request = repo.get(request_id)
        artifacts = [(a.name, a.path, a.sha256) for a in repo.artifacts(request_id)]
        receipt = request.receipt
    if receipt is None:
        fail(f"request {request_id} has no receipt yet: run it first", code=EXIT_PROBLEMS)
    out.mkdir(parents=True, exist_ok=True)
    folder = engine.request_folder(request_id)
    for name, path, _sha in artifacts:
        shutil.copyfile(folder / path, out / name)
    (out / "receipt.json").write_text(
        json.dumps(receipt, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    console.print(f"wrote {len(artifacts) + 1} files to {out}", markup=False)
