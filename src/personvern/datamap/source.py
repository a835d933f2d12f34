"""YAML with positions: every value of the data map remembers its file, line and column.

PyYAML's SafeLoader is used for parsing, with two changes a data map needs:
duplicate keys are errors (YAML silently keeps the last), and only ``true``/``false``
are booleans, so that ``country: NO`` means Norway (YAML 1.1 reads it as false).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from personvern.domain.findings import DocPath, Finding, Severity

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 500


@dataclass(frozen=True)
class Location:
    """A place in a file, 1-based as editors show it."""

    file: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class LocatedFinding:
    """A finding with the place in the source it points at."""

    finding: Finding
    location: Location | None

    def render(self) -> str:
        """``file:line:column: severity: message``, the form editors and CI understand."""
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.finding.severity}: {self.finding.message}"


@dataclass
class SourceMap:
    """Where each path of the merged document came from."""

    positions: dict[DocPath, Location] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def locate(self, path: DocPath) -> Location | None:
        """The position of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return found
        return None

    def locate_finding(self, finding: Finding) -> LocatedFinding:
        """Attach a location to a finding."""
        return LocatedFinding(finding, self.locate(finding.path))


class _DataMapLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans."""


# Drop YAML 1.1's yes/no/on/off booleans and keep only true/false.
_DataMapLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_DataMapLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class YamlProblemError(Exception):
    """A file could not be parsed; carries the located finding."""

    def __init__(self, problem: LocatedFinding) -> None:
        super().__init__(problem.render())
        self.problem = problem


def _location(file: Path, mark: yaml.Mark | None) -> Location:
    if mark is None:
        return Location(file, 1, 1)
    return Location(file, mark.line + 1, mark.column + 1)


def _convert(
    loader: _DataMapLoader,
    node: yaml.Node,
    file: Path,
    path: DocPath,
    positions: dict[DocPath, Location],
) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblemError(
                    LocatedFinding(
                        Finding(path, "YAML merge keys (<<) are not supported in a data map"),
                        _location(file, key_node.start_mark),
                    )
                )
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                raise YamlProblemError(
                    LocatedFinding(
                        Finding(path, f"keys must be text, not {type(key).__name__}"),
                        _location(file, key_node.start_mark),
                    )
                )
            if key in seen:
                first = _location(file, seen[key].start_mark)
                raise YamlProblemError(
                    LocatedFinding(
                        Finding(
                            (*path, key),
                            f"duplicate key '{key}' (first defined at line {first.line})",
                            hint="YAML keeps only the last value; remove or merge one of them",
                        ),
                        _location(file, key_node.start_mark),
                    )
                )
            seen[key] = key_node
            child = (*path, key)
            is_scalar = isinstance(value_node, yaml.ScalarNode)
            positions[child] = _location(
                file, value_node.start_mark if is_scalar else key_node.start_mark
            )
            result[key] = _convert(loader, value_node, file, child, positions)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            positions[child] = _location(file, item.start_mark)
            items.append(_convert(loader, item, file, child, positions))
        return items
    return loader.construct_object(node, deep=True)


def read_yaml(file: Path) -> tuple[Any, dict[DocPath, Location]]:
    """Parse one YAML file into plain data and the position of every path in it."""
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlProblemError(
                LocatedFinding(
                    Finding(
                        (),
                        f"file is {size} bytes; a data map file may be at most "
                        f"{MAX_FILE_BYTES} bytes",
                    ),
                    Location(file, 1, 1),
                )
            )
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblemError(
            LocatedFinding(
                Finding((), "file is not UTF-8 text", hint="save it as UTF-8"),
                Location(file, 1, 1),
            )
        ) from exc
    except OSError as exc:
        raise YamlProblemError(
            LocatedFinding(Finding((), f"cannot read file: {exc.strerror}"), Location(file, 1, 1))
        ) from exc
    positions: dict[DocPath, Location] = {(): Location(file, 1, 1)}
    loader = _DataMapLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else _convert(loader, node, file, (), positions)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or "invalid YAML"
        context = f" {exc.context}" if exc.context else ""
        raise YamlProblemError(
            LocatedFinding(
                Finding((), f"invalid YAML: {problem}{context}"),
                _location(file, exc.problem_mark),
            )
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlProblemError(
            LocatedFinding(Finding((), f"invalid YAML: {exc}"), Location(file, 1, 1))
        ) from exc
    finally:
        loader.dispose()
    return data, positions


def data_map_files(root: Path) -> list[Path]:
    """The YAML files of a data map given as one file or a folder (searched recursively)."""
    if root.is_file():
        return [root]
    files = sorted(
        p
        for p in root.rglob("*")
        if p.suffix in {".yaml", ".yml"} and p.is_file() and not p.name.startswith(".")
    )
    return files[: MAX_FILES + 1]


def merge_documents(
    parts: Iterable[tuple[Path, Any, dict[DocPath, Location]]],
) -> tuple[dict[str, Any], SourceMap, list[LocatedFinding]]:
    """Merge the files of a folder: lists are concatenated, mappings may appear once."""
    merged: dict[str, Any] = {}
    source = SourceMap()
    problems: list[LocatedFinding] = []
    for file, data, positions in parts:
        source.files.append(file)
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(
                LocatedFinding(
                    Finding(
                        (),
                        "a data map file must be a mapping of sections "
                        "(organization, purposes, systems, ...)",
                    ),
                    positions[()],
                )
            )
            continue
        source.positions.setdefault((), positions[()])
        for key, value in data.items():
            _merge_section(merged, source, problems, (key,), value, positions)
    return merged, source, problems


def _merge_section(
    target: dict[Any, Any],
    source: SourceMap,
    problems: list[LocatedFinding],
    path: DocPath,
    value: Any,
    positions: dict[DocPath, Location],
) -> None:
    key = path[-1]
    existing = target.get(key)
    if existing is None:
        target[key] = value
        _copy_positions(source, positions, path, path)
        return
    if isinstance(existing, list) and isinstance(value, list):
        offset = len(existing)
        existing.extend(value)
        size = len(path)
        for old, location in positions.items():
            index = old[size] if len(old) > size else None
            if old[:size] == path and isinstance(index, int):
                source.positions[(*path, index + offset, *old[size + 1 :])] = location
        return
    if (
        isinstance(existing, dict)
        and isinstance(value, dict)
        and len(path) == 1
        and key != ("organization")
    ):
        for sub_key, sub_value in value.items():
            _merge_section(existing, source, problems, (*path, sub_key), sub_value, positions)
        return
    first = source.locate(path)
    problems.append(
        LocatedFinding(
            Finding(
                path,
                f"'{'.'.join(map(str, path))}' is declared twice"
                + (f" (first at {first})" if first else ""),
                hint="declare it in one file only",
            ),
            positions.get(path),
        )
    )


def _copy_positions(
    source: SourceMap, positions: dict[DocPath, Location], old: DocPath, new: DocPath
) -> None:
    size = len(old)
    for path, location in positions.items():
        if path[:size] == old:
            source.positions[new + path[size:]] = location


__all__ = [
    "LocatedFinding",
    "Location",
    "Severity",
    "SourceMap",
    "YamlProblemError",
    "data_map_files",
    "merge_documents",
    "read_yaml",
]
