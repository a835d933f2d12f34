"""A company's records held in memory, searched by the rules a connector must follow.

The walk and the plan are pure; to test them without a database this answers
``locate`` the way every connector must (exact values compared as text, e-mail
without case, free text by case-insensitive substring, excluded keys left out).
The connectors themselves are tested against real servers elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from personvern.connectors.port import Criteria, Record
from personvern.domain.datamap import DataMap, IdentityKind


class MemoryStore:
    """Rows per "system.dataset", and a per-system locate over them."""

    def __init__(self, datamap: DataMap, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.rows = rows
        self.queries: list[str] = []
        self.keys: dict[str, str] = {}
        self.emails: dict[str, set[str]] = {}
        for system in datamap.systems:
            for dataset in system.datasets:
                name = f"{system.key}.{dataset.name}"
                self.keys[name] = next((f.name for f in dataset.fields if f.primary_key), "id")
                self.emails[name] = {
                    f.name for f in dataset.fields if f.identity is IdentityKind.EMAIL
                }

    def locate(self, system: str, dataset: str, criteria: Criteria) -> list[Record]:
        """The rows of system.dataset matching ``criteria``."""
        name = f"{system}.{dataset}"
        self.queries.append(name)
        found = []
        for row in self.rows.get(name, ()):
            key = row[self.keys[name]]
            if key in criteria.exclude:
                continue
            matched = set()
            for field, values in criteria.exact.items():
                value = row.get(field)
                if value is None:
                    continue
                text = str(value).casefold() if field in self.emails[name] else str(value)
                wanted = {
                    str(v).casefold() if field in self.emails[name] else str(v) for v in values
                }
                if text in wanted:
                    matched.add(field)
            for field, needles in criteria.mentions.items():
                text = str(row.get(field) or "").casefold()
                if any(needle.casefold() in text for needle in needles):
                    matched.add(field)
            if matched:
                found.append(Record(key=key, values=dict(row), matched_fields=frozenset(matched)))
        return found


class MemoryConnector:
    """One system of a MemoryStore, shaped like a connector for the search."""

    def __init__(self, store: MemoryStore, system: str) -> None:
        self.store = store
        self.key = system

    def locate(self, dataset: str, criteria: Criteria) -> list[Record]:
        """Delegate to the store."""
        return self.store.locate(self.key, dataset, criteria)
