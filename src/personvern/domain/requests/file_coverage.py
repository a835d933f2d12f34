"""Files a request cannot be sure of, and files parted from the rows that name them.

**Unattributed files.** A file its owner rule does not attribute to anyone (see
personvern.domain.file_ownership: no usable sidecar, a path the owner path does not
match, a path no row names) may be anyone's, the subject's included. It concerns a
request when both hold:

* the request covers the subject's files: access and portability hand them over,
  erasure deletes them, restriction restricts them (rectification, objection and
  withdrawal of consent change fields of records, which such files do not have);
* the request reached the files dataset: it asked the dataset for the subject's files
  (an identity, a placeholder's value or a path named by a row led there), or found
  the subject's records in a dataset the files hang off (the dataset a reference of
  the files dataset points at, or the owner column's dataset). A subject with no
  record there (a prospect, when documents hang off customers) can have no file there
  by the data map's own rules.

Each concerned dataset with unattributed files is a manual step of the plan: a person
checks the files by hand, and the request ends ``partially_completed`` until they do.

**Rows and files apart.** Where a row names its file (``owner.column``), the plan says
(:class:`FileMismatch`) when a row the request found names a file that is not there,
and when an erasure deletes one of the two but keeps the other: a row kept under a
legal hold whose file is erased, or a file kept under the file dataset's own hold whose
row is erased. The receipt repeats it; none of these leaves work undone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from personvern.domain.datamap import DataMap, Dataset, FileSet
from personvern.domain.file_ownership import owner_column
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.subject_graph import (
    DatasetNode,
    MatchKind,
    SubjectGraph,
    SubjectWalk,
)


def files_dataset(datamap: DataMap, name: str) -> Dataset | None:
    """The dataset "system.dataset" if it declares files, else None."""
    system_key, _, dataset_name = name.partition(".")
    system = datamap.system(system_key)
    if system is None:
        return None
    dataset = next((d for d in system.datasets if d.name == dataset_name), None)
    return dataset if dataset is not None and dataset.files is not None else None


def concerned_file_datasets(
    request_type: RequestType, graph: SubjectGraph, walk: SubjectWalk, datamap: DataMap
) -> tuple[str, ...]:
    """The files datasets whose unattributed files may be the subject's, for this request."""
    if not handler_for(request_type).covers_files:
        return ()
    return tuple(
        node.name
        for node in graph.nodes
        if files_dataset(datamap, node.name) is not None and _reached(node, walk)
    )


def _reached(node: DatasetNode, walk: SubjectWalk) -> bool:
    asked = walk.asked.get(node.name, {})
    if any(asked.values()):
        return True
    parents = {target.rpartition(".")[0] for target in node.references.values()}
    return any(
        match is not MatchKind.MENTION
        for parent in parents
        for _values, match in walk.records(parent).values()
    )


def rows_naming_files(
    datamap: DataMap, walk: SubjectWalk, files: str
) -> tuple[str, dict[str, set[Any]]] | None:
    """For files owned by a column: the rows' dataset and, per file key, the found rows naming it.

    Rows found only because they mention the subject are not the subject's: they name
    no file of theirs. None for a dataset of another owner rule.
    """
    dataset = files_dataset(datamap, files)
    column = owner_column(dataset.files if dataset is not None else None)
    if column is None:
        return None
    rows, field = column
    naming: dict[str, set[Any]] = defaultdict(set)
    for key, (values, match) in walk.records(rows).items():
        value = values.get(field)
        if match is not MatchKind.MENTION and value not in (None, ""):
            naming[str(value)].add(key)
    return rows, dict(naming)


class MismatchKind(StrEnum):
    """How a row and the file it names came apart."""

    #: A row the request found names a file the files dataset does not hold.
    FILE_MISSING = "file_missing"
    #: An erasure keeps a row (a legal hold) but erases the file it names.
    ROW_KEPT_FILE_ERASED = "row_kept_file_erased"
    #: An erasure keeps a file (the file dataset's hold) but erases the row naming it.
    FILE_KEPT_ROW_ERASED = "file_kept_row_erased"


@dataclass(frozen=True)
class FileMismatch:
    """Rows and files of one column-owned dataset that do not stay together, and why."""

    kind: str
    #: "system.dataset" of the rows naming the files.
    rows: str
    #: "system.dataset" of the files.
    files: str
    #: The rows' keys (file_missing, row_kept_file_erased) or the files' (file_kept_row_erased).
    keys: tuple[Any, ...]
    #: What happened, in plain English, without the records' contents.
    description: str


