"""`personvern check` and `personvern import-fides`: validate and import data maps."""

from __future__ import annotations

from pathlib import Path

import typer

from personvern.cli.output import EXIT_BAD_INPUT, EXIT_PROBLEMS, console, errors, fail
from personvern.datamap.errors import DataMapNotFoundError
from personvern.datamap.loader import check_datamap, resolve_datamap_path


def register(app: typer.Typer) -> None:
    """Add `check` and `import-fides` to ``app``."""
    app.command("check")(check)


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
