"""Files in a folder tree: call recordings, scanned documents.

A file dataset (``files:`` in the data map) is a glob under the store's root, such as
``recordings/**/*.wav``. Whom each file belongs to, and so its record, comes from its
owner rule (personvern.domain.file_ownership):

* a JSON sidecar (the default): beside each file lies a sidecar whose name replaces the
  file's suffix (``<id>.wav`` -> ``<id>.json``) and whose keys are the dataset's
  declared fields. The sidecar is the record: its primary key field is the record's
  key, and the files sharing its stem are the record's content;
* its path (``owner.path``): the file is the record, its fields read from its path;
* a row naming it (``owner.column``): the file is the record, its key its path under
  the root; the engine finds it by the paths the rows it found name.

Files the owner rule attributes to nobody are counted (``unattributed``), never
guessed at; the engine reports them (personvern.connectors.files_attribution). Files
without sidecars have nothing beside them to change: an erasure deletes them whole.

The folder is treated as hostile input. Sidecars that are not a JSON object with a
usable primary key are skipped and counted, never guessed at; symbolic links that lead
outside the root are refused, and symlinked folders are not descended into at all.

A folder has no transactions, so erasure is made resumable instead: a record's files
are deleted before its sidecar (a sidecar left behind by an interrupted run is still
found, by itself, and deleted on the next run), and sidecars are rewritten through a
temporary file and ``os.replace``, so a reader sees either the old or the new version.

Sidecars are read once into an index per dataset (personvern.connectors.files_index),
kept while the connector lives (the server pools it), and afterwards only what changed
is read again; every answer is checked against the sidecars it rests on first. A
dataset larger than ``max_index_records`` is read whole on every call instead.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from personvern.connectors.base import ConnectorBase
from personvern.connectors.files_index import (
    MAX_SIDECAR_BYTES,
    DatasetIndex,
    Layout,
    matched_fields,
    read_sidecar,
    text_of,
)
from personvern.connectors.files_retention import FileRecord, delete_unchanged, file_records
from personvern.connectors.port import (
    ConnectorDataError,
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
from personvern.domain.datamap import (
    DataField,
    Dataset,
    ErasureStrategy,
    FileSet,
    IdentityKind,
    System,
    SystemKind,
)
from personvern.domain.identities.kinds import SPELLED, exact_lookup
from personvern.domain.identities.mentions import mention_pattern
from personvern.domain.records import MASK, erased_value

__all__ = [
    "DEFAULT_MAX_INDEX_RECORDS",
    "DEFAULT_RECHECK_SECONDS",
    "MASK",
    "MAX_SIDECAR_BYTES",
    "TEMP_SUFFIX",
    "FileConnector",
]

log = logging.getLogger("personvern.connectors.files")

#: Suffix of the temporary file a sidecar is rewritten through (never a sidecar suffix).
TEMP_SUFFIX = ".personvern-tmp"
#: Records kept in memory per dataset before the connector reads the folder on every call
#: instead: about 1.6 GB for records like the demo's recordings (~800 bytes each, see
#: files_index); the demo at a million customers holds some 400 000 recordings.
DEFAULT_MAX_INDEX_RECORDS = 2_000_000
#: Every sidecar is stat'ed at least this often (seconds), so one rewritten in place by
#: another program, without a rename, is found by its new values within this time.
DEFAULT_RECHECK_SECONDS = 300.0


@dataclass
class _Slot:
    """One dataset's index and the lock that serialises everything done with it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    index: DatasetIndex | None = None
    #: Whether the fall-back to reading every sidecar per call has been logged.
    warned: bool = False


