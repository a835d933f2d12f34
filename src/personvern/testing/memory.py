"""A connector that keeps one system's records in memory.

It follows the rules every connector follows (the contract tests in
``tests/contract`` hold it to them): identities of the spelled kinds compared in
canonical form, mentions found whole (mention_pattern), erasure all-or-nothing per call
and idempotent, counts of records changed. Use it where a test needs a system of the
data map but not a particular store, or to stand for a system that is down
(``available = False``).
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from io import BytesIO
from typing import Any, BinaryIO

from personvern.connectors.base import ConnectorBase
from personvern.connectors.port import (
    ConnectorError,
    ConnectorUnavailableError,
    Criteria,
    ErasureOutcome,
    ErasureStep,
    ExportedFile,
    Key,
    Pseudonymiser,
    Record,
    declared_dataset,
    primary_key_field,
)
from personvern.domain.datamap import Dataset, ErasureStrategy, System
from personvern.domain.identities.kinds import SPELLED, exact_lookup
from personvern.domain.identities.mentions import mention_pattern
from personvern.domain.records import erased_value

Rows = dict[str, dict[str, dict[str, Any]]]


class InMemoryConnector(ConnectorBase):
    """One system of the data map whose records live in this object."""

    def __init__(
        self,
        system: System,
        records: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        *,
        files: Mapping[str, Mapping[Key, Mapping[str, bytes]]] | None = None,
    ) -> None:
        self.system = system
        self.statements_issued = 0
        #: False makes every call fail as an unreachable system does.
        self.available = True
        self._lock = threading.Lock()
        self._rows: Rows = {}
        self._files = {
            dataset: {str(key): dict(named) for key, named in by_key.items()}
            for dataset, by_key in (files or {}).items()
        }
        for dataset, rows in (records or {}).items():
            self.add(dataset, rows)

    def add(self, dataset: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Store ``rows`` (declared fields by name) in ``dataset``; keys must be new."""
        ds = declared_dataset(self.system, dataset)
        pk = primary_key_field(self.system, ds).name
        declared = {f.name for f in ds.fields}
        table = self._rows.setdefault(dataset, {})
        for row in rows:
            unknown = set(row) - declared
            if unknown:
                raise ConnectorError(
                    f"{self.system.key}.{dataset} does not declare {', '.join(sorted(unknown))}"
                )
            key = row.get(pk)
            if key is None or str(key) in table:
                raise ConnectorError(f"{self.system.key}.{dataset}: missing or repeated key")
            table[str(key)] = {name: copy.deepcopy(row.get(name)) for name in declared}

    def rows(self, dataset: str) -> list[dict[str, Any]]:
        """Copies of the records of ``dataset`` as they are now, in key order."""
        with self._lock:
            table = self._rows.get(dataset, {})
            return [copy.deepcopy(table[key]) for key in sorted(table)]

    # -- the port ----------------------------------------------------------------------

    def check(self) -> None:
        """Raise ConnectorUnavailableError when the system is set to be down."""
        self._call()

    def locate(self, dataset: str, criteria: Criteria) -> list[Record]:
        """The records of ``dataset`` matching ``criteria``, as the database connectors match."""
        self._call()
        ds = declared_dataset(self.system, dataset)
        self._check_fields(ds, [*criteria.exact, *criteria.mentions])
        if not criteria:
            return []
        pk = primary_key_field(self.system, ds).name
        kinds = {f.name: f.identity for f in ds.fields if f.identity in SPELLED}
        lookups = {
            name: exact_lookup(kind, criteria.exact.get(name, ()))
            for name, kind in kinds.items()
            if kind is not None and criteria.exact.get(name)
        }
        plain = {
            name: {_normal(v) for v in values}
            for name, values in criteria.exact.items()
            if name not in lookups and values
        }
        patterns = {
            name: mention_pattern(needles) for name, needles in criteria.mentions.items() if needles
        }
        excluded = {str(k) for k in criteria.exclude}
        found: list[Record] = []
        with self._lock:
            for key, row in sorted(self._rows.get(dataset, {}).items()):
                if key in excluded:
                    continue
                matched = (
                    {n for n, lookup in lookups.items() if lookup.matches(row.get(n))}
                    | {
                        n
                        for n, wanted in plain.items()
                        if row.get(n) is not None and _normal(row[n]) in wanted
                    }
                    | {
                        n
                        for n, pattern in patterns.items()
                        if isinstance(row.get(n), str) and pattern.search(row[n])
                    }
                )
                if matched:
                    found.append(
                        Record(
                            key=row[pk],
                            values=copy.deepcopy(row),
                            matched_fields=frozenset(matched),
                        )
                    )
        return found

    def export_files(self, dataset: str, keys: Sequence[Key]) -> Iterator[ExportedFile]:
        """The files stored for the given records (files datasets only)."""
        self._call()
        ds = declared_dataset(self.system, dataset)
        if ds.files is None:
            return
        stored = self._files.get(dataset, {})
        for key in keys:
            for name, content in sorted(stored.get(str(key), {}).items()):
                yield ExportedFile(
                    dataset=dataset,
                    key=key,
                    name=name,
                    media_type=ds.files.media_type,
                    size=len(content),
                    open=_opener(content),
                )

    def erase(
        self, steps: Sequence[ErasureStep], pseudonymise: Pseudonymiser
    ) -> list[ErasureOutcome]:
        """Apply the steps all or nothing, like one transaction; a repeat changes nothing."""
        self._call()
        with self._lock:
            rows = copy.deepcopy(self._rows)
            outcomes = [self._erase_step(rows, step, pseudonymise) for step in steps]
            self._rows = rows
            for step in steps:
                for key in step.delete:
                    self._files.get(step.dataset, {}).pop(str(key), None)
        return outcomes

    def rectify(self, dataset: str, keys: Sequence[Key], changes: Mapping[str, Any]) -> int:
        """Set the given fields of the given records; returns how many records changed."""
        self._call()
        ds = declared_dataset(self.system, dataset)
        self._check_fields(ds, list(changes))
        pk = primary_key_field(self.system, ds).name
        if pk in changes:
            raise ConnectorError(f"{self.system.key}.{dataset}: the primary key cannot be changed")
        changed = 0
        with self._lock:
            table = self._rows.get(dataset, {})
            for key in {str(k) for k in keys}:
                row = table.get(key)
                if row is not None and any(row.get(n) != v for n, v in changes.items()):
                    row.update(copy.deepcopy(dict(changes)))
                    changed += 1
        return changed

    # -- inside --------------------------------------------------------------------------

    def _call(self) -> None:
        self.statements_issued += 1
        if not self.available:
            raise ConnectorUnavailableError(self.system.key, "the in-memory system is set down")

    def _check_fields(self, ds: Dataset, names: Sequence[str]) -> None:
        declared = {f.name for f in ds.fields}
        unknown = sorted(set(names) - declared)
        if unknown:
            raise ConnectorError(
                f"{self.system.key}.{ds.name} does not declare {', '.join(unknown)}"
            )

    def _erase_step(
        self, rows: Rows, step: ErasureStep, pseudonymise: Pseudonymiser
    ) -> ErasureOutcome:
        ds = declared_dataset(self.system, step.dataset)
        pk = primary_key_field(self.system, ds).name
        self._check_fields(ds, [*step.update_fields, *(r.field for r in step.redactions)])
        table = rows.setdefault(step.dataset, {})
        deleted = sum(
            1 for key in {str(k) for k in step.delete} if table.pop(key, None) is not None
        )
        updated = 0
        for key in {str(k) for k in step.update}:
            row = table.get(key)
            if row is None:
                continue
            before = dict(row)
            for name, strategy in step.update_fields.items():
                row[name] = _erased(
                    step.dataset, name, ErasureStrategy(strategy), row, pk, pseudonymise
                )
            updated += row != before
        redacted: set[str] = set()
        for redaction in step.redactions:
            pattern = mention_pattern(redaction.needles)
            replacement = redaction.replacement
            for key in {str(k) for k in redaction.keys}:
                row = table.get(key)
                text = row.get(redaction.field) if row is not None else None
                if row is None or not isinstance(text, str):
                    continue
                replaced = pattern.sub(_constant(replacement), text)
                if replaced != text:
                    row[redaction.field] = replaced
                    redacted.add(key)
        return ErasureOutcome(step.dataset, deleted, updated, len(redacted))


def _erased(
    dataset: str,
    name: str,
    strategy: ErasureStrategy,
    row: Mapping[str, Any],
    pk: str,
    pseudonymise: Pseudonymiser,
) -> Any:
    """The value field ``name`` of ``row`` holds once erased by ``strategy``."""
    if strategy is ErasureStrategy.KEEP:
        return row.get(name)
    if name == pk:
        raise ConnectorError(f"{dataset}.{name} is the record's key: delete the record instead")
    if strategy is ErasureStrategy.DELETE_ROW:
        raise ConnectorError(
            f"{dataset}.{name}: 'delete' erases whole records; list their keys to delete instead"
        )
    return erased_value(strategy, row.get(name), lambda: pseudonymise(dataset, name, row[pk]))


def _constant(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement function giving ``text`` as written (no backslash escapes)."""
    return lambda _match: text


def _normal(value: Any) -> str:
    """A value as an equality search compares it: its text, without trailing blanks."""
    return str(value).rstrip()


def _opener(content: bytes) -> Callable[[], BinaryIO]:
    def open_() -> BinaryIO:
        return BytesIO(content)

    return open_
