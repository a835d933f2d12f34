"""An in-memory index of one file dataset's sidecars, kept current by cheap checks.

Reading every sidecar on every call costs one file read per record: 400 000 reads per
request for the demo's call recordings at a million customers. The index reads each
sidecar once, keeps its declared fields and, for the identity and reference fields,
a look-up from value to records; afterwards a call reads only what changed:

* every folder under the dataset's pattern is stat'ed on every call, and a folder whose
  mtime, ctime or identity changed is listed again. Adding, removing or renaming a file
  changes its folder, so this finds new, deleted and atomically replaced sidecars (a
  replacement is another inode under the same name); only those are read;
* the sidecars a call is about to answer from (the candidates of a look-up, the records
  to export, erase or rectify) are stat'ed first and read again if they changed in place
  (same file, new content, which leaves the folder as it was), and the look-up is then
  repeated, so an answer never rests on stale values;
* every other sidecar is stat'ed at least once per ``recheck_after`` seconds, the work
  spread over the calls, so a sidecar another program rewrote in place is found by its
  new values within that time;
* a timestamp too close to the moment it was read is not trusted (a change in the same
  tick of the clock leaves it as it was): such folders are listed, and such sidecars
  read, again on every call until their timestamps have settled;
* the owner's own deletions and rewrites update the index directly, and the folders
  they changed are not listed again for them (see ``changing``).

Memory: about 800 bytes per record for sidecars like the demo's recordings (seven short
fields, two of them looked up), measured with tracemalloc over 100 000 and 400 000 of
them: the parsed values with their tuple (~390 bytes; answers need them), the record
object and its name (~180), its places in the folder, key and look-up tables (~160),
stamps and inode (~65). Longer values (free text) cost their own size on top. See
``FileConnector.max_index_records`` for the cap beyond which nothing is kept.

Files without sidecars (owned by their path or by a row naming them) are indexed the
same way, each file its own record: its values come from its path (and ``modified_at``
from its stamps), so nothing is read but folders. A file whose path gives no record
(the owner path does not match) is counted, like a file without a sidecar
(``unattributed``), never matched.

The index is not thread-safe: its owner serialises calls (FileConnector holds a lock
per dataset).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import stat
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase, translate
from pathlib import Path, PurePosixPath
from typing import Any

from personvern.connectors.port import ConnectorError, ConnectorUnavailableError, Key
from personvern.domain.datamap import DataField, Dataset, FileSet, IdentityKind
from personvern.domain.file_ownership import (
    MODIFIED_AT,
    InvalidOwnerPathError,
    OwnerPath,
    OwnerRule,
    owner_rule,
)
from personvern.domain.identities.email import ascii_lower, canonical_email_or_none
from personvern.domain.identities.mentions import mention_pattern, mention_search_terms

log = logging.getLogger("personvern.connectors.files")

#: Sidecars are small metadata; anything larger is not one of ours and is not parsed.
MAX_SIDECAR_BYTES = 1024 * 1024
#: How long a timestamp is distrusted after it was written, on file systems that keep
#: nanoseconds: the kernel stamps files from a clock that ticks every 1-10 ms.
FINE_SETTLE_NS = 100_000_000
#: The same where timestamps are whole seconds (FAT keeps even seconds only).
COARSE_SETTLE_NS = 3_000_000_000
#: Look-ups repeated after candidates changed under them, before answering as things are.
_VERIFY_ROUNDS = 3
_WILDCARD = re.compile(r"[*?\[]")


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would break every export downstream.
    raise ValueError(f"{name} is not a JSON value")


def read_sidecar(path: str | Path) -> dict[str, Any] | None:
    """A sidecar's JSON object, or None if it is unreadable, too large or not an object."""
    return _read(path)[1]


def _read(path: str | Path) -> tuple[os.stat_result | None, dict[str, Any] | None]:
    """A sidecar's stamps and JSON object, both taken from the same open file."""
    try:
        # O_NONBLOCK: a named pipe planted as a sidecar must not hang the reader.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None, None
    with os.fdopen(fd, "rb") as handle:
        try:
            # Stamps before content: a change after fstat changes them for next time.
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return st, None
            raw = handle.read(MAX_SIDECAR_BYTES + 1)
        except OSError:
            return None, None
    if len(raw) > MAX_SIDECAR_BYTES:
        return st, None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return st, None
    return st, data if isinstance(data, dict) else None


def usable_key(key: object) -> bool:
    """Whether a sidecar's primary key value can be a record's key."""
    # bool is an int to Python, but never a key; neither is an empty or huge string.
    if isinstance(key, bool):
        return False
    if isinstance(key, int):
        return True
    return isinstance(key, str) and 0 < len(key) <= 200


def text_of(value: Any, email: bool) -> str | None:
    """How a field's value is compared for equality (None when it never matches).

    E-mail in its canonical form (personvern.domain.identities.email), so a sidecar
    spelling ``ſ`` where the subject's address has ``s`` is another person's.
    """
    if value is None or isinstance(value, dict | list):
        return None
    return canonical_email_or_none(value) if email else str(value)


