"""A dataset's change marker: how personvern's mention index learns which records changed.

Free text is searched by substring, which no ordinary index serves; personvern keeps
its own index of the mentions in a dataset's ``free_text`` fields (personvern.engine.
mention_index). To keep it exact without reading every record again, the data map
names a ``change_marker``: a field whose value moves past every earlier value whenever
a record's text may have changed.

* An **updated-at column** (a date or a timestamp the application sets on every
  insert and update) serves any table.
* An **increasing key** (an auto-increment primary key) serves only a table whose rows
  are never changed once written (a log, messages): an edited row keeps its key, so
  the index would keep the old text's mentions and miss the new ones.

Deleted records need nothing: the index can only point at records, and one that is
gone is not found. Records whose marker is past the index's high-water mark (or
empty) are searched by reading their text, so a record changed since the last refresh
is found all the same. The high-water mark settles behind the newest marker read
(``settled``): a transaction that set its marker before the refresh and committed
after it is searched directly until the next refresh reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from personvern.domain.datamap import DataMap, SystemKind
from personvern.domain.findings import DocPath, Finding, Severity

#: Kinds of system personvern builds a mention index for.
INDEXED_KINDS = frozenset({SystemKind.POSTGRESQL, SystemKind.MYSQL, SystemKind.SQLITE})
#: How far the high-water mark stays behind the newest marker read: longer than any
#: transaction that writes the text and its marker is open, and than the clocks of the
#: applications writing an updated-at column disagree.
SETTLE_TIME = timedelta(minutes=15)
#: For a date column: a day's rows keep coming all day, and a transaction may span midnight.
SETTLE_DAYS = timedelta(days=2)
#: For an increasing key: keys given out to transactions still open when the index read.
SETTLE_KEYS = 1000

Marker = int | datetime | date


def settled(newest: Marker) -> Marker:
    """The high-water mark after reading records up to ``newest``: a little behind it."""
    if isinstance(newest, datetime):
        return newest - SETTLE_TIME
    if isinstance(newest, date):
        return newest - SETTLE_DAYS
    return newest - SETTLE_KEYS


def change_marker_findings(datamap: DataMap) -> Iterator[Finding]:
    """Problems with ``change_marker`` declarations, located at the key."""
    for si, system in enumerate(datamap.systems):
        for di, dataset in enumerate(system.datasets):
            marker = dataset.change_marker
            if marker is None:
                continue
            path: DocPath = ("systems", si, "datasets", di, "change_marker")
            where = f"{system.key}.{dataset.name}"
            field = next((f for f in dataset.fields if f.name == marker), None)
            if field is None:
                yield Finding(
                    path,
                    f"{where}: the change_marker {marker} is no field of the dataset",
                    hint="name the updated-at column or the increasing primary key, declared "
                    "as a field (a column holding no personal data needs no category)",
                )
                continue
            if field.free_text or field.encrypted:
                yield Finding(
                    path,
                    f"{where}: the change_marker {marker} is "
                    + ("free text" if field.free_text else "encrypted")
                    + ", which cannot say which records changed",
                    hint="name an updated-at column or an increasing primary key",
                )
                continue
            if system.kind not in INDEXED_KINDS:
                yield Finding(
                    path,
                    f"{where}: change_marker changes nothing in a {system.kind.value} system: "
                    "personvern indexes free text in SQL systems only",
                    hint="remove change_marker",
                    severity=Severity.WARNING,
                )
            elif not any(f.free_text for f in dataset.fields):
                yield Finding(
                    path,
                    f"{where}: change_marker changes nothing: the dataset has no free_text field",
                    hint="remove change_marker",
                    severity=Severity.WARNING,
                )
            elif not any(f.primary_key for f in dataset.fields):
                yield Finding(
                    path,
                    f"{where}: change_marker changes nothing: without a primary_key the "
                    "dataset is not searched",
                    hint="mark the field that identifies a record with primary_key: true",
                    severity=Severity.WARNING,
                )
