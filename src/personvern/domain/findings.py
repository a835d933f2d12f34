"""Problems found in a data map, located by their path inside the document."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: A path into the data map document: keys and list indexes, e.g. ("systems", 0, "key").
DocPath = tuple[str | int, ...]


class Severity(StrEnum):
    """Errors fail ``personvern check``; warnings are reported and pass."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, what is wrong and how to fix it."""

    path: DocPath
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        """Whether this finding fails the check."""
        return self.severity is Severity.ERROR
