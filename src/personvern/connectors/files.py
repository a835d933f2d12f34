"""Files in a folder tree, described by JSON sidecars: call recordings, scanned documents.

A file dataset (``files:`` in the data map) is a glob under the store's root, such as
``recordings/**/*.wav``; beside each file lies a JSON sidecar whose name replaces the
file's suffix (``<id>.wav`` -> ``<id>.json``) and whose keys are the dataset's declared
fields. The sidecar is the record: its primary key field is the record's key, and the
files sharing its stem are the record's content.

The folder is treated as hostile input. Sidecars that are not a JSON object with a
usable primary key are skipped and counted, never guessed at; symbolic links that lead
outside the root are refused, and symlinked folders are not descended into at all.

A folder has no transactions, so erasure is made resumable instead: a record's files
are deleted before its sidecar (a sidecar left behind by an interrupted run is still
found, by itself, and deleted on the next run), and sidecars are rewritten through a
temporary file and ``os.replace``, so a reader sees either the old or the new version.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

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

log = logging.getLogger("personvern.connectors.files")

#: What a masked field holds after erasure (the same in every connector).
MASK = "***"
#: Sidecars are small metadata; anything larger is not one of ours and is not parsed.
MAX_SIDECAR_BYTES = 1024 * 1024
#: Suffix of the temporary file a sidecar is rewritten through (never a sidecar suffix).
TEMP_SUFFIX = ".personvern-tmp"
_WILDCARD = re.compile(r"[*?\[]")


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would break every export downstream.
    raise ValueError(f"{name} is not a JSON value")


@dataclass
class _Entry:
    """One record in the folder: its sidecar, the content files beside it, its parsed data."""

    key: Key
    sidecar: Path
    data: dict[str, Any]
    files: list[Path] = field(default_factory=list)


@dataclass
class _Scan:
    """The outcome of one pass over a dataset's part of the folder."""

    #: Entries grouped by str(key): copies of a sidecar with the same key are one record.
    entries: dict[str, list[_Entry]] = field(default_factory=dict)
    skipped_sidecars: int = 0
    files_without_sidecar: int = 0
    refused_links: int = 0

    def matching(self, keys: Sequence[Key] | frozenset[Key]) -> list[_Entry]:
        """The entries whose key is one of ``keys`` (compared as strings), in scan order."""
        wanted = {str(k) for k in keys}
        return [e for k, group in self.entries.items() if k in wanted for e in group]


def _split_pattern(pattern: str) -> tuple[str, ...]:
    parts = PurePosixPath(pattern).parts
    if not parts or pattern.startswith("/") or ".." in parts:
        raise ConnectorError(f"file pattern {pattern!r} must be a relative glob inside the root")
    return parts


def _glob_match(parts: Sequence[str], segments: Sequence[str]) -> bool:
    """Whether a relative path (as parts) matches a glob's segments, ``**`` spanning folders."""
    if not segments:
        return not parts
    head, rest = segments[0], segments[1:]
    if head == "**":
        return any(_glob_match(parts[i:], rest) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], head) and _glob_match(parts[1:], rest)


