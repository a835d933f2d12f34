"""Checking a data map that has errors: set aside what is broken and check what remains.

`personvern check` reports every problem of a map in one run. The reference, taxonomy
and policy checks need a validated :class:`DataMap`, so without this one bad field name
or one file of broken YAML would hide every other finding. When the map has errors:

1. every schema error of what could be read is reported, with today's message;
2. each is *set aside*: the smallest list item holding it (a field, a dataset, a purpose,
   a recipient...) is removed. An error outside every list item (a section of the map, a
   key of ``organization`` or ``taxonomy``) removes that key, or, for a required key of
   the organization, puts a placeholder in its place. What remains is validated again,
   which may set aside more (a dataset whose only field was removed), a bounded number
   of times;
3. the later checks run on what remains, the *trimmed* map, and each finding is moved
   back from the trimmed map's list positions to the positions in the map as written;
4. findings the trimming may have caused are dropped. :class:`Gaps` records what was set
   aside, and what the files that could not be read or merged may have declared; a
   finding that something is missing (a purpose, a subject, a controller, a taxonomy key,
   a dataset or a field) is dropped when the missing thing may be among them. When the
   identity of what was set aside cannot be read (a purpose without a valid key), any
   missing thing of its kind may be it. The two warnings that rest on the content of
   many items, "no field serves this purpose" and "no retention rule covers this
   field", are withheld once any system, dataset, field or cookie, or any retention rule
   or custom category, is set aside. Unknown languages are checked as none.

Step 4 errs toward silence: a finding it hides shows once the schema errors are fixed,
and the map is invalid in the meantime anyway; a finding it wrongly kept would send
someone to fix what is not broken.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from personvern.datamap.source import MAX_FILE_BYTES, LocatedFinding
from personvern.domain.datamap import DataMap, Identifier, Key, Organization, Taxonomies
from personvern.domain.findings import DocPath, Finding, Severity

#: How often what remains is validated again before the later checks are given up.
#: Setting aside cascades at most field -> dataset and controller -> controllers.
MAX_ROUNDS = 8

#: Stand-ins for the organization's required keys when what is written cannot be used.
#: The later checks read only ``languages`` and ``controllers`` from them, and the gaps
#: then say those are unknown, so no finding rests on a placeholder.
ORGANIZATION_PLACEHOLDERS: dict[str, Any] = {
    "name": "-",
    "languages": ["en"],
    "controllers": [
        {
            "key": "placeholder",
            "name": "-",
            "organization_number": "-",
            "address": "-",
            "country": "NO",
        }
    ],
    "contact": {"name": "-"},
    "supervisory_authority": {"name": "-", "country": "NO", "url": "-"},
}

_TAXONOMY_SECTIONS = tuple(Taxonomies.model_fields)

# Where one place holds findings of several kinds, the words tell the kind that depends on
# other parts of the map (each is pinned by a test of a map with one error).
_UNUSED = "no field, file or cookie serves it"  # policy_lint._field_rules, at ("purposes", i)
_NO_RETENTION = "has no retention rule"  # policy_lint._retention_coverage, at a field
_NO_PRIMARY_KEY = "has no primary_key"  # answer_profile._marked_field, at a marker
_NOT_PERSONS = "whose records are not persons"  # belongs_to._findings, at its field


@dataclass
class Removed:
    """Names of one kind of declaration that were set aside; ``anything`` if one was unreadable."""

    names: set[str] = field(default_factory=set)
    anything: bool = False

    def add(self, name: str | None) -> None:
        """Count ``name`` as set aside; None, a name that could not be read, means any."""
        if name is None:
            self.anything = True
        else:
            self.names.add(name)

    def __contains__(self, name: object) -> bool:
        return self.anything or name in self.names

    def __bool__(self) -> bool:
        return self.anything or bool(self.names)


@dataclass(frozen=True)
class _Declared:
    """A finding that ``key`` is not declared in ``section`` (purposes, data_uses, ...)."""

    section: str
    key: str


@dataclass(frozen=True)
class _Table:
    """A finding that a dataset, or a field of it, is missing; ``field`` None: its field set."""

    system: str
    dataset: str
    field: str | None


@dataclass(frozen=True)
class _Served:
    """A finding that nothing serves a purpose."""


@dataclass(frozen=True)
class _Covered:
    """A finding that no retention rule covers a field."""


_Need = _Declared | _Table | _Served | _Covered


@dataclass
class Gaps:
    """What the checked map may lack compared with the map as written."""

    #: Per section ("purposes", "subjects", "controllers", "data_categories", ...).
    keys: dict[str, Removed] = field(default_factory=dict)
    #: Systems set aside; ``anything``: systems the trimmed map lacks may exist.
    systems: Removed = field(default_factory=Removed)
    #: Per system key, its datasets set aside.
    datasets: dict[str, Removed] = field(default_factory=dict)
    #: Per (system key, dataset name), its fields set aside.
    fields: dict[tuple[str, str], Removed] = field(default_factory=dict)
    #: A system, dataset, field or cookie was set aside: it may have served any purpose.
    serving: bool = False
    #: Retention rules or custom categories were set aside.
    coverage: bool = False
    #: The organization's languages are unknown.
    languages: bool = False

    def lose(self, path: DocPath) -> None:
        """Content at ``path`` (a section, or a key of one) is unknown: it may declare anything."""
        match path:
            case ("purposes" | "subjects" as section, *_):
                self._keys(section).anything = True
            case ("organization",):
                self._keys("controllers").anything = True
                self.languages = True
            case ("organization", "controllers", *_):
                self._keys("controllers").anything = True
            case ("organization", "languages", *_):
                self.languages = True
            case ("taxonomy",):
                for section in _TAXONOMY_SECTIONS:
                    self._keys(section).anything = True
                self.coverage = True
            case ("taxonomy", str(section), *_):
                self._keys(section).anything = True
                self.coverage = True
            case ("systems", *_):
                self.systems.anything = True
                self.serving = True
            case ("retention", *_):
                self.coverage = True
            case _:
                pass  # recipients and the organization's other keys: nothing refers to them

    def set_aside(self, path: DocPath, document: Any) -> None:
        """Record that the list item at ``path`` of ``document`` (as written) was removed."""
        raw = _raw(document, path)
        match path:
            case ("purposes" | "subjects" as section, int()):
                self._keys(section).add(_identity(raw, "key"))
            case ("organization", "controllers", int()):
                self._keys("controllers").add(_identity(raw, "key"))
            case ("taxonomy", str(section), int()):
                self._keys(section).add(_identity(raw, "key"))
                self.coverage = True
            case ("systems", int()):
                self.systems.add(_identity(raw, "key"))
                self.serving = True
            case ("systems", int(si), "datasets", int()):
                system = _text(_raw(document, ("systems", si, "key")))
                self.datasets.setdefault(system, Removed()).add(_identity(raw, "name"))
                self.serving = True
            case ("systems", int(si), "datasets", int(di), "fields", int()):
                system = _text(_raw(document, ("systems", si, "key")))
                dataset = _text(_raw(document, ("systems", si, "datasets", di, "name")))
                self.fields.setdefault((system, dataset), Removed()).add(_identity(raw, "name"))
                self.serving = True
            case ("systems", int(), "cookies", int()):
                self.serving = True
            case ("retention", int()):
                self.coverage = True
            case ("recipients", int()) | (
                "organization",
                "joint_controllers" | "security_measures",
                int(),
            ):
                pass  # nothing in the map refers to these
            case _:
                self.lose(path[:1])

    def explain(self, datamap: DataMap, finding: Finding) -> bool:
        """Whether ``finding`` on the trimmed ``datamap`` may come from what it lacks."""
        need = _need(datamap, finding)
        match need:
            case None:
                return False
            case _Declared(section, key):
                return key in self.keys.get(section, Removed())
            case _Table(system, dataset, name):
                return self._may_have(datamap, system, dataset, name)
            case _Served():
                return self.serving
            case _Covered():
                return self.coverage

    def _may_have(self, datamap: DataMap, system: str, dataset: str, name: str | None) -> bool:
        """Whether what was set aside may hold the dataset, or its field ``name`` (None: any)."""
        if system in self.systems.names:
            return True
        declared = datamap.system(system)
        if declared is None:
            return self.systems.anything
        if not any(d.name == dataset for d in declared.datasets):
            return dataset in self.datasets.get(system, Removed())
        removed = self.fields.get((system, dataset), Removed())
        return bool(removed) if name is None else name in removed

    def _keys(self, section: str) -> Removed:
        return self.keys.setdefault(section, Removed())


@dataclass(frozen=True)
class TrimmedMap:
    """What of an invalid map validates, and how to read findings on it back."""

    datamap: DataMap
    gaps: Gaps
    #: For each list (by its path as written) that lost items: new index -> index as written.
    kept: dict[DocPath, list[int]]
    #: Paths as written whose value was replaced by a placeholder.
    placeholders: frozenset[DocPath]

    def as_written(self, findings: Iterable[Finding]) -> list[Finding]:
        """``findings`` on the trimmed map at their paths as written, less those it may cause."""
        result = []
        for finding in findings:
            if self.gaps.explain(self.datamap, finding):
                continue
            path = written_path(finding.path, self.kept)
            if any(path[: len(p)] == p for p in self.placeholders):
                continue
            result.append(replace(finding, path=path))
        return result


def lost_sections(
    unreadable: Iterable[Path], merge_problems: Iterable[LocatedFinding]
) -> list[DocPath]:
    """The sections whose content could not be used: files that failed, values not merged."""
    lost: list[DocPath] = []
    for file in unreadable:
        lost += _sections_in(file)
    for problem in merge_problems:
        # A file that is not a mapping says nothing readable; else the path declared twice.
        lost += [problem.finding.path] if problem.finding.path else _ALL_SECTIONS
    return lost


def lost_explains(error: ErrorDetails, lost: Sequence[DocPath]) -> bool:
    """Whether a schema error only says that a section which could not be used is missing."""
    return error["type"] == "missing" and tuple(error["loc"]) in lost


def trim(
    document: dict[str, Any], errors: Sequence[ErrorDetails], lost: Sequence[DocPath]
) -> TrimmedMap | None:
    """Set aside what ``errors`` point at until the rest validates; None if it does not."""
    gaps = Gaps()
    for path in lost:
        gaps.lose(path)
    removed: set[DocPath] = set()
    placed: dict[DocPath, Any] = {}
    kept: dict[DocPath, list[int]] = {}
    for _round in range(MAX_ROUNDS):
        for error in errors:
            where = written_path(tuple(error["loc"]), kept)
            if not _set_aside(where, document, removed, placed, gaps):
                return None
        kept = {}
        remains = _pruned(document, (), removed, placed, kept)
        try:
            datamap = DataMap.model_validate(remains)
        except ValidationError as exc:
            errors = exc.errors()
            continue
        if gaps.languages:
            # Unknown languages: the checks of translations have nothing to check against.
            organization = datamap.organization.model_copy(update={"languages": []})
            datamap = datamap.model_copy(update={"organization": organization})
        return TrimmedMap(datamap, gaps, kept, frozenset(placed))
    return None


def written_path(path: DocPath, kept: dict[DocPath, list[int]]) -> DocPath:
    """A path of the trimmed map as a path of the map as written."""
    written: list[str | int] = []
    for part in path:
        table = kept.get(tuple(written))
        if isinstance(part, int) and table is not None and 0 <= part < len(table):
            written.append(table[part])
        else:
            written.append(part)
    return tuple(written)


def record_item(loc: DocPath) -> DocPath | None:
    """The deepest item on ``loc`` of a list of records (models, or texts per language)."""
    annotation: Any = DataMap
    found: DocPath | None = None
    for depth, part in enumerate(loc):
        if isinstance(part, int):
            annotation = _item_type(annotation)
            if annotation is None:
                break
            if _model(annotation) is not None or typing.get_origin(annotation) is dict:
                found = loc[: depth + 1]
            continue
        model = _model(annotation)
        info = model.model_fields.get(part) if model is not None else None
        if info is None:
            break
        annotation = info.annotation
    return found


def _set_aside(
    loc: DocPath,
    document: dict[str, Any],
    removed: set[DocPath],
    placed: dict[DocPath, Any],
    gaps: Gaps,
) -> bool:
    """Remove or replace what holds the error at ``loc``; False if nothing can."""
    item = record_item(loc)
    if item is not None:
        if not any(item[:end] in removed for end in range(1, len(item) + 1)):
            removed.add(item)
            gaps.set_aside(item, document)
        return True
    if not loc or not isinstance(loc[0], str):
        return False
    # Outside every list item: a section, or a key of the organization or the taxonomy.
    parent: type[BaseModel] = DataMap
    key: DocPath = loc[:1]
    if loc[0] in {"organization", "taxonomy"} and len(loc) > 1 and isinstance(loc[1], str):
        parent = Organization if loc[0] == "organization" else Taxonomies
        key = loc[:2]
    gaps.lose(_meant(key, parent))
    info = parent.model_fields.get(str(key[-1]))
    if info is None or not info.is_required():
        removed.add(key)
        return True
    if key == ("organization",):
        placed[key] = dict(ORGANIZATION_PLACEHOLDERS)
        return True
    if key[0] == "organization" and key[-1] in ORGANIZATION_PLACEHOLDERS:
        placed[key] = ORGANIZATION_PLACEHOLDERS[str(key[-1])]
        return True
    return False


def _meant(key: DocPath, parent: type[BaseModel]) -> DocPath:
    """``key``, or for a key the model does not know, the known one it likely means."""
    name = str(key[-1])
    if name in parent.model_fields:
        return key
    close = difflib.get_close_matches(name, list(parent.model_fields), n=1)
    return (*key[:-1], close[0]) if close else key


def _pruned(
    value: Any,
    path: DocPath,
    removed: set[DocPath],
    placed: dict[DocPath, Any],
    kept: dict[DocPath, list[int]],
) -> Any:
    """A copy of ``value`` without what was removed, with the placeholders in place."""
    if path in placed:
        return placed[path]
    if isinstance(value, dict):
        copy = {
            key: _pruned(item, (*path, key), removed, placed, kept)
            for key, item in value.items()
            if (*path, key) not in removed
        }
        for where, placeholder in placed.items():
            if where[:-1] == path and where[-1] not in copy:
                copy[where[-1]] = placeholder
        return copy
    if isinstance(value, list):
        indexes = [index for index in range(len(value)) if (*path, index) not in removed]
        if len(indexes) < len(value):
            kept[path] = indexes
        return [_pruned(value[index], (*path, index), removed, placed, kept) for index in indexes]
    return value


def _need(datamap: DataMap, finding: Finding) -> _Need | None:
    """What must be missing for ``finding`` to be made, if that may be something set aside."""
    path, message = finding.path, finding.message
    value = _value(datamap, path)
    need: _Need | None = None
    match path:
        case ("taxonomy", str(section), int(), "parent"):
            need = _Declared(section, str(value))
        case ("subjects", int(), "key"):
            need = _Declared("data_subjects", str(value))
        case ("purposes", int(), "data_use"):
            need = _Declared("data_uses", str(value))
        case (
            ("systems", int(), "datasets", int(), "fields", int(), "category")
            | ("systems", int(), "datasets", int(), "files", "content_category")
            | ("recipients", int(), "categories", int())
            | ("retention", int(), "category")
        ):
            need = _Declared("data_categories", str(value))
        case (
            ("systems", int(), "datasets", int(), "fields", int(), "purposes", int())
            | ("systems", int(), "datasets", int(), "files", "content_purposes", int())
            | ("recipients", int(), "purposes", int())
        ):
            need = _Declared("purposes", str(value))
        case ("systems", int(si), "cookies", int(ci), 0):
            need = _Declared("purposes", str(datamap.systems[si].cookies[ci].purpose))
        case ("systems", int(), "controller"):
            need = _Declared("controllers", str(value))
        case ("systems", int(), "datasets", int(), "subjects", int()):
            need = _Declared("subjects", str(value))
        case ("systems", int(si), "datasets", int(), "fields", int(), "references"):
            parts = str(value).split(".")
            if len(parts) == 2:
                parts = [datamap.systems[si].key, *parts]
            need = _Table(*parts) if len(parts) == 3 else None
        case ("retention", int(), "dataset"):
            parts = str(value).split(".")
            need = _Table(parts[0], parts[1], None) if len(parts) == 2 else None
        case ("retention", int(ri), "trigger_field"):
            parts = str(datamap.retention[ri].dataset).split(".")
            need = _Table(parts[0], parts[1], str(value)) if len(parts) == 2 else None
        case ("systems", int(), "datasets", int(), "files", "owner", "column"):
            parts = str(value).split(".")
            need = _Table(parts[0], parts[1], None) if len(parts) == 3 else None
        case (
            ("systems", int(si), "datasets", int(di), "restriction", "field")
            | ("systems", int(si), "datasets", int(di), "fields")
            | ("systems", int(si), "datasets", int(di), "files", "owner", "path")
        ):
            need = _own_fields(datamap, si, di)
        case ("systems", int(si), "datasets", int(di), "belongs_to", "field") if (
            _NOT_PERSONS in message
        ):
            need = _belongs_to_target(datamap, si, di)
        case (
            ("systems", int(si), "datasets", int(di), "belongs_to")
            | ("systems", int(si), "datasets", int(di), "belongs_to", "field")
            | ("systems", int(si), "datasets", int(di), "belongs_to", "shown_to_it", int())
        ):
            need = _own_fields(datamap, si, di)
        case ("systems", int(si), "datasets", int(di), "fields", int(), str(marker)) if (
            marker in {"subject_language", "subject_country"} and _NO_PRIMARY_KEY in message
        ):
            need = _own_fields(datamap, si, di)
        case ("purposes", int()) if _UNUSED in message:
            need = _Served()
        case ("systems", int(), "datasets", int(), "fields", int()) if (
            finding.severity is Severity.WARNING and _NO_RETENTION in message
        ):
            need = _Covered()
    return need


def _belongs_to_target(datamap: DataMap, si: int, di: int) -> _Table | None:
    """The dataset a ``belongs_to`` field references: its key may have been set aside."""
    system, dataset = datamap.systems[si], datamap.systems[si].datasets[di]
    field = next(
        (f for f in dataset.fields if dataset.belongs_to and f.name == dataset.belongs_to.field),
        None,
    )
    parts = field.references.split(".") if field and field.references else []
    if len(parts) == 2:
        parts = [system.key, *parts]
    return _Table(parts[0], parts[1], None) if len(parts) == 3 else None


def _own_fields(datamap: DataMap, si: int, di: int) -> _Table:
    system = datamap.systems[si]
    return _Table(system.key, system.datasets[di].name, None)


def _value(datamap: DataMap, path: DocPath) -> Any:
    """The value at ``path`` of the validated map, or None where there is none."""
    value: Any = datamap
    for part in path:
        if isinstance(value, BaseModel) and isinstance(part, str):
            value = getattr(value, part, None)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _raw(document: Any, path: DocPath) -> Any:
    """The value at ``path`` of the plain document as written, or None."""
    value = document
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
    return value


@cache
def _adapter(kind: str) -> TypeAdapter[str]:
    return TypeAdapter(Key if kind == "key" else Identifier)


def _identity(item: Any, key: str) -> str | None:
    """The item's key or name as the map would read it, or None if it is not a valid one."""
    value = item.get(key) if isinstance(item, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return _adapter(key).validate_python(value.strip())
    except ValidationError:
        return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strip(annotation: Any) -> Any:
    """``X`` for ``X | None`` and ``Annotated[X, ...]``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) == 1:
                annotation = options[0]
                continue
        return annotation


def _item_type(annotation: Any) -> Any:
    annotation = _strip(annotation)
    if typing.get_origin(annotation) is list:
        return _strip(typing.get_args(annotation)[0])
    return None


def _model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


_ALL_SECTIONS: list[DocPath] = [(name,) for name in DataMap.model_fields]
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:", re.MULTILINE)


def _sections_in(file: Path) -> list[DocPath]:
    """The sections a file that could not be parsed seems to declare (all, if it cannot tell)."""
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            return _ALL_SECTIONS
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return _ALL_SECTIONS
    found = [_meant((name,), DataMap) for name in _TOP_LEVEL_KEY.findall(text)]
    sections = [path for path in found if path[0] in DataMap.model_fields]
    return sections or _ALL_SECTIONS
