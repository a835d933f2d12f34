"""`personvern index ...`: personvern's own index of the mentions in free text.

``index build`` reads the ``free_text`` fields of every dataset that names a
``change_marker`` and keeps the keyed hashes of the mentions in them; run again, it
reads only what changed (personvern.engine.mention_index). Run it from cron as often
as suits: records changed since the last run are searched by reading their text, so
requests stay exact between runs, only slower the more has changed.

Exit codes: 0 done, 1 a dataset could not be indexed (its system unreachable or not
configured, the map and the database disagreeing), 2 bad input.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeRemainingColumn
from rich.table import Table

from personvern.cli.output import EXIT_PROBLEMS, DatamapOption, console, errors, plain

index_app = typer.Typer(
    help="personvern's own index of the mentions in free text.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `index` command group to ``app``."""
    app.add_typer(index_app, name="index")


class _Bar:
    """A build's progress as a Rich bar on stderr, one task per dataset."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._total = 0

    def started(self, where: str, records: int) -> None:
        self._total = records
        self._task = self._progress.add_task(where, total=records)

    def advanced(self, records: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, records)

    def finished(self) -> None:
        if self._task is not None:
            # Records changed while it read may make the count a little off.
            self._progress.update(self._task, total=self._total, completed=self._total)


@index_app.command("build")
def index_build(
    system: str | None = typer.Option(
        None, "--system", "-s", help="only this system of the data map (default: every one)"
    ),
    full: bool = typer.Option(
        False, "--full", help="read every record again, not only those changed since the last run"
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Build the mention index of free text, or bring it up to date with what changed."""
    from personvern.cli.application import command_application
    from personvern.engine.mention_index import MentionIndexBuilder

    application = command_application(datamap)
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        disable=not errors.is_terminal,
    )
    builder = MentionIndexBuilder(
        application.datamap.require(),
        os.environ,
        application.unit_of_work,
        application.settings.secret(),
        progress=_Bar(progress),
    )
    with progress:
        done = builder.build(system, full=full)
    if not done:
        errors.print(
            "no dataset names a change_marker: nothing to index (see docs/datamap.md, "
            '"Free text and the mention index")',
            markup=False,
        )
        return
    for item in done:
        if item.outcome in {"built", "refreshed"}:
            line = (
                f"{item.name}: {item.outcome}, {_count(item.records, 'record')} read, "
                f"{_count(item.entries, 'mention')} kept ({', '.join(item.fields)})"
            )
            if item.note:
                line += f"; {item.note}"
        else:
            line = f"{item.name}: {item.outcome}: {item.note}"
        (errors if item.outcome == "failed" else console).print(line, markup=False)
    if any(item.outcome == "failed" for item in done):
        raise typer.Exit(EXIT_PROBLEMS)


@index_app.command("status")
def index_status(datamap: Path | None = DatamapOption) -> None:
    """Show how far the mention index of each dataset has read, and whether it is used."""
    from personvern.cli.application import command_application
    from personvern.engine.mention_index import index_status as status_of

    application = command_application(datamap)
    shown = status_of(
        application.datamap.require(), application.unit_of_work, application.settings.secret()
    )
    if not shown:
        errors.print("no dataset names a change_marker: nothing is indexed", markup=False)
        return
    header = (
        "dataset",
        "status",
        "marker",
        "high-water",
        "fields",
        "mentions",
        "read",
        "refreshed",
    )
    rows = [
        (
            item.name,
            item.status,
            item.marker or "-",
            item.high_water or "-",
            ", ".join(item.fields) or "-",
            f"{item.entries:,}",
            f"{item.records_read:,}",
            item.refreshed_at.strftime("%Y-%m-%d %H:%M") if item.refreshed_at else "-",
        )
        for item in shown
    ]
    if not console.is_terminal:
        for row in (header, *rows):
            typer.echo("\t".join(row))
        return
    table = Table(*header, caption="times in UTC; a dataset not ready is searched by reading it")
    for row in rows:
        table.add_row(*plain(row))
    console.print(table)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")
