"""The `personvern` command line. Each command group lives in its own module.

Exit codes: 0 success, 1 the check or run found problems, 2 bad usage or input.
"""

from __future__ import annotations

import sys

import typer

from personvern.cli import check, demo, documents, housekeeping, requests, serve, store, worker
from personvern.cli.output import fail
from personvern.errors import PersonvernError

app = typer.Typer(
    name="personvern",
    help="Privacy operations as code: the data map drives notices, records and requests.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from personvern import __version__

        typer.echo(f"personvern {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="print the version"
    ),
) -> None:
    """Privacy operations as code: the data map drives notices, records and requests."""


def _read_home_environment() -> None:
    # Settings the demo (or an operator) wrote for this home, e.g. the data map and its
    # systems' connection variables: the command line finds them without exports.
    import os

    from personvern.data_home import apply_environment_file, home_from_environment

    apply_environment_file(home_from_environment(), os.environ)


for module in (check, documents, store, serve, demo, requests, worker, housekeeping):
    module.register(app)


def main() -> None:
    """Entry point: run the CLI, turning expected errors into one line and exit code 2."""
    try:
        _read_home_environment()
        app(standalone_mode=True)
    except PersonvernError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    sys.exit(0)