def _strip_suffix(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return name[: -len(suffix)] if suffix else name


class FileConnector:
    """A ``files`` system: one folder tree whose datasets are globs with JSON sidecars."""

    def __init__(self, system: System, root: Path) -> None:
        if system.kind is not SystemKind.FILES:
            raise ValueError(f"{system.key} is a {system.kind.value} system, not files")
        self.system = system
        self.root = Path(root)
        #: HTTP-free analogue of SQL statements: one per pass over the folder.
        self.statements_issued = 0
        #: Sidecars skipped as unreadable or malformed, summed over every pass.
        self.skipped_sidecars = 0
        #: Content files without a sidecar (nobody can say whose they are), summed likewise.
        self.files_without_sidecar = 0
        #: Symbolic links refused because they lead outside the root, summed likewise.
        self.refused_links = 0

    # -- the port ----------------------------------------------------------------------

    def check(self) -> None:
        """Raise ConnectorUnavailableError unless the root folder can be read."""
        self._real_root()

    def locate(self, dataset: str, criteria: Criteria) -> list[Record]:
        """Every record of ``dataset`` whose sidecar matches ``criteria``, in one pass."""
        ds = self._dataset(dataset)
        self._check_fields(ds, [*criteria.exact, *criteria.mentions])
        if not criteria:
            return []
        exact = self._exact_sets(ds, criteria)
        mentions = {
            name: [n.casefold() for n in needles if n.strip()]
            for name, needles in criteria.mentions.items()
        }
        excluded = {str(k) for k in criteria.exclude}
        scan = self._scan(ds)
        records: list[Record] = []
        for key, group in scan.entries.items():
            if key in excluded:
                continue
            first = group[0]
            matched = frozenset(
                name
                for entry in group
                for name in self._matched_fields(ds, entry.data, exact, mentions)
            )
            if matched:
                values = {f.name: first.data.get(f.name) for f in ds.fields}
                records.append(Record(key=first.key, values=values, matched_fields=matched))
        return records

    def export_files(self, dataset: str, keys: Sequence[Key]) -> Iterator[ExportedFile]:
        """The content files of the given records, as they are on disk."""
        ds = self._dataset(dataset)
        if ds.files is None or not keys:
            return
        media_type = ds.files.media_type
        for entry in self._scan(ds).matching(keys):
            for path in entry.files:
                try:
                    size = path.stat().st_size
                except FileNotFoundError:
                    continue  # erased since the scan
                yield ExportedFile(
                    dataset=dataset,
                    key=entry.key,
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
            scan = self._scan(ds)
            with self._changing():
                deleted = self._delete(scan.matching(step.delete))
                gone = {str(k) for k in step.delete}
                updated, redacted = self._rewrite(ds, scan, step, gone, pseudonymise)
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
        try:
            # As the sidecar will hold them (a datetime becomes its ISO text), so that a
            # repeated call compares equal and changes nothing.
            stored = json.loads(json.dumps(dict(changes), default=_json_default))
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"{self.system.key}.{dataset}: {exc}") from exc
        changed: set[str] = set()
        for entry in self._scan(ds).matching(keys):
            if any(entry.data.get(name) != value for name, value in stored.items()):
                with self._changing():
                    self._write_sidecar(entry.sidecar, {**entry.data, **stored})
                changed.add(str(entry.key))
        return len(changed)

    def close(self) -> None:
        """Nothing to release: every pass opens and closes its own files."""

    # -- reading the folder ------------------------------------------------------------

    def _dataset(self, name: str) -> Dataset:
        for ds in self.system.datasets:
            if ds.name == name:
                return ds
        raise ConnectorError(f"{self.system.key}.{name} is not a dataset of the data map")

    def _primary_key(self, ds: Dataset) -> DataField:
        pk = next((f for f in ds.fields if f.primary_key), None)
        if pk is None:
            raise ConnectorError(f"{self.system.key}.{ds.name} declares no primary key field")
        return pk

    def _fileset(self, ds: Dataset) -> FileSet:
        if ds.files is None:
            raise ConnectorError(
                f"{self.system.key}.{ds.name} has no files: section",
                hint="a files system describes each dataset by a glob and its sidecars",
            )
        if not re.fullmatch(r"\.[A-Za-z0-9_.\-]+", ds.files.sidecar):
            raise ConnectorError(
                f"{self.system.key}.{ds.name}: sidecar suffix {ds.files.sidecar!r} is unusable",
                hint='a suffix such as ".json"',
            )
        return ds.files

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

    def _scan(self, ds: Dataset) -> _Scan:
        """One pass: every sidecar of ``ds`` (sorted), parsed, with its content files."""
        fileset = self._fileset(ds)
        pk = self._primary_key(ds)
        real_root = self._real_root()
        self.statements_issued += 1
        scan = _Scan()
        sidecars, contents = self._walk(fileset, real_root, scan)
        for stem in sorted(sidecars):
            data = self._read_sidecar(sidecars[stem])
            key = data.get(pk.name) if data is not None else None
            if data is None or not self._usable_key(key):
                scan.skipped_sidecars += 1
                log.warning("%s: skipped malformed sidecar %s", self.system.key, sidecars[stem])
                continue
            assert isinstance(key, int | str)
            entry = _Entry(key, sidecars[stem], data, contents.pop(stem, []))
            scan.entries.setdefault(str(key), []).append(entry)
        scan.files_without_sidecar = sum(len(paths) for paths in contents.values())
        self.skipped_sidecars += scan.skipped_sidecars
        self.files_without_sidecar += scan.files_without_sidecar
        self.refused_links += scan.refused_links
        return scan

    def _walk(
        self, fileset: FileSet, real_root: Path, scan: _Scan
    ) -> tuple[dict[str, Path], dict[str, list[Path]]]:
        """Sidecars and content files of a file set, each by its stem (path less suffix)."""
        segments = _split_pattern(fileset.pattern)
        # Sidecars are matched by the pattern with the file suffix left off, so a sidecar
        # whose file an interrupted erasure already deleted is still found.
        stem_segments = (*segments[:-1], _strip_suffix(segments[-1]))
        suffix = fileset.sidecar
        # Walk only below the pattern's literal folders ("recordings/" of recordings/**/*.wav).
        prefix: list[str] = []
        for segment in segments[:-1]:
            if segment == "**" or _WILDCARD.search(segment):
                break
            prefix.append(segment)
        start = real_root.joinpath(*prefix)
        sidecars: dict[str, Path] = {}
        contents: dict[str, list[Path]] = {}
        if not start.is_dir() or not self._inside(start, real_root):
            return sidecars, contents
        # os.walk never enters a linked folder, wherever it leads, so every plain file
        # found lies inside the root and only links to files need resolving. A folder it
        # cannot read raises: skipping it would answer an access request incompletely.
        for folder, dirnames, filenames in os.walk(start, onerror=self._unreadable):
            dirnames.sort()
            base = Path(folder)
            for name in sorted(filenames):
                path = base / name
                parts = path.relative_to(real_root).parts
                if name.endswith(suffix):
                    stem_parts = (*parts[:-1], name[: -len(suffix)])
                    if not _glob_match(stem_parts, stem_segments):
                        continue
                    is_sidecar = True
                elif _glob_match(parts, segments):
                    stem_parts = (*parts[:-1], _strip_suffix(name))
                    is_sidecar = False
                else:
                    continue
                if path.is_symlink() and not self._inside(path, real_root):
                    scan.refused_links += 1
                    log.warning("%s: refused %s, a link leading outside", self.system.key, path)
                    continue
                stem = "/".join(stem_parts)
                if is_sidecar:
                    sidecars[stem] = path
                else:
                    contents.setdefault(stem, []).append(path)
        return sidecars, contents

    def _unreadable(self, error: OSError) -> None:
        raise ConnectorUnavailableError(
            self.system.key, f"cannot read {error.filename}: {error.strerror}"
        )

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Report a file that cannot be changed (read-only mount, full disk) as unavailable."""
        try:
            yield
        except OSError as exc:
            raise ConnectorUnavailableError(
                self.system.key, f"cannot change {exc.filename}: {exc.strerror}"
            ) from exc

    @staticmethod
    def _inside(path: Path, real_root: Path) -> bool:
        try:
            return path.resolve(strict=True).is_relative_to(real_root)
        except (OSError, RuntimeError):
            return False  # a dangling or looping link

    @staticmethod
    def _usable_key(key: object) -> bool:
        # bool is an int to Python, but never a key; neither is an empty or huge string.
        if isinstance(key, bool):
            return False
        if isinstance(key, int):
            return True
        return isinstance(key, str) and 0 < len(key) <= 200

    @staticmethod
    def _read_sidecar(path: Path) -> dict[str, Any] | None:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_SIDECAR_BYTES + 1)
        except OSError:
            return None
        if len(raw) > MAX_SIDECAR_BYTES:
            return None
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def _opener(self, path: Path) -> Callable[[], BinaryIO]:
        root = self.root

        def open_file() -> BinaryIO:
            # Checked again at opening: the link may have been swapped since the scan.
            real = path.resolve(strict=True)
            if not real.is_relative_to(root.resolve(strict=True)):
                raise ConnectorError(f"{path.name} now leads outside {root}")
            return real.open("rb")

        return open_file

    # -- matching ----------------------------------------------------------------------

    @staticmethod
    def _exact_sets(ds: Dataset, criteria: Criteria) -> dict[str, set[str]]:
        emails = {f.name for f in ds.fields if f.identity is IdentityKind.EMAIL}
        return {
            name: {str(v).casefold() if name in emails else str(v) for v in values}
            for name, values in criteria.exact.items()
            if values
        }

    @staticmethod
    def _matched_fields(
        ds: Dataset,
        data: Mapping[str, Any],
        exact: Mapping[str, set[str]],
        mentions: Mapping[str, list[str]],
    ) -> set[str]:
        emails = {f.name for f in ds.fields if f.identity is IdentityKind.EMAIL}
        matched: set[str] = set()
        for name, wanted in exact.items():
            value = data.get(name)
            if value is None or isinstance(value, dict | list):
                continue
            text = str(value).casefold() if name in emails else str(value)
            if text in wanted:
                matched.add(name)
        for name, needles in mentions.items():
            value = data.get(name)
            if isinstance(value, str):
                folded = value.casefold()
                if any(n in folded for n in needles):
                    matched.add(name)
        return matched

    # -- erasing -----------------------------------------------------------------------

    def _check_updates(self, ds: Dataset, step: ErasureStep) -> None:
        self._check_fields(ds, [*step.update_fields, *(r.field for r in step.redactions)])
        pk = self._primary_key(ds)
        if pk.name in step.update_fields:
            raise ConnectorError(f"{self.system.key}.{ds.name}: the primary key cannot be erased")
        if ErasureStrategy.DELETE_ROW in step.update_fields.values():
            raise ConnectorError(
                f"{self.system.key}.{ds.name}: whole records are erased through delete, "
                "not update_fields"
            )

    @staticmethod
    def _delete(entries: Sequence[_Entry]) -> int:
        deleted: set[str] = set()
        for entry in entries:
            # Content first, sidecar last: an interrupted run leaves the sidecar, which is
            # found again and finishes the job next time.
            for path in entry.files:
                try:
                    path.unlink()
                    deleted.add(str(entry.key))
                except FileNotFoundError:
                    pass
            entry.sidecar.with_name(entry.sidecar.name + TEMP_SUFFIX).unlink(missing_ok=True)
            try:
                entry.sidecar.unlink()
                deleted.add(str(entry.key))
            except FileNotFoundError:
                pass
        return len(deleted)

    def _rewrite(
        self,
        ds: Dataset,
        scan: _Scan,
        step: ErasureStep,
        gone: set[str],
        pseudonymise: Pseudonymiser,
    ) -> tuple[int, int]:
        updates = {str(k) for k in step.update} if step.update_fields else set()
        touched = updates | {str(k) for r in step.redactions for k in r.keys}
        updated: set[str] = set()
        redacted: set[str] = set()
        for entry in scan.matching(list(touched - gone)):
            key = str(entry.key)
            new = dict(entry.data)
            if key in updates:
                for name, strategy in step.update_fields.items():
                    new[name] = self._erased_value(ds, name, strategy, entry.key, new, pseudonymise)
                if new != entry.data:
                    updated.add(key)
            before_redaction = dict(new)
            for redaction in step.redactions:
                if key in {str(k) for k in redaction.keys}:
                    new[redaction.field] = _redact(
                        new.get(redaction.field), redaction.needles, redaction.replacement
                    )
            if new != before_redaction:
                redacted.add(key)
            if new != entry.data:
                self._write_sidecar(entry.sidecar, new)
        return len(updated), len(redacted)

    @staticmethod
    def _erased_value(
        ds: Dataset,
        name: str,
        strategy: ErasureStrategy,
        key: Key,
        data: Mapping[str, Any],
        pseudonymise: Pseudonymiser,
    ) -> Any:
        if strategy is ErasureStrategy.SET_NULL or data.get(name) is None:
            # An empty field stays empty: a mask or pseudonym would invent a value.
            return None
        if strategy is ErasureStrategy.MASK:
            return MASK
        if strategy is ErasureStrategy.PSEUDONYMISE:
            return pseudonymise(ds.name, name, key)
        return data.get(name)  # KEEP

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


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _redact(value: Any, needles: Sequence[str], replacement: str) -> Any:
    """``value`` with every needle replaced, case-insensitively, in one pass."""
    wanted = sorted({n for n in needles if n.strip()}, key=len, reverse=True)
    if not isinstance(value, str) or not wanted:
        return value
    # One alternation, longest first: "+47 912 34 567" goes whole before "912 34 567" could.
    pattern = re.compile("|".join(re.escape(n) for n in wanted), re.IGNORECASE)
    return pattern.sub(lambda _match: replacement, value)
