"""Reading and writing the mention index's tables (personvern.store.mention_models).

What the entries mean and when the index may be used is the engine's to decide
(personvern.engine.mention_index); this module stores and fetches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from personvern.store.mention_models import MentionIndexEntry, MentionIndexState

#: Keys per DELETE ... IN (...) when a refresh replaces records' entries.
_CHUNK = 1000


@dataclass(frozen=True)
class IndexLookup:
    """One field's look-up: the dataset's state as it was, and the records it names."""

    state: MentionIndexState
    row_keys: frozenset[str]


class MentionIndexRepository:
    """The mention index's tables, through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def states(self) -> list[MentionIndexState]:
        """Every dataset's state, by system and dataset."""
        query = sa.select(MentionIndexState).order_by(
            MentionIndexState.system, MentionIndexState.dataset
        )
        return list(self.session.scalars(query))

    def state(self, system: str, dataset: str, *, lock: bool = False) -> MentionIndexState | None:
        """One dataset's state; ``lock`` holds it until the transaction ends (a build's turn)."""
        query = sa.select(MentionIndexState).where(
            MentionIndexState.system == system, MentionIndexState.dataset == dataset
        )
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def start(self, state: MentionIndexState) -> MentionIndexState:
        """Record ``state`` as the dataset's, replacing any other."""
        return self.session.merge(state)

    def lookup(
        self, system: str, dataset: str, field: str, hashes: Collection[str]
    ) -> IndexLookup | None:
        """The state and the records whose ``field`` holds one of ``hashes``, in one statement.

        One statement, so that both are read as of one moment: a build starting in
        between can never pair an old state with entries it has just cleared.
        """
        entry = aliased(MentionIndexEntry)
        joined = sa.and_(
            entry.system == MentionIndexState.system,
            entry.dataset == MentionIndexState.dataset,
            entry.field == field,
            entry.hash.in_(sorted(hashes)) if hashes else sa.false(),
        )
        query = (
            sa.select(MentionIndexState, entry.row_key)
            .outerjoin(entry, joined)
            .where(MentionIndexState.system == system, MentionIndexState.dataset == dataset)
        )
        rows = self.session.execute(query).all()
        if not rows:
            return None
        return IndexLookup(rows[0][0], frozenset(row[1] for row in rows if row[1] is not None))

    def clear(self, system: str, dataset: str) -> int:
        """Delete every entry of the dataset; returns how many."""
        statement = sa.delete(MentionIndexEntry).where(
            MentionIndexEntry.system == system, MentionIndexEntry.dataset == dataset
        )
        result: sa.CursorResult[Any] = self.session.execute(statement)  # type: ignore[assignment]
        return int(result.rowcount)

    def replace(
        self,
        system: str,
        dataset: str,
        row_keys: Collection[str],
        entries: Iterable[tuple[str, str, str]],
    ) -> int:
        """Drop the entries of ``row_keys``, then add ``entries`` (field, hash, row key)."""
        ordered = sorted(set(row_keys))
        for start in range(0, len(ordered), _CHUNK):
            self.session.execute(
                sa.delete(MentionIndexEntry).where(
                    MentionIndexEntry.system == system,
                    MentionIndexEntry.dataset == dataset,
                    MentionIndexEntry.row_key.in_(ordered[start : start + _CHUNK]),
                )
            )
        return self.add(system, dataset, entries)

    def add(self, system: str, dataset: str, entries: Iterable[tuple[str, str, str]]) -> int:
        """Add entries (field, hash, row key) the dataset does not hold yet; returns how many."""
        rows = [
            {"system": system, "dataset": dataset, "field": f, "hash": h, "row_key": k}
            for f, h, k in sorted(set(entries))
        ]
        if rows:
            self.session.execute(sa.insert(MentionIndexEntry), rows)
        return len(rows)

    def counts(self) -> dict[tuple[str, str], int]:
        """Entries per (system, dataset)."""
        query = sa.select(
            MentionIndexEntry.system, MentionIndexEntry.dataset, sa.func.count()
        ).group_by(MentionIndexEntry.system, MentionIndexEntry.dataset)
        return {(s, d): int(n) for s, d, n in self.session.execute(query)}

    def drop(self, system: str, dataset: str) -> None:
        """Forget the dataset's index: its entries and its state."""
        self.clear(system, dataset)
        self.session.execute(
            sa.delete(MentionIndexState).where(
                MentionIndexState.system == system, MentionIndexState.dataset == dataset
            )
        )
