"""Load a data map from YAML into validated models, or report every problem with its place."""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from personvern.datamap.errors import DataMapInvalidError, DataMapNotFoundError
from personvern.datamap.source import (
    LocatedFinding,
    SourceMap,
    YamlProblemError,
    data_map_files,
    merge_documents,
    read_yaml,
)
from personvern.datamap.staged import TrimmedMap, lost_explains, lost_sections, trim
from personvern.domain.change_marker import change_marker_findings
from personvern.domain.datamap import DataMap
from personvern.domain.file_ownership import file_owner_findings
from personvern.domain.findings import DocPath, Finding
from personvern.domain.identities.stored_form import stored_normalised_findings
from personvern.domain.localized_names import label_findings
from personvern.domain.policy_lint import lint
from personvern.domain.requests.answer_profile import answer_profile_findings
from personvern.domain.requests.belongs_to import belongs_to_findings
from personvern.domain.requests.named_sender import named_sender_findings
from personvern.domain.requests.restriction import restriction_findings
from personvern.domain.retention.findings import retention_findings
from personvern.domain.taxonomy import Taxonomy, fides_taxonomy

DEFAULT_LOCATIONS = (Path("personvern.yaml"), Path("datamap"))

# Friendlier words for pattern errors on well-known keys.
_PATTERN_MESSAGES = {
    "connection_env": "connection_env must be the NAME of an environment variable "
    "(e.g. PERSONVERN_CRM_URL), never the connection string itself",
    "key": "keys may use lower-case letters, digits, '_', '-' and '.' only",
    "country": "country must be an ISO 3166-1 alpha-2 code in capitals, e.g. NO, SE, US",
    "hosting_country": "hosting_country must be an ISO 3166-1 alpha-2 code, e.g. NO",
    "name": "names of tables and fields may use letters, digits and '_' only",
    "field": "names of fields may use letters, digits and '_' only",
}


@dataclass(frozen=True)
class LoadedDataMap:
    """A valid data map with its source positions and non-fatal findings."""

    datamap: DataMap
    source: SourceMap
    root: Path
    warnings: list[LocatedFinding]


def resolve_datamap_path(explicit: Path | None, env: dict[str, str] | None = None) -> Path:
    """Where the data map is: the argument, PERSONVERN_DATAMAP, ./personvern.yaml or ./datamap/."""
    environ = os.environ if env is None else env
    if explicit is not None:
        candidates = [explicit]
    elif environ.get("PERSONVERN_DATAMAP"):
        candidates = [Path(environ["PERSONVERN_DATAMAP"])]
    else:
        candidates = list(DEFAULT_LOCATIONS)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise DataMapNotFoundError(
        f"no data map found (looked for {tried})",
        hint="pass --datamap PATH, set PERSONVERN_DATAMAP, or create ./personvern.yaml",
    )


