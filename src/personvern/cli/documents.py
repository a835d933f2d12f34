"""`personvern notice`, `ropa` and `cookies`: documents generated from the data map."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from personvern.cli.output import DatamapOption, fail, write_text
from personvern.domain.datamap import DataMap

OutOption = typer.Option(None, "--out", "-o", help="write to this file instead of standard output")


LangOption = typer.Option(
    None, "--lang", "-l", help="language, e.g. nb or en (default: the map's first language)"
)
TextFormatOption = typer.Option(
    None, "--format", "-f", help="html, md or txt (default: from --out's suffix, else html)"
)


def register(app: typer.Typer) -> None:
    """Add `notice`, `ropa` and `cookies` to ``app``."""
    app.command("notice")(notice)
    app.command("ropa")(ropa)
    app.command("cookies")(cookies)


def notice(
    lang: str | None = LangOption,
    fmt: str | None = TextFormatOption,
    datamap: Path | None = DatamapOption,
    out: Path | None = OutOption,
) -> None:
    """Render the customer privacy notice (GDPR Art. 13) from the data map."""
    from personvern.datamap.notice import NOTICE_FORMATS, render_notice

    chosen = _choose_format(fmt, out, NOTICE_FORMATS, default="html")
    loaded = _load(datamap)
    _emit(render_notice(loaded, loaded.organization.language_or_default(lang), chosen), out)


def ropa(
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="csv, json or html (default: from --out's suffix, else csv)"
    ),
    lang: str = typer.Option("en", "--lang", "-l", help="language of the record: en or nb"),
    datamap: Path | None = DatamapOption,
    out: Path | None = OutOption,
) -> None:
    """Render the record of processing activities (GDPR Art. 30(1)), one row per purpose."""
    from personvern.datamap.ropa import ROPA_FORMATS, render_ropa

    chosen = _choose_format(fmt, out, ROPA_FORMATS, default="csv")
    _emit(render_ropa(_load(datamap), chosen, lang), out)


def cookies(
    lang: str | None = LangOption,
    fmt: str | None = TextFormatOption,
    datamap: Path | None = DatamapOption,
    out: Path | None = OutOption,
) -> None:
    """Render the cookie declaration from the data map's web sites and apps."""
    from personvern.datamap.cookies import COOKIE_FORMATS, render_cookie_declaration

    chosen = _choose_format(fmt, out, COOKIE_FORMATS, default="html")
    loaded = _load(datamap)
    _emit(
        render_cookie_declaration(loaded, loaded.organization.language_or_default(lang), chosen),
        out,
    )


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
