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
from personvern.domain.datamap import DataMap, SystemKind


def register(app: typer.Typer) -> None:
    """Add `check` and `import-fides` to ``app``."""
    app.command("check")(check)
    app.command("import-fides")(import_fides)


def check(
    path: Path | None = typer.Argument(
        None, help="data map file or folder (default: $PERSONVERN_DATAMAP, ./personvern.yaml)"
    ),
    strict: bool = typer.Option(False, "--strict", help="treat warnings as errors"),
    connect: bool = typer.Option(
        False,
        "--connect",
        help="also connect (read-only) to every system: missing tables and columns, "
        "indexes requests need, rows per dataset, files without an owner",
    ),
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
    if n_errors or (strict and n_warnings and not connect):
        errors.print(f"{resolved}: {n_errors} error(s), {n_warnings} warning(s)", markup=False)
        raise SystemExit(EXIT_PROBLEMS)
    assert datamap is not None
    fields = sum(len(d.fields) for s in datamap.systems for d in s.datasets)
    console.print(
        f"{resolved}: ok ({len(source.files)} file(s), {len(datamap.systems)} systems, "
        f"{fields} fields, {len(datamap.purposes)} purposes, {n_warnings} warning(s))",
        markup=False,
    )
    if connect:
        failed = _check_connected(datamap, strict=strict)
        if failed or (strict and n_warnings):
            raise SystemExit(EXIT_PROBLEMS)


def _check_connected(datamap: DataMap, *, strict: bool) -> bool:
    """Print what connecting to every system showed; whether the check fails."""
    import os

    from personvern.connectors.readiness import check_connected
    from personvern.domain.system_readiness import Level

    reports = check_connected(datamap, os.environ)
    counts = dict.fromkeys(Level, 0)
    for report in reports:
        kind = f"{report.database} database" if report.database else report.kind.value
        console.print(f"\n{report.key} ({kind}): {report.status}", markup=False)
        width = max((len(name) for name in report.rows), default=0)
        for name, rows in report.rows.items():
            unit = "records" if report.kind is SystemKind.FILES else "rows"
            console.print(f"  {name:<{width}}  {rows:>12,} {unit}", markup=False)
        for found in report.findings:
            counts[found.level] += 1
            console.print(f"  {found.level.value}: {safe_text(found.message)}", markup=False)
            for statement in found.fix:
                console.print(f"    fix: {statement}", markup=False)
            if found.hint:
                console.print(f"    hint: {safe_text(found.hint)}", markup=False)
    connected = sum(1 for report in reports if report.connected)
    console.print(
        f"\nconnected to {connected} of {len(reports)} system(s): "
        f"{counts[Level.ERROR]} error(s), {counts[Level.WARNING]} warning(s), "
        f"{counts[Level.NOTE]} note(s)",
        markup=False,
    )
    return bool(counts[Level.ERROR] or (strict and counts[Level.WARNING]))


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
