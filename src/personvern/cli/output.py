"""How the CLI speaks: one clear line on error, Rich for humans, plain text when piped."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from personvern.errors import ErrorKind, PersonvernError

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_BAD_INPUT = 2

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def exit_code(error: PersonvernError) -> int:
    """The exit code for ``error``: 2 when the input was at fault, 1 for everything else."""
    caller = not error.kind.is_ours and error.kind is not ErrorKind.TOO_MANY
    return EXIT_BAD_INPUT if caller else EXIT_PROBLEMS


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``personvern: error: message`` to stderr and exit with ``code``."""
    errors.print(f"personvern: error: {safe_text(message)}", markup=False)
    raise SystemExit(code)


def write_text(text: str) -> None:
    """Write a document to stdout exactly as rendered (no Rich markup processing)."""
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")


DatamapOption = typer.Option(
    None,
    "--datamap",
    "-d",
    help="data map file or folder (default: $PERSONVERN_DATAMAP, ./personvern.yaml, ./datamap/)",
)


def safe_text(value: object) -> str:
    """``value`` as one line a terminal shows as written: control and bidi characters escaped.

    Stored text comes from subjects and connected systems; an ESC sequence in it would
    otherwise retitle or rewrite the staff member's terminal, and a bidi override would
    make a line read backwards.
    """
    text = str(value)
    if text.isprintable():
        return text
    return "".join(
        ch
        if ch.isprintable() or ch == " "
        else f"\\x{ord(ch):02x}"
        if ord(ch) < 0x100
        else f"\\u{ord(ch):04x}"
        if ord(ch) < 0x10000
        else f"\\U{ord(ch):08x}"
        for ch in text
    )


def cli_actor() -> str:
    """Who runs this command, as recorded in a request's history: ``cli:<account name>``.

    The account of the process's user id, never LOGNAME or USER: those are whatever the
    caller sets, and with them anyone could approve their own erasure "as a colleague".
    """
    import os
    import pwd

    uid = os.getuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        # No passwd entry (a container): the numeric id still tells people apart.
        user = f"uid{uid}"
    return safe_text(f"cli:{user}")[:200]


def plain(cells: Iterable[str]) -> list[Text]:
    """Table cells shown as written: never read as Rich markup.

    A value from the store such as ``[link=https://evil.example]click[/link]`` would
    otherwise become a live hyperlink in a staff member's terminal, and ``[/b]`` would
    crash the listing for everyone.
    """
    return [Text(safe_text(cell)) for cell in cells]
