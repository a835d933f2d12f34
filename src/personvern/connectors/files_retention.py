"""A file dataset's records as a retention sweep sees them, and their deletion if unchanged.

A record (a sidecar and the content files sharing its stem, or one file owned by its
path or a row) is listed with its declared values, the latest modification time of its
content files (its sidecar's when no content is left) and a *stamp* of every file: its
name, inode, size and modification time, read with ``lstat``, so a symbolic link is
seen as a link and never followed. A record with a link among its files is listed as
refused and never deleted: a link's target may lie anywhere, and its date is not the
record's. So is a key shared by files of different owners (see
``DatasetIndex.conflicting``).

Deleting is the sweep's second step: a record is deleted only if every file still has
the stamp the plan saw (a recording re-written, a sidecar rectified or a file added
since the plan is left for the next run to judge), only inside the store's real root,
content first and sidecar last, so a run stopped half-way leaves the sidecar, which is
found and finished next time.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from personvern.connectors.files_index import DatasetIndex, inside, strip_suffix

#: One file of a record as the plan saw it: name under the root, inode, size, mtime (ns).
FileStamp = tuple[str, int, int, int]


@dataclass(frozen=True)
class FileRecord:
    """One record of a file dataset with what a retention sweep decides by."""

    key: str
    #: The record's declared values (sidecar fields, or those its path gives).
    values: Mapping[str, Any]
    #: The latest modification time of its content files (UTC); None: no file left.
    modified: datetime | None
    #: Every file of the record, as stamped when listed, in name order.
    stamps: tuple[FileStamp, ...]
    #: A symbolic link among its files, or files of different owners sharing its key:
    #: never followed, never deleted.
    refused: bool = False


def file_records(index: DatasetIndex) -> list[FileRecord]:
    """Every record of the dataset held by ``index``, in key order, stamped now."""
    records: list[FileRecord] = []
    keys = index.keys()
    for key in keys:
        items = index.records_of([key])
        if not items:
            continue
        first = items[0]
        values = dict(zip(index.layout.names, first.values, strict=True))
        stamps, link, content_mtimes, sidecar_mtimes = _stamp(index, items)
        refused = link or index.conflicting(items)
        latest = max(content_mtimes or sidecar_mtimes, default=None)
        modified = None if latest is None else datetime.fromtimestamp(latest / 1e9, UTC)
        records.append(FileRecord(key, values, modified, tuple(sorted(stamps)), refused))
    return records


def delete_unchanged(
    index: DatasetIndex, records: Iterable[FileRecord], temp_suffix: str
) -> Iterator[tuple[FileRecord, bool]]:
    """Delete each record whose files are as stamped; yields it and whether it went.

    ``temp_suffix`` names a sidecar's temporary rewrite, removed with the sidecar.
    """
    for record in records:
        items = index.records_of([record.key])
        stamps, link, _content, _sidecar = _stamp(index, items)
        if record.refused or link or not items or tuple(sorted(stamps)) != record.stamps:
            yield record, False
            continue
        for item in items:
            index.touch(item)
            for path in index.content_paths(item):
                _unlink_inside(path, index.real_root)
            if index.layout.sidecars:
                sidecar = index.sidecar_path(item)
                _unlink_inside(sidecar.with_name(sidecar.name + temp_suffix), index.real_root)
                _unlink_inside(sidecar, index.real_root)
            index.forget(item)
        yield record, True


def _stamp(
    index: DatasetIndex, items: Sequence[Any]
) -> tuple[list[FileStamp], bool, list[int], list[int]]:
    """Stamps of the items' files, whether any is a link, content and sidecar mtimes."""
    stamps: list[FileStamp] = []
    link = False
    content: list[int] = []
    sidecars: list[int] = []
    root = index.real_root
    for item in items:
        # A link leading outside the root is not among the record's files at all: the
        # index refused it, but it still shares the record's stem.
        if item.link or any(strip_suffix(name) == item.base for name in item.folder.refused):
            link = True
        paths = [(p, True) for p in index.content_paths(item)]
        if index.layout.sidecars:
            paths.append((index.sidecar_path(item), False))
        for path, is_content in paths:
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
                link = True
            if not inside(path.parent, root):
                link = True
            name = os.path.relpath(path, root)
            stamps.append((name, st.st_ino, st.st_size, st.st_mtime_ns))
            (content if is_content else sidecars).append(st.st_mtime_ns)
    return stamps, link, content, sidecars


def _unlink_inside(path: Path, real_root: Path) -> None:
    """Remove ``path`` (a link itself, never its target) if its folder is inside the root."""
    if not inside(path.parent, real_root):
        return
    path.unlink(missing_ok=True)
