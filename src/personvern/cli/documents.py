"""`personvern notice`, `ropa` and `cookies`: one command per published document.

The commands are made from the registry (personvern.datamap.documents): each takes
``--lang``, ``--format``, ``--datamap`` and ``--out``, and writes the document to
standard output or the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import typer

from personvern.cli.output import DatamapOption, fail, write_text
from personvern.datamap.documents import DOCUMENTS, PublishedDocument
from personvern.domain.datamap import DataMap

OutOption = typer.Option(None, "--out", "-o", help="write to this file instead of standard output")


def register(app: typer.Typer) -> None:
    """Add one command per published document to ``app``."""
    for document in DOCUMENTS:
        app.command(document.name, help=document.summary)(_command(document))


def _command(document: PublishedDocument) -> Callable[..., None]:
    """The command that renders ``document``."""
    formats = ", ".join(document.formats)

    def command(
        lang: str | None = typer.Option(
            None,
            "--lang",
            "-l",
            help="language, e.g. nb or en (default: the map's first language it comes in)",
        ),
        fmt: str | None = typer.Option(
            None,
            "--format",
            "-f",
            help=f"{formats} (default: from --out's suffix, else {document.cli_format})",
        ),
        datamap: Path | None = DatamapOption,
        out: Path | None = OutOption,
    ) -> None:
        chosen = _choose_format(fmt, out, document.formats, default=document.cli_format)
        _emit(document.build(_load(datamap), lang, chosen), out)

    command.__doc__ = document.summary
    command.__name__ = document.name
    return command


def _choose_format(fmt: str | None, out: Path | None, formats: Sequence[str], default: str) -> str:
    """The explicit format, else the one ``--out`` names by its suffix, else ``default``."""
    if fmt is not None:
        if fmt not in formats:
            fail(f"unknown format '{fmt}' (use one of: {', '.join(formats)})")
        return fmt
    suffix = out.suffix.lstrip(".").lower() if out is not None else ""
    return suffix if suffix in formats else default


def _load(path: Path | None) -> DataMap:
    from personvern.datamap.loader import load_datamap, resolve_datamap_path

    return load_datamap(resolve_datamap_path(path)).datamap


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        write_text(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
