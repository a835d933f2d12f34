"""Errors reading or validating the data map.

PersonvernError
└── DataMapError
    ├── DataMapNotFoundError       no file or folder where the data map should be
    ├── YamlProblemError           one file cannot be read or parsed (carries the located problem)
    │   └── DataMapTooComplexError a file passes a limit on aliases or nesting (a YAML bomb)
    └── DataMapInvalidError        the map was read but has errors (carries every problem)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from personvern.errors import ErrorKind, PersonvernError

if TYPE_CHECKING:
    from personvern.datamap.source import LocatedFinding


class DataMapError(PersonvernError):
    """The data map cannot be used."""

    kind = ErrorKind.INVALID
    title = "Invalid data map"


class DataMapNotFoundError(DataMapError):
    """There is no data map at the given place."""

    kind = ErrorKind.FAILED
    title = "Data map not found"


class YamlProblemError(DataMapError):
    """One file could not be read or parsed; ``problem`` says where and why."""

    def __init__(self, problem: LocatedFinding) -> None:
        super().__init__(problem.render(), hint=problem.finding.hint)
        self.problem = problem


class DataMapTooComplexError(YamlProblemError):
    """A file uses more aliases or deeper nesting than a data map needs, as YAML bombs do."""


class DataMapInvalidError(DataMapError):
    """The data map has one or more errors; ``problems`` lists them all, located."""

    def __init__(self, problems: Sequence[LocatedFinding]) -> None:
        errors = [p for p in problems if p.finding.is_error]
        first = errors[0].render() if errors else "the data map is invalid"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}", hint="run `personvern check` to see every problem")
        self.problems = list(problems)