def check_datamap(
    path: Path, *, taxonomy: Taxonomy | None = None, today: date | None = None
) -> tuple[DataMap | None, SourceMap, list[LocatedFinding]]:
    """Read and validate a data map; return the model (None if invalid) and all findings."""
    if not path.exists():
        raise DataMapNotFoundError(f"{path}: no such file or folder")
    files = data_map_files(path)
    if not files:
        raise DataMapNotFoundError(f"{path}: the folder holds no .yaml or .yml files")
    parts = []
    problems: list[LocatedFinding] = []
    unreadable: list[Path] = []
    for file in files:
        try:
            data, positions = read_yaml(file)
        except YamlProblemError as exc:
            problems.append(exc.problem)
            unreadable.append(file)
            continue
        parts.append((file, data, positions))
    merged, source, merge_problems = merge_documents(parts)
    problems += merge_problems
    errors: list[ErrorDetails] = []
    try:
        datamap: DataMap | None = DataMap.model_validate(merged)
    except ValidationError as exc:
        datamap, errors = None, exc.errors()
    invalid = bool(problems or errors)
    trimmed: TrimmedMap | None = None
    if invalid:
        # Report every error at once: the schema's, and what the later checks find in the
        # rest of the map once each error is set aside (see personvern.datamap.staged).
        lost = lost_sections(unreadable, merge_problems)
        reported = [_finding_from_error(e) for e in errors if not lost_explains(e, lost)]
        problems += [source.locate_finding(f) for f in reported]
        trimmed = trim(merged, errors, lost)
        datamap = trimmed.datamap if trimmed is not None else None
    found: list[Finding] = []
    if datamap is not None:
        found = lint(datamap, taxonomy or fides_taxonomy(), today or date.today())
        # What answers to subjects read from the map: labels, their language and controller.
        found += label_findings(datamap)
        found += answer_profile_findings(datamap)
        # How restriction requests mark records (Art. 18).
        found += restriction_findings(datamap)
        # Whom each file of a files dataset belongs to (sidecar, path or a row naming it).
        found += file_owner_findings(datamap)
        # Identity columns said to hold their canonical form only.
        found += stored_normalised_findings(datamap)
        # Free text that names its sender (a signed web form, a logged URL).
        found += named_sender_findings(datamap)
        # Persons who belong to another (a business customer's contacts).
        found += belongs_to_findings(datamap)
        # The field the mention index of free text refreshes from.
        found += change_marker_findings(datamap)
        # Retention rules a sweep enforces: their trigger, condition and fields.
        found += retention_findings(datamap)
    if trimmed is not None:
        found = trimmed.as_written(found)
    located = problems + [source.locate_finding(f) for f in found]
    valid = not invalid and not any(p.finding.is_error for p in located)
    return (datamap if valid else None), source, _in_reading_order(located, files)


def load_datamap(
    path: Path, *, taxonomy: Taxonomy | None = None, today: date | None = None
) -> LoadedDataMap:
    """Load a data map, raising :class:`DataMapInvalidError` if it has any error."""
    datamap, source, findings = check_datamap(path, taxonomy=taxonomy, today=today)
    if datamap is None:
        raise DataMapInvalidError(findings)
    return LoadedDataMap(datamap, source, path, [f for f in findings if not f.finding.is_error])


def _in_reading_order(
    findings: list[LocatedFinding], files: Sequence[Path]
) -> list[LocatedFinding]:
    """Findings by file, in the order the map is read, then line and column."""
    order = {file: index for index, file in enumerate(files)}

    def place(found: LocatedFinding) -> tuple[int, str, int, int]:
        where = found.location
        if where is None:
            return len(order) + 1, "", 0, 0
        return order.get(where.file, len(order)), str(where.file), where.line, where.column

    return sorted(findings, key=place)


def _finding_from_error(error: Any) -> Finding:
    loc: DocPath = tuple(error["loc"])
    kind = error["type"]
    last = next((part for part in reversed(loc) if isinstance(part, str)), "")
    if kind == "missing":
        return Finding(loc, f"missing required key '{last}'", hint=f"add {last}: ...")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = None
        if allowed:
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed)
        return Finding(loc, f"unknown key '{loc[-1]}'", hint=hint)
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return Finding(
            loc, f"'{error['input']}' is not allowed for {last}", hint=f"use one of {expected}"
        )
    if kind == "string_pattern_mismatch":
        message = _PATTERN_MESSAGES.get(last, f"{last} has an invalid form")
        return Finding(loc, f"{message} (got '{error['input']}')")
    value = error.get("input")
    shown = f" (got {type(value).__name__} {value!r})" if not isinstance(value, dict | list) else ""
    return Finding(loc, f"{last or 'value'}: {error['msg'].lower()}{shown}"[:400])


def _allowed_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys a model at ``loc`` accepts (best effort, for hints)."""
    model: Any = DataMap
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        info = model.model_fields.get(part)
        if info is None:
            return []
        model = _model_in(info.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        return None
    return annotation
