"""YAML with positions: every value of the data map remembers its file, line and column.

PyYAML's SafeLoader is used for parsing, with the changes a data map needs:
duplicate keys are errors (YAML silently keeps the last), and only ``true``/``false``
are booleans, so that ``country: NO`` means Norway (YAML 1.1 reads it as false).

Aliases and nesting are limited while the document is composed, before any value is
built: a 2 kB file of aliases to aliases ("billion laughs") would otherwise expand to
gigabytes, and thousands of nested brackets would exhaust Python's recursion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from personvern.datamap.errors import DataMapTooComplexError, YamlProblemError
from personvern.domain.findings import DocPath, Finding, Severity

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 500
# The example company's data map uses no aliases and nests 9 levels; a hand-written map
# that shares a few lists of categories stays far below these.
MAX_ALIASES = 100
MAX_ALIAS_VALUES = 10_000
MAX_DEPTH = 64
#: Values (scalars, lists, mappings) per file. A 5 MB file of plain values took a minute
#: and 2.3 GB; a converted Fides project of 158 collections has about 16,000.
MAX_VALUES = 100_000


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


class _Mark(Protocol):
    """Where PyYAML saw something, 0-based (its Python and C parsers have their own classes)."""

    line: int
    column: int


class _DataMapLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and limits on aliases and nesting."""

    def __init__(self, text: str, file: Path) -> None:
        super().__init__(text)
        self._file = file
        self._aliases = 0
        self._alias_values = 0
        self._depth = 0
        self._values = 0
        # Values and levels of each finished collection, counted as if its aliases were
        # written out: what an alias to it adds to the document.
        self._extent: dict[yaml.Node, tuple[int, int]] = {}

    def compose_document(self) -> yaml.Node | None:
        """Compose one document with fresh counts."""
        self._aliases = self._alias_values = self._depth = self._values = 0
        self._extent = {}
        return super().compose_document()

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose a node, refusing it if it passes a limit before composing what it holds."""
        # The stubs leave peek_event untyped; it returns the next event without consuming it.
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        self._values += 1
        if self._values > MAX_VALUES:
            raise self._too_complex(
                f"too many values (more than {MAX_VALUES}): split the data map into more "
                "files (a folder of files is one data map)",
                event.start_mark,
            )
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        if self._depth == MAX_DEPTH:
            raise self._too_deep(event.start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._extent[node] = self._measure(node)
        return node

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        target = self.anchors.get(event.anchor)
        if target is None:
            return  # an undefined alias: PyYAML's own error says so
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise self._too_complex(
                f"too many aliases (more than {MAX_ALIASES}): YAML anchors may be used at "
                f"most {MAX_ALIASES} times in a data map file",
                event.start_mark,
            )
        extent = self._extent_of(target)
        if extent is None:
            # The anchored collection is still open, so the alias is inside it.
            raise self._too_complex(
                f"alias *{event.anchor} is inside the value it refers to: "
                "a data map file cannot contain itself",
                event.start_mark,
            )
        values, levels = extent
        self._alias_values += values
        if self._alias_values > MAX_ALIAS_VALUES:
            raise self._too_complex(
                f"aliases repeat too many values (more than {MAX_ALIAS_VALUES}): YAML anchors "
                f"may repeat at most {MAX_ALIAS_VALUES} values in a data map file",
                event.start_mark,
            )
        if self._depth + levels > MAX_DEPTH:
            raise self._too_deep(event.start_mark)

    def _extent_of(self, node: yaml.Node) -> tuple[int, int] | None:
        if isinstance(node, yaml.ScalarNode):
            return 1, 0
        return self._extent.get(node)

    def _measure(self, node: yaml.Node) -> tuple[int, int]:
        children: list[yaml.Node] = (
            [part for pair in node.value for part in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        values, levels = 1, 0
        for child in children:
            # Every child is finished (an alias to an open collection was refused).
            child_values, child_levels = self._extent_of(child) or (1, 0)
            values += child_values
            levels = max(levels, child_levels)
        return values, levels + 1

    def _too_deep(self, mark: _Mark | None) -> DataMapTooComplexError:
        return self._too_complex(
            f"nesting deeper than {MAX_DEPTH} levels: mappings and lists may be nested at most "
            f"{MAX_DEPTH} levels deep in a data map file",
            mark,
        )

    def _too_complex(self, message: str, mark: _Mark | None) -> DataMapTooComplexError:
        return DataMapTooComplexError(
            LocatedFinding(Finding((), message), _location(self._file, mark))
        )


# Drop YAML 1.1's yes/no/on/off booleans and keep only true/false.
_DataMapLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_DataMapLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _location(file: Path, mark: _Mark | None) -> Location:
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
    try:
        loader = _DataMapLoader(text, file)
    except yaml.reader.ReaderError as exc:
        # The reader checks every character when it is made, before any parsing: a NUL
        # or other control character used to escape as a traceback from here.
        before = text[: exc.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else 0
        raise YamlProblemError(
            LocatedFinding(
                Finding(
                    (),
                    f"invalid YAML: the character U+{code:04X} is not allowed in YAML",
                    hint="remove it; a data map file holds printable text only",
                ),
                Location(file, line, column),
            )
        ) from exc
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
