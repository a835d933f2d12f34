"""The port every connector implements: find, hand over, erase and correct a subject's records.

The request engine decides *what* to do (which identities to look for, which rows to
erase and which the law keeps); a connector only knows *how* to do it in one kind of
store. Work is pushed down: ``locate`` answers one dataset's criteria with one query
(or one call), ``erase`` runs one set-based statement per dataset and change, inside
one transaction per system, and running it again changes nothing.

Values cross the port as plain Python values; keys are the dataset's primary key,
which the data map names (``primary_key: true``), as ``int`` or ``str``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from personvern.domain.datamap import DataField, Dataset, System
from personvern.domain.records import (
    Criteria,
    ErasureOutcome,
    ErasureStep,
    ExportedFile,
    IndexedMentions,
    Key,
    Pseudonymiser,
    Record,
    Redaction,
)
from personvern.errors import ErrorKind, PersonvernError

# The values that cross the port live in the domain; connectors import them from here.
__all__ = [
    "Connector",
    "ConnectorContext",
    "ConnectorDataError",
    "ConnectorError",
    "ConnectorNotConfiguredError",
    "ConnectorResponseError",
    "ConnectorUnavailableError",
    "Criteria",
    "ErasureOutcome",
    "ErasureStep",
    "ExportedFile",
    "FileInventory",
    "FreeTextSource",
    "IndexedMentions",
    "Key",
    "Pseudonymiser",
    "Record",
    "Redaction",
    "TextRow",
    "declared_dataset",
    "primary_key_field",
]


class ConnectorError(PersonvernError):
    """A connector could not do what the engine asked."""

    kind = ErrorKind.SYSTEM_FAILED
    title = "Connected system failed"


class ConnectorUnavailableError(ConnectorError):
    """The system cannot be reached now; the request waits and retries."""

    kind = ErrorKind.UNAVAILABLE
    title = "Connected system unavailable"

    def __init__(self, system: str, reason: str) -> None:
        super().__init__(
            f"{system} cannot be reached: {reason}",
            hint="the request waits and is retried; the deadline keeps running",
        )
        self.system = system
        self.reason = reason


class ConnectorDataError(ConnectorError):
    """A record cannot be read as stored; retrying will not help, a person must fix it.

    The message names the system, the dataset and the keys of the records, never
    their values: those are personal data, and the message is kept on the request.
    """

    title = "Unreadable record in a connected system"

    def __init__(self, system: str, dataset: str | None, keys: Sequence[str], reason: str) -> None:
        where = f"{system}.{dataset}" if dataset else system
        if not keys:
            what = "a record cannot be read"
            fix = "find and fix or remove it"
        elif len(keys) == 1:
            what = f"the record with key {keys[0]} cannot be read"
            fix = "fix or remove the record"
        else:
            what = f"the records with keys {', '.join(keys)} cannot be read"
            fix = "fix or remove the records"
        super().__init__(f"{where}: {what} ({reason}); {fix}, then run the request again")
        self.system = system
        self.dataset = dataset
        self.keys = tuple(keys)
        self.reason = reason


class ConnectorNotConfiguredError(ConnectorError):
    """The data map names a connection variable that is not set."""

    kind = ErrorKind.UNAVAILABLE
    title = "Connected system not configured"


class ConnectorResponseError(ConnectorError):
    """The system answered with something that breaks the contract (treated as hostile)."""


class Connector(Protocol):
    """One system of the data map, reachable for requests."""

    system: System

    def check(self) -> None:
        """Raise ConnectorUnavailableError if the system cannot be reached now."""
        ...

    def locate(self, dataset: str, criteria: Criteria) -> list[Record]:
        """Every record of ``dataset`` matching ``criteria``, in one pushed-down query."""
        ...

    def export_files(self, dataset: str, keys: Sequence[Key]) -> Iterator[ExportedFile]:
        """The files behind the given records (nothing for datasets without files)."""
        ...

    def erase(
        self, steps: Sequence[ErasureStep], pseudonymise: Pseudonymiser
    ) -> list[ErasureOutcome]:
        """Apply the steps in order (children first) in one transaction; idempotent."""
        ...

    def rectify(self, dataset: str, keys: Sequence[Key], changes: Mapping[str, Any]) -> int:
        """Set the given fields of the given records; returns how many records changed."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class FileInventory(Protocol):
    """A connector that can list a file dataset's files, to count those nobody owns."""

    def unattributed(self, dataset: str) -> int:
        """Files the dataset's pattern lists that its owner rule attributes to nobody."""
        ...

    def keys(self, dataset: str) -> list[Key]:
        """The key of every record of the dataset (for files owned by a column, the paths)."""
        ...


@dataclass(frozen=True)
class TextRow:
    """One record's free text as a mention index reads it: key, change marker, texts."""

    key: Key
    #: The value of the dataset's change marker (None where the record has none).
    marker: Any
    #: Free-text field -> its value, as stored.
    texts: Mapping[str, Any]


@runtime_checkable
class FreeTextSource(Protocol):
    """A connector whose free text personvern indexes itself (personvern.engine.mention_index)."""

    def marker_kind(self, dataset: str, marker: str) -> str:
        """What the change marker holds: "integer", "datetime" or "date"; else ConnectorError."""
        ...

    def served_by_the_database(self, dataset: str) -> frozenset[str]:
        """The free-text fields an index of the database itself serves substring search on."""
        ...

    def count_texts(self, dataset: str, marker: str, after: Any = None) -> int:
        """How many records read_texts would read."""
        ...

    def read_texts(
        self,
        dataset: str,
        fields: Sequence[str],
        marker: str,
        after: Any = None,
        batch: int = 1000,
    ) -> Iterator[list[TextRow]]:
        """The records (all, or those whose marker is past ``after``), batch by batch,
        streamed from the store so that memory holds one batch at a time."""
        ...


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector factory needs besides the system: where to put temporary files."""

    work_dir: Path
    environ: Mapping[str, str]


def declared_dataset(system: System, name: str) -> Dataset:
    """The dataset ``name`` of ``system`` as the data map declares it, or ConnectorError."""
    for dataset in system.datasets:
        if dataset.name == name:
            return dataset
    raise ConnectorError(f"{system.key}.{name} is not a dataset of the data map")


def primary_key_field(system: System, dataset: Dataset) -> DataField:
    """The field the data map marks ``primary_key``, or ConnectorError."""
    field_ = next((f for f in dataset.fields if f.primary_key), None)
    if field_ is None:
        raise ConnectorError(f"{system.key}.{dataset.name} declares no primary key field")
    return field_