class Disposal(Protocol):
    """What a plan does to one dataset's records (request_plan.DatasetPlan)."""

    @property
    def delete(self) -> tuple[Any, ...]:
        """Records deleted."""

    @property
    def erase_fields(self) -> tuple[Any, ...]:
        """Records kept with their personal fields erased."""

    @property
    def keep(self) -> tuple[Any, ...]:
        """Records kept as they are."""

    @property
    def keep_reason(self) -> str | None:
        """Why records are kept."""

    @property
    def strategies(self) -> Mapping[str, str]:
        """How each personal field of a kept record is erased."""


def file_mismatches(
    request_type: RequestType,
    graph: SubjectGraph,
    walk: SubjectWalk,
    datamap: DataMap,
    parts: Mapping[str, Disposal],
) -> tuple[FileMismatch, ...]:
    """Where rows found and the files they name do not stay together, in graph order."""
    found: list[FileMismatch] = []
    for node in graph.nodes:
        naming = rows_naming_files(datamap, walk, node.name)
        if naming is None:
            continue
        rows, by_file = naming
        found += _apart(request_type, node, walk, datamap, rows, by_file, parts)
    return tuple(found)


def _apart(
    request_type: RequestType,
    node: DatasetNode,
    walk: SubjectWalk,
    datamap: DataMap,
    rows: str,
    by_file: Mapping[str, set[Any]],
    parts: Mapping[str, Disposal],
) -> Iterator[FileMismatch]:
    files = node.name
    found_files = {str(key) for key in walk.records(files)}
    asked = walk.asked.get(files, {}).get(node.key_field, set())
    missing = sorted(
        (
            row
            for path, keys in by_file.items()
            if path in asked and path not in found_files
            for row in keys
        ),
        key=str,
    )
    if missing:
        yield FileMismatch(
            MismatchKind.FILE_MISSING.value,
            rows,
            files,
            tuple(missing),
            f"{_count(len(missing), 'record')} in {rows} {_verb(len(missing))} a file that "
            f"{files} does not hold",
        )
    if not handler_for(request_type).erases:
        return
    row_part, file_part = parts.get(rows), parts.get(files)
    erased_files = {str(key) for key in file_part.delete} if file_part else set()
    kept_files = {str(key) for key in file_part.keep} if file_part else set()
    column = owner_column(_files_of(datamap, files))
    # Rows that no longer name their file afterwards, and rows that still do.
    unlinked: set[Any] = set()
    staying: set[Any] = set()
    if row_part is not None and column is not None:
        unlinked, staying = set(row_part.delete), set(row_part.keep)
        # Fields erased, the row kept: it names the file still, unless its path is erased.
        if column[1] in row_part.strategies:
            unlinked |= set(row_part.erase_fields)
        else:
            staying |= set(row_part.erase_fields)
    kept_rows = sorted(
        (row for path, keys in by_file.items() if path in erased_files for row in keys & staying),
        key=str,
    )
    if kept_rows and row_part is not None:
        reason = f" ({row_part.keep_reason})" if row_part.keep_reason else ""
        yield FileMismatch(
            MismatchKind.ROW_KEPT_FILE_ERASED.value,
            rows,
            files,
            tuple(kept_rows),
            f"{_count(len(kept_rows), 'record')} kept in {rows}{reason} "
            f"{_verb(len(kept_rows))} a file erased from {files}",
        )
    orphaned = sorted(
        (path for path in kept_files if by_file.get(path) and by_file[path] <= unlinked),
        key=str,
    )
    if orphaned and file_part is not None:
        reason = f" ({file_part.keep_reason})" if file_part.keep_reason else ""
        keys = {str(key): key for key in file_part.keep}
        yield FileMismatch(
            MismatchKind.FILE_KEPT_ROW_ERASED.value,
            rows,
            files,
            tuple(keys[path] for path in orphaned),
            f"{_count(len(orphaned), 'file')} kept in {files}{reason} "
            f"{'belongs' if len(orphaned) == 1 else 'belong'} to records erased from {rows}",
        )


def _files_of(datamap: DataMap, name: str) -> FileSet | None:
    dataset = files_dataset(datamap, name)
    return dataset.files if dataset is not None else None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _verb(n: int) -> str:
    return "names" if n == 1 else "name"


def follow_rows(
    datamap: DataMap,
    walk: SubjectWalk,
    files: str,
    keys: Sequence[Any],
    others: Mapping[str, set[Any]],
) -> set[Any]:
    """Files (of ``keys``) named by a row that is another person's: they are that person's too."""
    naming = rows_naming_files(datamap, walk, files)
    if naming is None:
        return set()
    rows, by_file = naming
    theirs = others.get(rows, set())
    return {key for key in keys if by_file.get(str(key), set()) & theirs}
