"""`personvern check` and `personvern import-fides`: validate and import data maps."""

from __future__ import annotations

from pathlib import Path

import typer

from personvern.cli.output import (
    EXIT_BAD_INPUT,
    EXIT_PROBLEMS,
    console,
    errors,
    fail,
    safe_text,
    write_text,
)
from personvern.datamap.errors import DataMapError, DataMapNotFoundError
from personvern.datamap.loader import check_datamap, resolve_datamap_path
from personvern.domain.datamap import SystemKind


def register(app: typer.Typer) -> None:
    """Add `check` and `import-fides` to ``app``."""
    app.command("check")(check)
    app.command("import-fides")(import_fides)


def check(
    path: Path | None = typer.Argument(
        None, help="data map file or folder (default: $PERSONVERN_DATAMAP, ./personvern.yaml)"
    ),
    strict: bool = typer.Option(False, "--strict", help="treat warnings as errors"),
) -> None:
    """Validate the data map; print each problem as file:line:column and exit 1 if any."""
    try:
        resolved = resolve_datamap_path(path)
        datamap, source, findings = check_datamap(resolved)
    except DataMapNotFoundError as exc:
        fail(str(exc), code=EXIT_BAD_INPUT)
    for problem in findings:
        errors.print(problem.render(), markup=False)
        if problem.finding.hint:
            errors.print(f"    hint: {problem.finding.hint}", markup=False)
    n_errors = sum(1 for p in findings if p.finding.is_error)
    n_warnings = len(findings) - n_errors
    if n_errors or (strict and n_warnings):
        errors.print(f"{resolved}: {n_errors} error(s), {n_warnings} warning(s)", markup=False)
        raise SystemExit(EXIT_PROBLEMS)
    assert datamap is not None
    fields = sum(len(d.fields) for s in datamap.systems for d in s.datasets)
    console.print(
        f"{resolved}: ok ({len(source.files)} file(s), {len(datamap.systems)} systems, "
        f"{fields} fields, {len(datamap.purposes)} purposes, {n_warnings} warning(s))",
        markup=False,
    )


def import_fides(
    path: Path = typer.Argument(
        ..., help="a Fides dataset YAML file, or a folder of them read as one project"
    ),
    kind: SystemKind = typer.Option(SystemKind.POSTGRESQL, help="kind of the imported systems"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write here instead of stdout"),
) -> None:
    """Convert Fides dataset files into personvern systems (purposes left to fill in)."""
    from personvern.datamap.fides_import import import_fides_dataset

    if not path.exists():
        fail(f"{path}: no such file or folder", code=EXIT_BAD_INPUT)
    try:
        converted = import_fides_dataset(path, kind)
    except DataMapError as exc:
        fail(str(exc), code=EXIT_BAD_INPUT)
    text = converted.to_yaml()
    if out is None:
        write_text(text)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"{out}: cannot write the data map: {exc.strerror}", code=EXIT_BAD_INPUT)
        console.print(f"wrote {out}", markup=False)
    # The notes are also comments at the top of the output; on stderr they reach whoever
    # ran the import even when the YAML goes straight into a file or a pipe.
    for note in converted.notes:
        errors.print(f"note: {safe_text(note)}", markup=False)