def inside(path: str | Path, real_root: Path) -> bool:
    """Whether ``path``, links followed, exists inside ``real_root``."""
    try:
        return Path(path).resolve(strict=True).is_relative_to(real_root)
    except (OSError, RuntimeError):
        return False  # a dangling or looping link


def strip_suffix(name: str) -> str:
    """A file name less its last suffix (``a.tar.gz`` -> ``a.tar``), as pathlib sees it."""
    # PurePosixPath(name).suffix, without building a path per file listed.
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def split_pattern(pattern: str) -> tuple[str, ...]:
    """A file set's glob as segments, refused if it reaches outside the root."""
    parts = PurePosixPath(pattern).parts
    if not parts or pattern.startswith("/") or ".." in parts:
        raise ConnectorError(f"file pattern {pattern!r} must be a relative glob inside the root")
    return parts


# -- globs, folder by folder -------------------------------------------------------------
#
# A glob such as recordings/**/*.wav is matched as a small automaton over path segments:
# the states of a folder are the positions in the glob its path can have reached, so a
# file is matched by its name alone, and a folder no file below could match is skipped.


def _closure(states: Iterable[int], segments: Sequence[str]) -> frozenset[int]:
    out: set[int] = set()
    todo = list(states)
    while todo:
        i = todo.pop()
        if i not in out:
            out.add(i)
            # "**" may match no folder at all.
            if i < len(segments) and segments[i] == "**":
                todo.append(i + 1)
    return frozenset(out)


def _advance(states: frozenset[int], part: str, segments: Sequence[str]) -> frozenset[int]:
    following: list[int] = []
    for i in states:
        if i >= len(segments):
            continue
        if segments[i] == "**":
            following.append(i)
        elif fnmatchcase(part, segments[i]):
            following.append(i + 1)
    return _closure(following, segments)


def _final_names(states: frozenset[int], segments: Sequence[str]) -> re.Pattern[str] | None:
    """One expression for the file names that complete the glob from these states."""
    n = len(segments)
    patterns: set[str] = set()
    for i in states:
        if i >= n:
            continue
        if segments[i] == "**":
            if all(s == "**" for s in segments[i:]):
                patterns.add("*")
        elif all(s == "**" for s in segments[i + 1 :]):
            patterns.add(segments[i])
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{translate(p)})" for p in sorted(patterns)))


@dataclass(frozen=True)
class Layout:
    """Where a dataset's files lie and which of its fields the index looks up."""

    segments: tuple[str, ...]
    #: The glob as sidecars are matched: the file suffix left off, so a sidecar whose
    #: file an interrupted erasure already deleted is still found.
    stem_segments: tuple[str, ...]
    #: The glob's literal leading folders ("recordings" of recordings/**/*.wav).
    prefix: tuple[str, ...]
    suffix: str
    names: tuple[str, ...]
    position: Mapping[str, int]
    pk: int
    emails: frozenset[int]
    #: Fields looked up through a table (identities and references); the primary key is
    #: looked up through the records by key unless it is an e-mail address.
    indexed: tuple[int, ...]
    #: Files owned by their path: the path their fields are read from.
    owner_path: OwnerPath | None = None
    #: Files owned by a row naming them: the primary key is the file's path.
    path_is_key: bool = False
    #: Where ``modified_at`` (the file's modification time) is, for files without a sidecar.
    modified: int | None = None

    @property
    def sidecars(self) -> bool:
        """Whether records are JSON sidecars beside the files (else the files themselves)."""
        return self.owner_path is None and not self.path_is_key

    @classmethod
    def of(cls, ds: Dataset, fileset: FileSet, pk: DataField) -> Layout:
        """The layout of ``ds``; raises ConnectorError for a glob outside the root."""
        segments = split_pattern(fileset.pattern)
        rule = owner_rule(fileset)
        owner_path = None
        if rule is OwnerRule.PATH:
            assert fileset.owner is not None
            assert fileset.owner.path is not None
            try:
                owner_path = OwnerPath.parse(fileset.owner.path)
            except InvalidOwnerPathError as exc:
                raise ConnectorError(f"{ds.name}: {exc.message}", hint=exc.hint) from exc
        prefix: list[str] = []
        for segment in segments[:-1]:
            if segment == "**" or _WILDCARD.search(segment):
                break
            prefix.append(segment)
        names = tuple(f.name for f in ds.fields)
        emails = frozenset(i for i, f in enumerate(ds.fields) if f.identity is IdentityKind.EMAIL)
        pk_at = names.index(pk.name)
        indexed = tuple(
            i
            for i, f in enumerate(ds.fields)
            if (f.identity is not None or f.references is not None) and (i != pk_at or i in emails)
        )
        return cls(
            segments=segments,
            stem_segments=(*segments[:-1], strip_suffix(segments[-1])),
            prefix=tuple(prefix),
            # Without sidecars the record is the file itself, found by its whole name.
            suffix=fileset.sidecar if rule is OwnerRule.SIDECAR else "",
            names=names,
            position={name: i for i, name in enumerate(names)},
            pk=pk_at,
            emails=emails,
            indexed=indexed,
            owner_path=owner_path,
            path_is_key=rule is OwnerRule.COLUMN,
            modified=names.index(MODIFIED_AT)
            if rule is not OwnerRule.SIDECAR and MODIFIED_AT in names
            else None,
        )