class FileConnector(ConnectorBase):
    """A ``files`` system: one folder tree whose datasets are globs with JSON sidecars."""

    def __init__(
        self,
        system: System,
        root: Path,
        *,
        max_index_records: int = DEFAULT_MAX_INDEX_RECORDS,
        recheck_after: float = DEFAULT_RECHECK_SECONDS,
    ) -> None:
        if system.kind is not SystemKind.FILES:
            raise ValueError(f"{system.key} is a {system.kind.value} system, not files")
        self.system = system
        self.root = Path(root)
        #: Datasets with more records than this are read whole on every call, not kept.
        self.max_index_records = max_index_records
        #: Seconds within which a sidecar changed in place is seen (0: on every call).
        self.recheck_after = recheck_after
        #: HTTP-free analogue of SQL statements: one per question asked of a dataset.
        self.statements_issued = 0
        #: Sidecars skipped as unreadable or malformed, summed over every question.
        self.skipped_sidecars = 0
        #: Content files without a sidecar (nobody can say whose they are), summed likewise.
        self.files_without_sidecar = 0
        #: Symbolic links refused because they lead outside the root, summed likewise.
        self.refused_links = 0
        #: Sidecar files read and parsed, summed over every question.
        self.sidecars_read = 0
        self._stats_lock = threading.Lock()
        self._slots = {ds.name: _Slot() for ds in system.datasets}

    # -- the port ----------------------------------------------------------------------

    def check(self) -> None:
        """Raise ConnectorUnavailableError unless the root folder can be read."""
        self._real_root()

    def locate(self, dataset: str, criteria: Criteria) -> list[Record]:
        """Every record of ``dataset`` whose sidecar matches ``criteria``, from the index."""
        ds = self._dataset(dataset)
        self._check_fields(ds, [*criteria.exact, *criteria.mentions])
        if not criteria:
            return []
        exact = self._exact_sets(ds, criteria)
        # As given: matched_fields searches them the way mention_pattern confirms.
        mentions = {
            name: sorted(n for n in needles if n.strip())
            for name, needles in criteria.mentions.items()
        }
        excluded = {str(k) for k in criteria.exclude}
        records: list[Record] = []
        with self._index(ds) as index:
            layout = index.layout
            for group in index.find(exact, mentions, excluded):
                self._check_owners(ds, index, group)
                matched = frozenset(
                    name
                    for item in group
                    for name in matched_fields(layout, item.values, exact, mentions)
                )
                if matched:
                    first = group[0]
                    assert first.key is not None
                    # Copies: the caller may change what it gets; the index must not change.
                    values = {
                        n: _copied(v) for n, v in zip(layout.names, first.values, strict=True)
                    }
                    records.append(Record(key=first.key, values=values, matched_fields=matched))
        return records

    def export_files(self, dataset: str, keys: Sequence[Key]) -> Iterator[ExportedFile]:
        """The content files of the given records, as they are on disk."""
        ds = self._dataset(dataset)
        if ds.files is None or not keys:
            return
        media_type = ds.files.media_type
        with self._index(ds) as index:
            items = index.records_of(keys)
            self._check_owners(ds, index, items)
            found = [(item.key, path) for item in items for path in index.content_paths(item)]
        # Yielded outside the lock: the caller may take its time over each file.
        for key, path in found:
            assert key is not None
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue  # erased since the look-up
            yield ExportedFile(
                dataset=dataset,
                key=key,
                name=path.name,
                media_type=media_type,
                size=size,
                open=self._opener(path),
            )

    def erase(
        self, steps: Sequence[ErasureStep], pseudonymise: Pseudonymiser
    ) -> list[ErasureOutcome]:
        """Delete records' files and sidecars, erase fields, redact mentions; idempotent."""
        outcomes: list[ErasureOutcome] = []
        for step in steps:
            ds = self._dataset(step.dataset)
            self._check_updates(ds, step)
            if not step:
                outcomes.append(ErasureOutcome(step.dataset))
                continue
            with self._index(ds) as index, self._changing(), index.changing():
                deleted = self._delete(ds, index, step.delete)
                gone = {str(k) for k in step.delete}
                updated, redacted = self._rewrite(ds, index, step, gone, pseudonymise)
            outcomes.append(ErasureOutcome(step.dataset, deleted, updated, redacted))
        return outcomes

    def rectify(self, dataset: str, keys: Sequence[Key], changes: Mapping[str, Any]) -> int:
        """Set the given sidecar fields of the given records; returns how many changed."""
        ds = self._dataset(dataset)
        self._check_fields(ds, list(changes))
        pk = self._primary_key(ds)
        if pk.name in changes:
            raise ConnectorError(f"{self.system.key}.{dataset}: the primary key cannot be changed")
        if not keys or not changes:
            return 0
        if self._owned_without_sidecar(ds):
            raise ConnectorError(
                f"{self.system.key}.{dataset}: the values of files owned by their path or "
                "a row are not stored beside them, so personvern cannot change them",
                hint="rename or move the files by hand",
            )
        try:
            # As the sidecar will hold them (a datetime becomes its ISO text), so that a
            # repeated call compares equal and changes nothing.
            stored = json.loads(json.dumps(dict(changes), default=_json_default))
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"{self.system.key}.{dataset}: {exc}") from exc
        changed: set[str] = set()
        with self._index(ds) as index, index.changing():
            for item in index.records_of(keys):
                path = index.sidecar_path(item)
                data = self._current(pk, path, item.key)
                if data is None:
                    continue
                if any(data.get(name) != value for name, value in stored.items()):
                    index.touch(item)
                    with self._changing():
                        self._write_sidecar(path, {**data, **stored})
                    index.reload(item)
                    changed.add(str(item.key))
        return len(changed)

    def unattributed(self, dataset: str) -> int:
        """Files ``dataset``'s pattern lists that its owner rule attributes to nobody.

        Files without a usable sidecar, or on a path the owner path does not match. For
        files owned by a column, whether a row names each is for the rows' system to say
        (personvern.connectors.files_attribution asks it).
        """
        with self._index(self._dataset(dataset)) as index:
            return index.unattributed

    def keys(self, dataset: str) -> list[Key]:
        """The key of every record of ``dataset`` (for files owned by a column, their paths)."""
        with self._index(self._dataset(dataset)) as index:
            return list(index.keys())

    def retention_records(self, dataset: str) -> list[FileRecord]:
        """Every record of ``dataset`` with its files' stamps, for a retention sweep."""
        with self._index(self._dataset(dataset)) as index:
            return file_records(index)

    def delete_unchanged(self, dataset: str, records: Sequence[FileRecord]) -> list[FileRecord]:
        """Delete the records whose files are still as stamped; returns those deleted."""
        ds = self._dataset(dataset)
        with self._index(ds) as index, self._changing(), index.changing():
            return [r for r, gone in delete_unchanged(index, records, TEMP_SUFFIX) if gone]

    def close(self) -> None:
        """Forget the indexes (every call opens and closes its own files)."""
        for slot in self._slots.values():
            with slot.lock:
                slot.index = None

    # -- reading the folder ------------------------------------------------------------

    def _dataset(self, name: str) -> Dataset:
        return declared_dataset(self.system, name)

    def _primary_key(self, ds: Dataset) -> DataField:
        return primary_key_field(self.system, ds)

    def _fileset(self, ds: Dataset) -> FileSet:
        if ds.files is None:
            raise ConnectorError(
                f"{self.system.key}.{ds.name} has no files: section",
                hint="a files system describes each dataset by a glob and its owner rule",
            )
        if ds.files.owner is None and not re.fullmatch(r"\.[A-Za-z0-9_.\-]+", ds.files.sidecar):
            raise ConnectorError(
                f"{self.system.key}.{ds.name}: sidecar suffix {ds.files.sidecar!r} is unusable",
                hint='a suffix such as ".json"',
            )
        return ds.files

    def _owned_without_sidecar(self, ds: Dataset) -> bool:
        return self._fileset(ds).owner is not None

    def _check_owners(self, ds: Dataset, index: DatasetIndex, items: Sequence[Any]) -> None:
        """Refuse files sharing a key under different owners (see DatasetIndex.conflicting)."""
        by_key: dict[str, list[Any]] = {}
        for item in items:
            by_key.setdefault(str(item.key), []).append(item)
        for key, group in by_key.items():
            if index.conflicting(group):
                raise ConnectorDataError(
                    self.system.key,
                    ds.name,
                    [key],
                    f"{len(group)} files carry this key on paths naming different owners; "
                    "rename them so that each key is one file's",
                )

    def _check_fields(self, ds: Dataset, names: Sequence[str]) -> None:
        declared = {f.name for f in ds.fields}
        unknown = sorted(set(names) - declared)
        if unknown:
            # An undeclared field would silently match nothing and report "no data".
            raise ConnectorError(
                f"{self.system.key}.{ds.name} declares no field {', '.join(unknown)}"
            )

    def _real_root(self) -> Path:
        try:
            real = self.root.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise ConnectorUnavailableError(self.system.key, f"{self.root} is missing") from exc
        if not real.is_dir() or not os.access(real, os.R_OK | os.X_OK):
            raise ConnectorUnavailableError(
                self.system.key, f"{self.root} is not a readable folder"
            )
        return real

    @contextmanager
    def _index(self, ds: Dataset) -> Iterator[DatasetIndex]:
        """The dataset's index, brought up to date, held under its lock for the caller."""
        layout = Layout.of(ds, self._fileset(ds), self._primary_key(ds))
        slot = self._slots[ds.name]
        with slot.lock:
            real_root = self._real_root()
            index = slot.index
            if index is None or index.real_root != real_root:
                # First use, or the root now leads elsewhere: one pass over everything.
                index = DatasetIndex(self.system.key, layout, real_root, self.recheck_after)
            # A refresh that fails half-way leaves nothing to trust: start over next time.
            slot.index = None
            index.refresh()
            held = index.records + index.skipped
            if held <= self.max_index_records:
                slot.index = index
            elif not slot.warned:
                slot.warned = True
                log.warning(
                    "%s.%s: %d sidecars exceed max_index_records (%d); each call reads "
                    "them all instead of keeping them in memory",
                    self.system.key,
                    ds.name,
                    held,
                    self.max_index_records,
                )
            with self._stats_lock:
                self.statements_issued += 1
                self.skipped_sidecars += index.skipped
                self.files_without_sidecar += index.orphaned
                self.refused_links += index.refused
                self.sidecars_read += index.take_reads()
            # The caller's own changes go through the index (forget, reload), so an error
            # part-way through them leaves it right: it stays.
            yield index

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Report a file that cannot be changed (read-only mount, full disk) as unavailable."""
        try:
            yield
        except OSError as exc:
            raise ConnectorUnavailableError(
                self.system.key, f"cannot change {exc.filename}: {exc.strerror}"
            ) from exc

    def _current(self, pk: DataField, path: Path, key: Key | None) -> dict[str, Any] | None:
        """A sidecar as it is on disk now, undeclared keys and all, if it is still ``key``'s."""
        data = read_sidecar(path)
        if data is None or str(data.get(pk.name)) != str(key):
            return None
        return data

    def _opener(self, path: Path) -> Callable[[], BinaryIO]:
        root = self.root

        def open_file() -> BinaryIO:
            # Checked again at opening: the link may have been swapped since the look-up.
            real = path.resolve(strict=True)
            if not real.is_relative_to(root.resolve(strict=True)):
                raise ConnectorError(f"{path.name} now leads outside {root}")
            return real.open("rb")

        return open_file

    # -- matching ----------------------------------------------------------------------

    @staticmethod
    def _exact_sets(ds: Dataset, criteria: Criteria) -> dict[str, set[str]]:
        emails = {f.name for f in ds.fields if f.identity is IdentityKind.EMAIL}
        # Phone numbers and national ids are looked up in every spelling asked for (the
        # index keeps sidecar values as written), each one that reads as the identity.
        spelled = {
            f.name: f.identity
            for f in ds.fields
            if f.identity in SPELLED and f.identity is not IdentityKind.EMAIL
        }
        # Compared as text_of() keeps the sidecars' values: e-mail in canonical form.
        return {
            name: set(exact_lookup(spelled[name], values).spellings)
            if name in spelled
            else {t for v in values if (t := text_of(v, name in emails)) is not None}
            for name, values in criteria.exact.items()
            if values
        }

    # -- erasing -----------------------------------------------------------------------

    def _check_updates(self, ds: Dataset, step: ErasureStep) -> None:
        self._check_fields(ds, [*step.update_fields, *(r.field for r in step.redactions)])
        if self._owned_without_sidecar(ds) and (
            (step.update and step.update_fields) or step.redactions
        ):
            raise ConnectorError(
                f"{self.system.key}.{ds.name}: files owned by their path or a row are erased "
                "whole; they have no fields stored beside them to erase or redact",
                hint="remove erasure strategies and free_text from the dataset's fields",
            )
        pk = self._primary_key(ds)
        if pk.name in step.update_fields:
            raise ConnectorError(f"{self.system.key}.{ds.name}: the primary key cannot be erased")
        if ErasureStrategy.DELETE_ROW in step.update_fields.values():
            raise ConnectorError(
                f"{self.system.key}.{ds.name}: whole records are erased through delete, "
                "not update_fields"
            )

    def _delete(self, ds: Dataset, index: DatasetIndex, keys: Sequence[Key]) -> int:
        deleted: set[str] = set()
        items = index.records_of(keys)
        self._check_owners(ds, index, items)
        for item in items:
            index.touch(item)
            # Content first, sidecar last: an interrupted run leaves the sidecar, which is
            # found again and finishes the job next time.
            for path in index.content_paths(item):
                try:
                    path.unlink()
                    deleted.add(str(item.key))
                except FileNotFoundError:
                    pass
            if not index.layout.sidecars:
                index.forget(item)
                continue
            sidecar = index.sidecar_path(item)
            sidecar.with_name(sidecar.name + TEMP_SUFFIX).unlink(missing_ok=True)
            try:
                sidecar.unlink()
                deleted.add(str(item.key))
            except FileNotFoundError:
                pass
            index.forget(item)
        return len(deleted)

    def _rewrite(
        self,
        ds: Dataset,
        index: DatasetIndex,
        step: ErasureStep,
        gone: set[str],
        pseudonymise: Pseudonymiser,
    ) -> tuple[int, int]:
        updates = {str(k) for k in step.update} if step.update_fields else set()
        touched = updates | {str(k) for r in step.redactions for k in r.keys}
        pk = self._primary_key(ds)
        updated: set[str] = set()
        redacted: set[str] = set()
        for item in index.records_of(sorted(touched - gone)):
            assert item.key is not None
            key = str(item.key)
            path = index.sidecar_path(item)
            # Read whole: the index keeps declared fields only, the rewrite keeps the rest.
            data = self._current(pk, path, item.key)
            if data is None:
                continue
            new = dict(data)
            if key in updates:
                for name, strategy in step.update_fields.items():
                    new[name] = erased_value(
                        strategy,
                        new.get(name),
                        partial(pseudonymise, ds.name, name, item.key),
                    )
                if new != data:
                    updated.add(key)
            before_redaction = dict(new)
            for redaction in step.redactions:
                if key in {str(k) for k in redaction.keys}:
                    new[redaction.field] = _redact(
                        new.get(redaction.field), redaction.needles, redaction.replacement
                    )
            if new != before_redaction:
                redacted.add(key)
            if new != data:
                index.touch(item)
                self._write_sidecar(path, new)
                index.reload(item)
        return len(updated), len(redacted)

    @staticmethod
    def _write_sidecar(path: Path, data: Mapping[str, Any]) -> None:
        """Replace a sidecar atomically, keeping its permissions and its undeclared keys."""
        temp = path.with_name(path.name + TEMP_SUFFIX)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            return  # deleted meanwhile: nothing left to change
        try:
            text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"cannot write {path.name}: {exc}") from exc
        # O_NOFOLLOW: a link planted under the temporary name must not redirect the write.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            temp.replace(path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise


def _copied(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _redact(value: Any, needles: Sequence[str], replacement: str) -> Any:
    """``value`` with every mention of a needle replaced (see mention_pattern), in one pass."""
    wanted = sorted({n for n in needles if n.strip()}, key=len, reverse=True)
    if not isinstance(value, str) or not wanted:
        return value
    # One alternation, longest first ("+47 912 34 567" goes whole before "912 34 567"),
    # whole mentions only.
    return mention_pattern(wanted).sub(lambda _match: replacement, value)
