"""How the CLI speaks: one clear line on error, Rich for humans, plain text when piped."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_BAD_INPUT = 2

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``personvern: error: message`` to stderr and exit with ``code``."""
    errors.print(f"personvern: error: {message}", markup=False)
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