class _Folder:
    """A folder under the dataset's glob, as last listed."""

    __slots__ = (
        "adopted",
        "children",
        "hot",
        "ident",
        "items",
        "name",
        "orphans",
        "parent",
        "path",
        "refused",
        "rel",
        "sig",
        "states",
    )

    def __init__(
        self, rel: str, path: str, states: frozenset[int], parent: _Folder | None, name: str
    ) -> None:
        self.rel = rel
        self.path = path
        self.states = states
        self.parent = parent
        self.name = name
        self.ident: tuple[int, int] | None = None
        self.sig: tuple[int, int] | None = None
        #: Listed too soon after a change to trust its timestamps: list it again.
        self.hot = True
        #: Stamps taken after the owner's own changes rather than from a listing.
        self.adopted = False
        self.items: dict[str, _Item] = {}
        #: Content files without a sidecar, as suffixes by stem.
        self.orphans: dict[str, tuple[str, ...]] = {}
        self.refused: set[str] = set()
        self.children: dict[str, _Folder] = {}


class _Item:
    """One sidecar: where it is, how it looked when read, and its declared values."""

    __slots__ = ("base", "folder", "ino", "key", "link", "sig", "suffixes", "values")

    def __init__(self, folder: _Folder, base: str, ino: int, link: bool) -> None:
        self.folder = folder
        #: The sidecar's name less its suffix: the record's stem inside the folder.
        self.base = base
        #: The folder entry's inode: another one under the same name is another file.
        self.ino = ino
        self.link = link
        #: Hash of the file's inode, size, mtime and ctime when it was read.
        self.sig = 0
        #: None for a malformed sidecar (skipped and counted, never matched).
        self.key: Key | None = None
        self.values: tuple[Any, ...] = ()
        #: Suffixes of the content files sharing the stem, sorted.
        self.suffixes: tuple[str, ...] = ()

    def stem(self) -> str:
        """The record's path less suffix, relative to the root (the order of answers)."""
        rel = self.folder.rel
        return f"{rel}/{self.base}" if rel else self.base


@dataclass
class _Listing:
    """One folder's entries, sorted by what they are to the dataset."""

    #: Inode and whether it is a link, by stem.
    sidecars: dict[str, tuple[int, bool]] = field(default_factory=dict)
    #: Suffixes of content files, by stem.
    contents: dict[str, list[str]] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    #: Subfolders that may hold matches, with their states in the glob.
    children: dict[str, frozenset[int]] = field(default_factory=dict)


#: What the look-up tables hold per value: one record, a few, or many.
_Postings = dict[str, _Item | tuple[_Item, ...] | set[_Item]]
#: Records sharing a value kept in a tuple (64 bytes for two, a set takes 216) up to here.
_SMALL = 8


def _post(book: _Postings, text: str, item: _Item) -> None:
    held = book.get(text)
    if held is None:
        book[text] = item
    elif isinstance(held, set):
        held.add(item)
    elif isinstance(held, tuple):
        if item not in held:
            book[text] = (*held, item) if len(held) < _SMALL else {*held, item}
    elif held is not item:
        book[text] = (held, item)


def _unpost(book: _Postings, text: str, item: _Item) -> None:
    held = book.get(text)
    if held is item:
        del book[text]
    elif isinstance(held, set):
        held.discard(item)
        if len(held) == 1:
            book[text] = next(iter(held))
    elif isinstance(held, tuple):
        rest = tuple(other for other in held if other is not item)
        book[text] = rest[0] if len(rest) == 1 else rest


def _posted(book: _Postings, text: str) -> Iterable[_Item]:
    held = book.get(text)
    if held is None:
        return ()
    return held if isinstance(held, set | tuple) else (held,)


def _settle_ns(mtime_ns: int) -> int:
    # A timestamp of whole seconds says the file system keeps no finer ones.
    return COARSE_SETTLE_NS if mtime_ns % 1_000_000_000 == 0 else FINE_SETTLE_NS


def _racy(st: os.stat_result, observed_ns: int) -> bool:
    """Whether a later change could leave this stat unchanged (both stamps too recent)."""
    return min(st.st_mtime_ns, st.st_ctime_ns) > observed_ns - _settle_ns(st.st_mtime_ns)


def _file_sig(st: os.stat_result) -> int:
    return hash((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))


