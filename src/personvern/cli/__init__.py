"""The `personvern` command line. Each command group lives in its own module.

The modules are imported only when their command runs: most of them pull in
SQLAlchemy, Alembic, Pydantic models and the data map loader, and `personvern --help`
or `--version` should answer at once (under 0.3 s), not after a second of imports.
The listing takes each command's one-line help from ``COMMANDS``; a test checks that
it says what the command's own docstring says.

Exit codes: 0 success, 1 the check or run found problems, 2 bad usage or input.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from personvern.datamap.documents import DOCUMENTS
from personvern.errors import PersonvernError

HELP = "Privacy operations as code: the data map drives notices, records and requests."

#: Every top-level command: the module that registers it, and its one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": (
        "check",
        "Validate the data map; print each problem as file:line:column and exit 1 if any.",
    ),
    "audit": (
        "audit",
        "The tamper-evident audit trail: verify, anchor and list its events.",
    ),
    "db": ("store", "personvern's own database."),
    "demo": (
        "demo",
        "Seed the demo company's databases and files (once), then serve personvern on them.",
    ),
    "housekeeping": (
        "housekeeping",
        "Delete what personvern no longer needs (the server also does this every hour).",
    ),
    "index": ("mention_index", "personvern's own index of the mentions in free text."),
    "import-fides": (
        "check",
        "Convert Fides dataset files into personvern systems (purposes left to fill in).",
    ),
    "keys": ("keys", "Encryption keys: status, rotation, crypto-shredding."),
    "request": ("requests", "Data subject requests (GDPR Art. 15-22)."),
    "retention": (
        "retention",
        "Retention rules enforced in the company's stores: sweeps and holds.",
    ),
    "serve": ("serve", "Serve the API on http://HOST:PORT (docs at /api/v1/docs)."),
    "token": ("store", "Scoped API tokens for the HTTP API."),
    "user": (
        "users",
        "Local staff accounts for the staff pages (sign-in without an identity provider).",
    ),
    "worker": (
        "worker",
        "Run requests queued through PERSONVERN_BROKER_URL, in the foreground (Ctrl-C stops).",
    ),
    # One command per document the data map publishes (personvern.datamap.documents).
    **{document.name: ("documents", document.summary) for document in DOCUMENTS},
}


class LazyCommands(typer.core.TyperGroup):
    """The top-level group: lists every command, imports one only when it is used."""

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command, in alphabetical order, without importing any of them."""
        return sorted(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command, built from its module on first use."""
        if cmd_name not in COMMANDS:
            return None
        return load_command(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command listing, from COMMANDS (loading every module would defeat the point)."""
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def load_command(name: str) -> Any:
    """Import the module of command ``name`` and build its (Typer's click) command."""
    module = importlib.import_module(f"personvern.cli.{COMMANDS[name][0]}")
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @holder.callback()
    def _holder() -> None:
        """A group around the module's commands, so each can be looked up by name."""

    module.register(holder)
    group = typer.main.get_command(holder)
    command = group.get_command(typer.Context(group), name)  # type: ignore[attr-defined]
    if command is None:  # pragma: no cover - COMMANDS names a command its module lacks
        raise LookupError(f"personvern.cli.{COMMANDS[name][0]} registers no command {name!r}")
    return command


app = typer.Typer(
    cls=LazyCommands,
    name="personvern",
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: Rich's would build every command to show its help line.
    rich_markup_mode=None,
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


#: Arguments that only print (help, the version): they need neither the home's
#: environment file nor Rich's console, and answer fastest without them.
_PRINT_ONLY = frozenset({"--version", "--help"})


def main() -> None:
    """Entry point: run the CLI, turning expected errors into one line and exit code 2."""
    try:
        if not _PRINT_ONLY.issuperset(sys.argv[1:]) or not sys.argv[1:]:
            _read_home_environment()
        app(standalone_mode=True)
    except PersonvernError as exc:
        from personvern.cli.output import fail

        fail(str(exc))
    except KeyboardInterrupt:
        from personvern.cli.output import fail

        fail("interrupted", code=130)
    sys.exit(0)
