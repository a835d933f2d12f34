"""Errors reading or validating the data map.

PersonvernError
└── DataMapError
    ├── DataMapNotFoundError   no file or folder where the data map should be
    └── DataMapInvalidError    the map was read but has errors (carries every problem)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from personvern.errors import PersonvernError

if TYPE_CHECKING:
    from personvern.datamap.source import LocatedFinding


class DataMapError(PersonvernError):
    """The data map cannot be used."""

    http_status = 422
    title = "Invalid data map"


class DataMapNotFoundError(DataMapError):
    """There is no data map at the given place."""

    http_status = 500
    title = "Data map not found"


class DataMapInvalidError(DataMapError):
    """The data map has one or more errors; ``problems`` lists them all, located."""

    def __init__(self, problems: Sequence[LocatedFinding]) -> None:
        errors = [p for p in problems if p.finding.is_error]
        first = errors[0].render() if errors else "the data map is invalid"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}", hint="run `personvern check` to see every problem")
        self.problems = list(problems)