def _depth(folder: _Folder) -> int:
    depth = 0
    while folder.parent is not None:
        folder, depth = folder.parent, depth + 1
    return depth


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def matched_fields(
    layout: Layout,
    values: Sequence[Any],
    exact: Mapping[str, set[str]],
    mentions: Mapping[str, list[str]],
) -> set[str]:
    """The fields of a record's values that match the criteria."""
    matched: set[str] = set()
    for name, wanted in exact.items():
        i = layout.position[name]
        text = text_of(values[i], i in layout.emails)
        if text is not None and text in wanted:
            matched.add(name)
    for name, needles in mentions.items():
        value = values[layout.position[name]]
        # A quick substring test first; only a whole mention counts (see mention_pattern).
        if isinstance(value, str) and needles:
            searched = frozenset(needles)
            folded = ascii_lower(value)
            if any(t in folded for t in _terms(searched)) and _pattern(searched).search(value):
                matched.add(name)
    return matched


class DatasetIndex:
    """The sidecars of one dataset below one root, with look-ups by identity and reference."""

    def __init__(
        self, system_key: str, layout: Layout, real_root: Path, recheck_after: float
    ) -> None:
        self.system_key = system_key
        self.layout = layout
        self.real_root = real_root
        self.recheck_after = recheck_after
        self.start: _Folder | None = None
        self.folders: dict[str, _Folder] = {}
        #: Records by str(key); copies of a sidecar with the same key are one record.
        self.by_key: _Postings = {}
        self.postings: dict[int, _Postings] = {i: {} for i in layout.indexed}
        #: Usable sidecars held.
        self.records = 0
        #: Malformed sidecars held (skipped, never matched).
        self.skipped = 0
        #: Content files without a usable sidecar.
        self.orphaned = 0
        #: Files without sidecars whose path gives no usable record (owner path unmatched).
        self.unowned = 0
        #: Links leading outside the root.
        self.refused = 0
        #: Sidecars read since the owner last asked (take_reads).
        self._reads = 0
        #: Sidecars whose stamps were too recent to trust when read: read on every call.
        self._racy: set[_Item] = set()
        #: Malformed sidecars: stat'ed on every call, so that a repair is seen at once.
        self._malformed: set[_Item] = set()
        self._matchers: dict[frozenset[int], tuple[re.Pattern[str] | None, ...]] = {}
        self._suffix_sets: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._queue: list[_Item] = []
        #: Folders the owner is changing, and whether each was as listed before.
        self._touched: dict[_Folder, bool] | None = None
        self._cursor = 0
        self._credit = 0.0
        self._swept_at = time.monotonic()

    # -- keeping current ---------------------------------------------------------------

    def refresh(self) -> None:
        """Bring the index up to date with the folder, reading only what changed."""
        start_path = os.path.join(self.real_root, *self.layout.prefix)  # noqa: PTH118
        if not os.path.isdir(start_path) or not inside(start_path, self.real_root):  # noqa: PTH112
            if self.start is not None:
                self._drop_folder(self.start)
            return
        # Sidecars read last time too soon after a change, before anything is read anew.
        self._recheck_suspects()
        if self.start is None:
            start_states = _closure([len(self.layout.prefix)], self.layout.segments)
            rel = "/".join(self.layout.prefix)
            self.start = self._add_folder(rel, start_path, start_states, None, "")
            self._walk(self.start)
            # Every sidecar was just read: the time that took earns no recheck.
            self._swept_at = time.monotonic()
        else:
            changed = [f for f in list(self.folders.values()) if self._changed(f)]
            # Parents first: listing a parent may forget a child that is gone.
            for folder in sorted(changed, key=_depth):
                if self.folders.get(folder.rel) is folder:
                    self._walk(folder)
        self._sweep()

    def take_reads(self) -> int:
        """Sidecars read since the last call."""
        reads, self._reads = self._reads, 0
        return reads

    @property
    def unattributed(self) -> int:
        """Files the pattern lists that the owner rule attributes to nobody (here).

        Without a usable sidecar, or on a path the owner path does not match. Whether a
        row names a file owned by a column is for the rows' system to say.
        """
        return self.orphaned + self.unowned

    def keys(self) -> list[str]:
        """The key of every record held, as text, sorted."""
        return sorted(self.by_key)

    def conflicting(self, group: Sequence[_Item]) -> bool:
        """Whether files sharing a key are owned by different values (files owned by path).

        Copies of a sidecar are one record; two files whose paths give one key but
        different owners (``a/1/x.pdf``, ``a/2/x.pdf``) are not, and treating them as one
        would hand over or erase one person's file on another's request.
        """
        if self.layout.owner_path is None or len(group) < 2:
            return False
        skip = self.layout.modified
        owners = {tuple(v for i, v in enumerate(item.values) if i != skip) for item in group}
        return len(owners) > 1

    def _unavailable(self, exc: OSError) -> ConnectorUnavailableError:
        return ConnectorUnavailableError(
            self.system_key, f"cannot read {exc.filename}: {exc.strerror}"
        )

    def _changed(self, folder: _Folder) -> bool:
        try:
            st = os.stat(folder.path)  # noqa: PTH116
        except (FileNotFoundError, NotADirectoryError):
            return True  # gone: listing it forgets it
        except OSError as exc:
            raise self._unavailable(exc) from exc
        return (
            folder.hot
            or folder.ident != (st.st_dev, st.st_ino)
            or folder.sig != (st.st_mtime_ns, st.st_ctime_ns)
        )

    def _walk(self, folder: _Folder) -> None:
        todo = [folder]
        while todo:
            todo.extend(self._list(todo.pop()))

    def _matchers_for(self, states: frozenset[int]) -> tuple[re.Pattern[str] | None, ...]:
        found = self._matchers.get(states)
        if found is None:
            found = (
                _final_names(states, self.layout.stem_segments),
                _final_names(states, self.layout.segments),
            )
            self._matchers[states] = found
        return found

    def _list(self, folder: _Folder) -> list[_Folder]:
        """List one folder again, read its new or replaced sidecars; new subfolders."""
        observed = time.time_ns()
        try:
            # Stamps first, listing second: a change after the stat shows next time.
            st = os.stat(folder.path)  # noqa: PTH116
            if not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(folder.path)
            with os.scandir(folder.path) as scan:
                entries = list(scan)
        except (FileNotFoundError, NotADirectoryError):
            self._drop_folder(folder)
            return []
        except OSError as exc:
            # A folder that cannot be read is not skipped: that would answer an access
            # request incompletely.
            raise self._unavailable(exc) from exc
        ident = (st.st_dev, st.st_ino)
        if folder.ident is not None and folder.ident != ident:
            self._clear_folder(folder)  # another folder now stands under this name
        folder.ident = ident
        folder.sig = (st.st_mtime_ns, st.st_ctime_ns)
        folder.hot = _racy(st, observed)
        folder.adopted = False

        listing = self._classify(folder, entries)
        for name in sorted(listing.refused - folder.refused):
            log.warning(
                "%s: refused %s, a link leading outside",
                self.system_key,
                os.path.join(folder.path, name),  # noqa: PTH118
            )
        self.refused += len(listing.refused) - len(folder.refused)
        folder.refused = listing.refused
        new_folders = self._update_children(folder, listing.children)
        self._update_items(folder, listing.sidecars, listing.contents)
        return new_folders

    def _classify(self, folder: _Folder, entries: Sequence[os.DirEntry[str]]) -> _Listing:
        """Sort a folder's entries into sidecars, content files, refused links, subfolders."""
        if not self.layout.sidecars:
            return self._classify_files(folder, entries)
        sidecar_names, content_names = self._matchers_for(folder.states)
        suffix = self.layout.suffix
        listing = _Listing()
        known = folder.items
        for entry in entries:
            name = entry.name
            # Fast paths for what was listed before, which is most of a folder that
            # changed: the same sidecar file (same inode), a content file of a record.
            if name.endswith(suffix):
                item = known.get(name[: -len(suffix)])
                if item is not None and item.ino == entry.inode():
                    listing.sidecars[item.base] = (item.ino, item.link)
                    continue
            else:
                base = strip_suffix(name)
                item = known.get(base)
                if (
                    item is not None
                    and name[len(base) :] in item.suffixes
                    and not entry.is_symlink()
                    and not entry.is_dir(follow_symlinks=False)
                ):
                    listing.contents.setdefault(base, []).append(name[len(base) :])
                    continue
            link = entry.is_symlink()
            if _is_dir(entry):
                # A linked folder is never entered, wherever it leads, so every plain
                # file found lies inside the root and only links to files need resolving.
                if not link:
                    states = _advance(folder.states, name, self.layout.segments)
                    if any(i < len(self.layout.segments) for i in states):
                        listing.children[name] = states
                continue
            if name.endswith(suffix):
                base = name[: -len(suffix)]
                if sidecar_names is None or not sidecar_names.match(base):
                    continue
                is_sidecar = True
            elif content_names is not None and content_names.match(name):
                base = strip_suffix(name)
                is_sidecar = False
            else:
                continue
            if link and not inside(entry.path, self.real_root):
                listing.refused.add(name)
            elif is_sidecar:
                listing.sidecars[base] = (entry.inode(), link)
            else:
                listing.contents.setdefault(base, []).append(name[len(base) :])
        return listing

    def _classify_files(self, folder: _Folder, entries: Sequence[os.DirEntry[str]]) -> _Listing:
        """The same for files without sidecars: each file the pattern lists is a record."""
        _sidecar_names, content_names = self._matchers_for(folder.states)
        listing = _Listing()
        known = folder.items
        for entry in entries:
            name = entry.name
            item = known.get(name)
            if item is not None and item.ino == entry.inode():
                listing.sidecars[name] = (item.ino, item.link)
                listing.contents[name] = [""]
                continue
            link = entry.is_symlink()
            if _is_dir(entry):
                if not link:
                    states = _advance(folder.states, name, self.layout.segments)
                    if any(i < len(self.layout.segments) for i in states):
                        listing.children[name] = states
                continue
            if content_names is None or not content_names.match(name):
                continue
            if link and not inside(entry.path, self.real_root):
                listing.refused.add(name)
            else:
                # The record is the file: its name is its base and it has no suffix of its own.
                listing.sidecars[name] = (entry.inode(), link)
                listing.contents[name] = [""]
        return listing

    def _update_children(
        self, folder: _Folder, children: Mapping[str, frozenset[int]]
    ) -> list[_Folder]:
        for name in [n for n in folder.children if n not in children]:
            self._drop_folder(folder.children[name])
        return [
            self._add_folder(
                f"{folder.rel}/{name}" if folder.rel else name,
                os.path.join(folder.path, name),  # noqa: PTH118
                states,
                folder,
                name,
            )
            for name, states in sorted(children.items())
            if name not in folder.children
        ]

    def _update_items(
        self,
        folder: _Folder,
        sidecars: Mapping[str, tuple[int, bool]],
        contents: dict[str, list[str]],
    ) -> None:
        for base in [b for b in folder.items if b not in sidecars]:
            self._forget(folder.items[base])
        fresh: list[_Item] = []
        for base, (ino, link) in sidecars.items():
            item = folder.items.get(base)
            if item is not None and (item.ino, item.link) == (ino, link):
                # The same file as before: its content is checked by the sweep, not here.
                self._set_suffixes(item, contents.pop(base, ()))
                continue
            if item is not None:
                self._forget(item)
            item = _Item(folder, base, ino, link)
            item.suffixes = self._shared(contents.pop(base, ()))
            folder.items[base] = item
            fresh.append(item)
        for item in fresh:
            self._load(item)
        self.orphaned -= sum(len(s) for s in folder.orphans.values())
        folder.orphans = {base: tuple(sorted(s)) for base, s in contents.items()}
        self.orphaned += sum(len(s) for s in folder.orphans.values())

    def _add_folder(
        self, rel: str, path: str, states: frozenset[int], parent: _Folder | None, name: str
    ) -> _Folder:
        folder = _Folder(rel, path, states, parent, name)
        self.folders[rel] = folder
        if parent is not None:
            parent.children[name] = folder
        return folder

    def _clear_folder(self, folder: _Folder) -> None:
        for child in list(folder.children.values()):
            self._drop_folder(child)
        for item in list(folder.items.values()):
            self._forget(item)
        self.orphaned -= sum(len(s) for s in folder.orphans.values())
        folder.orphans = {}
        self.refused -= len(folder.refused)
        folder.refused = set()

    def _drop_folder(self, folder: _Folder) -> None:
        self._clear_folder(folder)
        if self.folders.get(folder.rel) is folder:
            del self.folders[folder.rel]
        if folder.parent is not None and folder.parent.children.get(folder.name) is folder:
            del folder.parent.children[folder.name]
        if folder is self.start:
            self.start = None

    # -- records -----------------------------------------------------------------------

    def sidecar_path(self, item: _Item) -> Path:
        """Where the record's sidecar lies."""
        return Path(item.folder.path) / (item.base + self.layout.suffix)

    def content_paths(self, item: _Item) -> list[Path]:
        """The record's content files, in name order."""
        folder = Path(item.folder.path)
        return [folder / (item.base + s) for s in item.suffixes]

    def _live(self, item: _Item) -> bool:
        return item.folder.items.get(item.base) is item

    def _items(self) -> Iterator[_Item]:
        for folder in self.folders.values():
            yield from folder.items.values()

    def _shared(self, suffixes: Iterable[str]) -> tuple[str, ...]:
        """Suffixes sorted, as one shared tuple per combination (most records hold one)."""
        ordered = tuple(sorted(suffixes))
        return self._suffix_sets.setdefault(ordered, ordered)

    def _set_suffixes(self, item: _Item, suffixes: Iterable[str]) -> None:
        ordered = self._shared(suffixes)
        if item.key is None and self.layout.sidecars:
            self.orphaned += len(ordered) - len(item.suffixes)
        item.suffixes = ordered

    def _attach(self, item: _Item) -> None:
        if item.key is None:
            if self.layout.sidecars:
                self.skipped += 1
                self.orphaned += len(item.suffixes)
            else:
                self.unowned += 1
            self._malformed.add(item)
            return
        self.records += 1
        _post(self.by_key, str(item.key), item)
        for i in self.layout.indexed:
            text = text_of(item.values[i], i in self.layout.emails)
            if text is not None:
                _post(self.postings[i], text, item)

    def _detach(self, item: _Item) -> None:
        if item.key is None:
            if self.layout.sidecars:
                self.skipped -= 1
                self.orphaned -= len(item.suffixes)
            else:
                self.unowned -= 1
            self._malformed.discard(item)
            return
        self.records -= 1
        _unpost(self.by_key, str(item.key), item)
        for i in self.layout.indexed:
            text = text_of(item.values[i], i in self.layout.emails)
            if text is not None:
                _unpost(self.postings[i], text, item)

    def _load(self, item: _Item) -> None:
        """Read a detached item's sidecar and attach it with what it now holds."""
        if not self.layout.sidecars:
            self._load_file(item)
            return
        path = os.path.join(item.folder.path, item.base + self.layout.suffix)  # noqa: PTH118
        observed = time.time_ns()
        st, data = _read(path)
        self._reads += 1
        if st is None:
            # Unreadable (permissions): stamped anyway, so it is tried again only once
            # it changes, not on every call.
            with contextlib.suppress(OSError):
                st = os.stat(path)  # noqa: PTH116
        item.sig = _file_sig(st) if st is not None else 0
        key = data.get(self.layout.names[self.layout.pk]) if data is not None else None
        if data is None or not usable_key(key):
            item.key, item.values = None, ()
            log.warning("%s: skipped malformed sidecar %s", self.system_key, path)
        else:
            assert isinstance(key, int | str)
            if key == item.base:
                key = item.base  # the same text twice: keep one copy
            values = [data.get(name) for name in self.layout.names]
            values[self.layout.pk] = key
            item.key, item.values = key, tuple(values)
        self._attach(item)
        if st is not None and _racy(st, observed):
            self._racy.add(item)
        else:
            self._racy.discard(item)

    def _load_file(self, item: _Item) -> None:
        """Attach a file without a sidecar with the values its path (and stamps) give."""
        path = os.path.join(item.folder.path, item.base)  # noqa: PTH118
        observed = time.time_ns()
        try:
            st: os.stat_result | None = os.stat(path)  # noqa: PTH116
        except OSError:
            st = None
        item.sig = _file_sig(st) if st is not None else 0
        values = self._path_values(item.stem(), st)
        if values is None:
            item.key, item.values = None, ()
        else:
            key = values[self.layout.pk]
            item.key, item.values = key, tuple(values)
        self._attach(item)
        if st is not None and _racy(st, observed):
            self._racy.add(item)
        else:
            self._racy.discard(item)

    def _path_values(self, rel: str, st: os.stat_result | None) -> list[Any] | None:
        """A file's declared values from its path under the root, None if it gives no key."""
        layout = self.layout
        found: dict[str, Any]
        if layout.owner_path is not None:
            matched = layout.owner_path.match(rel)
            if matched is None:
                return None
            found = dict(matched)
            if not usable_key(found.get(layout.names[layout.pk])):
                return None
        else:
            # Owned by a row naming it: the path is the key, however long.
            found = {layout.names[layout.pk]: rel}
        if layout.modified is not None:
            found[MODIFIED_AT] = (
                datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC) if st is not None else None
            )
        return [found.get(name) for name in layout.names]

    def _forget(self, item: _Item) -> None:
        self._detach(item)
        self._racy.discard(item)
        if self._live(item):
            del item.folder.items[item.base]

    def _check(self, item: _Item, force: bool = False) -> bool:
        """Stat a sidecar and read it again if it changed; whether its record changed."""
        if not self._live(item):
            return False
        path = os.path.join(item.folder.path, item.base + self.layout.suffix)  # noqa: PTH118
        try:
            st: os.stat_result | None = os.stat(path)  # noqa: PTH116
        except FileNotFoundError:
            st = None
            gone = True
        except OSError:
            st, gone = None, False
        else:
            gone = item.link and not inside(path, self.real_root)
        if gone:
            # Deleted, or a link now leading outside: listing the folder settles which.
            self._forget(item)
            item.folder.hot = True
            return True
        if not force and st is not None and _file_sig(st) == item.sig:
            return False
        before = (item.key, item.values)
        self._detach(item)
        self._load(item)
        return (item.key, item.values) != before

    def _recheck_suspects(self) -> None:
        for item in list(self._racy):
            self._check(item, force=True)
        for item in list(self._malformed - self._racy):
            self._check(item)

    def _sweep(self) -> None:
        """Stat the share of all sidecars the time since the last call has earned."""
        now = time.monotonic()
        elapsed, self._swept_at = now - self._swept_at, now
        total = self.records + self.skipped
        if self.recheck_after <= 0:
            self._relist_adopted()
            for item in list(self._items()):
                self._check(item)
            return
        self._credit = min(self._credit + total * elapsed / self.recheck_after, float(total))
        budget = int(self._credit)
        self._credit -= budget
        restarted = False
        while budget > 0:
            if self._cursor >= len(self._queue):
                if restarted:
                    break
                # A snapshot per round: sidecars added since were read just now anyway.
                self._queue, self._cursor, restarted = list(self._items()), 0, True
                self._relist_adopted()
                continue
            item = self._queue[self._cursor]
            self._cursor += 1
            budget -= 1
            self._check(item)

    def _relist_adopted(self) -> None:
        """Once a round, list the folders whose stamps came from the owner's own changes."""
        for folder in self.folders.values():
            if folder.adopted:
                folder.hot, folder.adopted = True, False

    # -- answering ---------------------------------------------------------------------

    def _lookup(
        self, exact: Mapping[str, set[str]], mentions: Mapping[str, list[str]], excluded: set[str]
    ) -> set[str]:
        """Keys of records that may match: by the tables, else by the values in memory."""
        found: set[str] = set()
        unindexed: dict[str, set[str]] = {}
        for name, wanted in exact.items():
            i = self.layout.position[name]
            if i == self.layout.pk and i not in self.layout.emails:
                found.update(text for text in wanted if text in self.by_key)
            elif i in self.postings:
                book = self.postings[i]
                found.update(str(item.key) for text in wanted for item in _posted(book, text))
            else:
                unindexed[name] = wanted
        searched = {name: needles for name, needles in mentions.items() if needles}
        if unindexed or searched:
            for item in self._items():
                if item.key is not None and matched_fields(
                    self.layout, item.values, unindexed, searched
                ):
                    found.add(str(item.key))
        return found - excluded

    def _groups(self, keys: Iterable[str]) -> list[list[_Item]]:
        groups = [
            sorted(_posted(self.by_key, key), key=_Item.stem) for key in keys if key in self.by_key
        ]
        return sorted(groups, key=lambda group: group[0].stem())

    def _verified(self, keys: Iterable[str]) -> bool:
        """Stat (and read again if changed) every sidecar of these records; any change?"""
        changed = False
        for group in self._groups(keys):
            for item in group:
                changed = self._check(item) or changed
        return changed

    def find(
        self, exact: Mapping[str, set[str]], mentions: Mapping[str, list[str]], excluded: set[str]
    ) -> list[list[_Item]]:
        """Records that may match, checked against their files, each as its sidecars."""
        keys = self._lookup(exact, mentions, excluded)
        for _ in range(_VERIFY_ROUNDS):
            if not self._verified(keys):
                break
            keys = self._lookup(exact, mentions, excluded)
        return self._groups(keys)

    def records_of(self, keys: Iterable[Key]) -> list[_Item]:
        """The sidecars of the records with these keys (as strings), checked against disk."""
        wanted = {str(k) for k in keys}
        for _ in range(_VERIFY_ROUNDS):
            if not self._verified(wanted):
                break
        return [item for group in self._groups(wanted) for item in group]

    # -- the owner's own changes -------------------------------------------------------

    @contextlib.contextmanager
    def changing(self) -> Iterator[None]:
        """Around the owner's own changes to files, each announced by ``touch`` first."""
        # The owner keeps the index right itself (forget, reload), so a folder it changed
        # need not be listed again: listing a folder of 80 000 recordings takes a third
        # of a second, after every erasure. Its new stamps are adopted instead, if it was
        # as listed before the changes began. Another program's change to the same folder
        # in that moment (during the changes, or in the clock tick after them) is then
        # not seen until the folder changes again or, at the latest, until the next round
        # of rechecks, which lists every adopted folder.
        touched: dict[_Folder, bool] = {}
        self._touched = touched
        completed = False
        try:
            yield
            completed = True
        finally:
            self._touched = None
            for folder, as_listed in touched.items():
                if not (completed and as_listed and self._adopt(folder)):
                    folder.hot = True

    def touch(self, item: _Item) -> None:
        """Announce a change to a record's files (inside ``changing``)."""
        folder = item.folder
        if self._touched is not None and folder not in self._touched:
            self._touched[folder] = self._as_listed(folder)
        elif self._touched is None:
            folder.hot = True

    def _as_listed(self, folder: _Folder) -> bool:
        if folder.hot:
            return False
        try:
            st = os.stat(folder.path)  # noqa: PTH116
        except OSError:
            return False
        return folder.ident == (st.st_dev, st.st_ino) and folder.sig == (
            st.st_mtime_ns,
            st.st_ctime_ns,
        )

    def _adopt(self, folder: _Folder) -> bool:
        if self.folders.get(folder.rel) is not folder:
            return False
        try:
            st = os.stat(folder.path)  # noqa: PTH116
        except OSError:
            return False
        if folder.ident != (st.st_dev, st.st_ino):
            return False
        folder.sig = (st.st_mtime_ns, st.st_ctime_ns)
        folder.adopted = True
        return True

    def forget(self, item: _Item) -> None:
        """Drop a record whose sidecar the owner deleted."""
        self._forget(item)

    def reload(self, item: _Item) -> None:
        """Read again a sidecar the owner rewrote (as another inode, through a rename)."""
        if not self._live(item):
            return
        path = os.path.join(item.folder.path, item.base + self.layout.suffix)  # noqa: PTH118
        try:
            st = os.lstat(path)
        except OSError:
            # Gone, and not by the owner's hand: the folder tells the rest.
            self._forget(item)
            item.folder.hot = True
            return
        self._detach(item)
        # What the next listing will see under this name, so it is not read a third time.
        item.ino, item.link = st.st_ino, stat.S_ISLNK(st.st_mode)
        self._load(item)


@functools.lru_cache(maxsize=64)
def _pattern(needles: frozenset[str]) -> re.Pattern[str]:
    return mention_pattern(needles)


@functools.lru_cache(maxsize=64)
def _terms(needles: frozenset[str]) -> tuple[str, ...]:
    # Every mention the pattern finds contains one of these once A-Z are lower-cased.
    return tuple(mention_search_terms(needles))
