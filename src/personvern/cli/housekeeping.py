"""`personvern housekeeping`: delete answer files, unverified requests and old counters now."""

from __future__ import annotations

import typer

from personvern.cli.output import console


def register(app: typer.Typer) -> None:
    """Add `housekeeping` to ``app``."""
    app.command("housekeeping")(housekeeping)


def housekeeping(
    dry_run: bool = typer.Option(False, "--dry-run", help="count what would go, delete nothing"),
) -> None:
    """Delete what personvern no longer needs (the server also does this every hour).

    Answer files of requests closed PERSONVERN_ANSWER_RETENTION_DAYS ago with no working
    link, requests never verified within PERSONVERN_UNVERIFIED_RETENTION_DAYS, and
    rate-limit counters past their window.
    """
    from personvern.cli.application import store_unit_of_work
    from personvern.housekeeping import sweep
    from personvern.settings import load_settings
    from personvern.store.base import utcnow

    settings = load_settings()
    with store_unit_of_work(settings) as uow:
        report = sweep(uow.session, settings, utcnow(), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{verb} {report.summary()}", markup=False)
