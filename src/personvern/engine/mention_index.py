"""personvern's own index of the mentions in free text: build it, refresh it, ask it.

A request searches ``free_text`` fields for the subject's needles by substring (LIKE),
which no ordinary index serves: at a million customers each request reads every
free-text table (8 s on PostgreSQL, 12 s on MariaDB). The mention index answers the
same question from personvern's own store:

* **What it holds.** Per record and free-text field, the keyed hashes (HMAC with the
  installation's secret key) of the record's *mention keys*: the e-mail addresses,
  phone numbers and identity numbers its text may mention, normalised the way the
  needles are (personvern.domain.identities.mention_keys). No text, no address, no
  number: without the key nobody can test a guess against it.
* **How it is built.** ``personvern index build`` reads each dataset that names a
  ``change_marker`` (personvern.domain.change_marker) in batches, streamed from the
  database; a second run reads only the records whose marker moved past the
  high-water mark of the last, and replaces their entries.
* **Always exact.** A search (personvern.engine.search) asks the index for the records
  whose text holds a needle's key, and the connector reads those by key together with
  the records whose marker is past the high-water mark (changed since the index read
  them: searched by LIKE as before). Every record found is still confirmed by
  mention_pattern, so an entry left from an older text costs one record read, never a
  wrong answer; a deleted record is simply not found. Where anything does not fit (no
  build yet, a build under way, another secret key or other rules, a needle without a
  key, the map's marker changed), the field is searched by LIKE as without an index.
* **Where the database can do it.** A PostgreSQL trigram index on ``lower(col)``
  serves the LIKE itself: such fields are not indexed, and the connector uses the
  database's index (personvern.connectors.sql).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from personvern.connectors.port import (
    ConnectorError,
    ConnectorNotConfiguredError,
    FreeTextSource,
    IndexedMentions,
    TextRow,
)
from personvern.connectors.registry import connector_for
from personvern.domain.change_marker import INDEXED_KINDS, Marker, settled
from personvern.domain.datamap import DataMap, Dataset, System
from personvern.domain.identities.mention_keys import (
    RULES,
    needle_mention_keys,
    text_mention_keys,
)
from personvern.errors import ErrorKind, PersonvernError
from personvern.security.subject_hash import keyed_hash
from personvern.store.base import utcnow
from personvern.store.mention_index import MentionIndexRepository
from personvern.store.mention_models import HASH_LENGTH, MAX_ROW_KEY, MentionIndexState
from personvern.store.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: Records read and written per batch: memory holds one batch.
BATCH = 1000


class MentionIndexError(PersonvernError):
    """The mention index cannot be built as asked."""

    kind = ErrorKind.INVALID
    title = "Mention index not built"


class BuildTakenOverError(PersonvernError):
    """Another build of the same dataset started while this one ran."""

    kind = ErrorKind.CONFLICT
    title = "Mention index build taken over"


def mention_hash(secret: str, key: str) -> str:
    """The keyed hash the index keeps for one mention key."""
    return keyed_hash(secret, "mention", key)[:HASH_LENGTH]


def key_check(secret: str) -> str:
    """A keyed hash of a constant: equal only under the secret key the index was built with."""
    return keyed_hash(secret, "mention-index", "key check")[:HASH_LENGTH]


def encode_marker(value: Marker | None) -> str | None:
    """A change marker's value as the store keeps it."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def decode_marker(kind: str, text: str | None) -> Marker | None:
    """A change marker's value from the store, by what the marker holds."""
    if text is None:
        return None
    if kind == "datetime":
        return datetime.fromisoformat(text)
    if kind == "date":
        return date.fromisoformat(text)
    return int(text)


def indexable_datasets(system: System) -> list[Dataset]:
    """The datasets of ``system`` with free text that requests search and a change marker."""
    if system.kind not in INDEXED_KINDS:
        return []
    return [
        d
        for d in system.datasets
        if d.change_marker
        and any(f.free_text for f in d.fields)
        and any(f.primary_key for f in d.fields)
    ]


# -- asking the index ------------------------------------------------------------


class StoredMentionIndex:
    """The mention index as a search asks it (personvern.engine.search.MentionIndex)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, secret: str, datamap: DataMap) -> None:
        self._unit_of_work = unit_of_work
        self._secret = secret
        self._check = key_check(secret)
        self._markers = {
            (system.key, dataset.name): dataset.change_marker
            for system in datamap.systems
            for dataset in indexable_datasets(system)
        }
        #: Looked up this search: the store answered with an error once; not asked again.
        self._broken = False

    def restriction(
        self, system: str, dataset: str, field: str, needles: Iterable[str]
    ) -> IndexedMentions | None:
        """Where ``field``'s mentions of ``needles`` are, or None: search the whole field."""
        marker = self._markers.get((system, dataset))
        if marker is None or self._broken:
            return None
        keys = needle_mention_keys(needles)
        if keys is None:
            return None
        hashes = {mention_hash(self._secret, key) for key in keys}
        try:
            with self._unit_of_work() as uow:
                found = MentionIndexRepository(uow.session).lookup(system, dataset, field, hashes)
        except sa.exc.SQLAlchemyError as exc:
            # Without the index the search reads the text: slower, never wrong.
            self._broken = True
            log.warning("mention index not used: the store failed (%s)", type(exc).__name__)
            return None
        if found is None:
            return None
        state = found.state
        usable = (
            state.complete
            and state.marker == marker
            and state.rules == RULES
            and state.key_check == self._check
            and field in state.fields
        )
        after = decode_marker(state.marker_kind, state.high_water) if usable else None
        if after is None:
            return None
        return IndexedMentions(found.row_keys, marker, after)


# -- building it -----------------------------------------------------------------


class BuildProgress(Protocol):
    """Told how a build goes (the command line shows it as a progress bar)."""

    def started(self, where: str, records: int) -> None:
        """A dataset's read begins: ``records`` to read."""

    def advanced(self, records: int) -> None:
        """``records`` more were read and indexed."""

    def finished(self) -> None:
        """The dataset is done."""


@dataclass(frozen=True)
class DatasetBuild:
    """What a build did for one dataset."""

    system: str
    dataset: str
    #: built (read whole), refreshed (read what changed), skipped or failed.
    outcome: str
    fields: tuple[str, ...] = ()
    records: int = 0
    entries: int = 0
    note: str = ""

    @property
    def name(self) -> str:
        """ "system.dataset"."""
        return f"{self.system}.{self.dataset}"


@dataclass
class _Run:
    """One build or refresh of one dataset, as it goes."""

    build_id: str
    #: What the change marker holds (personvern.connectors.port.FreeTextSource.marker_kind).
    kind: str
    #: Reading only the records past ``after`` (a refresh), or every record.
    refresh: bool
    after: Marker | None = None
    newest: Marker | None = None
    records: int = 0
    entries: int = 0


class MentionIndexBuilder:
    """Builds and refreshes the mention index of every dataset that names a change marker."""

    def __init__(
        self,
        datamap: DataMap,
        environ: Mapping[str, str],
        unit_of_work: UnitOfWorkFactory,
        secret: str,
        *,
        progress: BuildProgress | None = None,
        batch: int = BATCH,
    ) -> None:
        self.datamap = datamap
        self.environ = environ
        self._unit_of_work = unit_of_work
        self._secret = secret
        self._progress = progress
        self._batch = batch

    def build(self, system: str | None = None, *, full: bool = False) -> list[DatasetBuild]:
        """Build (``full``, or where nothing usable is there) or refresh each dataset's index."""
        systems = self._systems(system)
        done: list[DatasetBuild] = []
        for chosen in systems:
            done += self._build_system(chosen, full=full)
        return done

    def _systems(self, key: str | None) -> list[System]:
        if key is None:
            return [s for s in self.datamap.systems if s.kind.needs_connection and s.datasets]
        chosen = self.datamap.system(key)
        if chosen is None:
            known = ", ".join(s.key for s in self.datamap.systems if s.datasets) or "none"
            raise MentionIndexError(f"the data map has no system {key}", hint=f"systems: {known}")
        if chosen.kind not in INDEXED_KINDS:
            raise MentionIndexError(
                f"{key} is a {chosen.kind.value} system: personvern indexes free text in SQL "
                "systems only",
                hint="files and webhook systems search their own text",
            )
        return [chosen]

    def _build_system(self, system: System, *, full: bool) -> list[DatasetBuild]:
        datasets = indexable_datasets(system)
        skipped = [
            DatasetBuild(
                system.key,
                d.name,
                "skipped",
                note="no change_marker in the data map: searched by reading the text",
            )
            for d in system.datasets
            if system.kind in INDEXED_KINDS
            and not d.change_marker
            and any(f.free_text for f in d.fields)
            and any(f.primary_key for f in d.fields)
        ]
        if not datasets:
            return skipped
        try:
            connector = connector_for(system, self.environ)
        except ConnectorNotConfiguredError as exc:
            return skipped + [
                DatasetBuild(system.key, d.name, "failed", note=exc.message) for d in datasets
            ]
        done = list(skipped)
        try:
            if not isinstance(connector, FreeTextSource):  # pragma: no cover - SQL kinds only
                return done
            for dataset in datasets:
                try:
                    done.append(self._build_dataset(system, dataset, connector, full=full))
                except (ConnectorError, BuildTakenOverError) as exc:
                    done.append(DatasetBuild(system.key, dataset.name, "failed", note=exc.message))
        finally:
            connector.close()
        return done

    def _build_dataset(
        self, system: System, dataset: Dataset, source: FreeTextSource, *, full: bool
    ) -> DatasetBuild:
        marker = dataset.change_marker
        assert marker is not None
        fields = [f.name for f in dataset.fields if f.free_text]
        served = source.served_by_the_database(dataset.name)
        indexed = tuple(name for name in fields if name not in served)
        if not indexed:
            # Nothing to keep: forget an index built before the database had its own.
            with self._unit_of_work() as uow:
                MentionIndexRepository(uow.session).drop(system.key, dataset.name)
            return DatasetBuild(
                system.key,
                dataset.name,
                "skipped",
                note="a trigram index of the database serves "
                + ", ".join(fields)
                + ": it is used instead",
            )
        run = self._begin(system, dataset, source.marker_kind(dataset.name, marker), indexed, full)
        where = f"{system.key}.{dataset.name}"
        if self._progress is not None:
            self._progress.started(where, source.count_texts(dataset.name, marker, run.after))
        for rows in source.read_texts(dataset.name, indexed, marker, run.after, self._batch):
            found, run.newest = self._entries(where, rows, indexed, run.newest)
            with self._unit_of_work() as uow:
                repo = MentionIndexRepository(uow.session)
                self._own(repo, system.key, dataset.name, run.build_id)
                keys = [str(row.key) for row in rows]
                run.entries += (
                    repo.replace(system.key, dataset.name, keys, found)
                    if run.refresh
                    else repo.add(system.key, dataset.name, found)
                )
            run.records += len(rows)
            if self._progress is not None:
                self._progress.advanced(len(rows))
        self._finish(system, dataset, run)
        if self._progress is not None:
            self._progress.finished()
        return DatasetBuild(
            system.key,
            dataset.name,
            "refreshed" if run.refresh else "built",
            fields=indexed,
            records=run.records,
            entries=run.entries,
            note=", ".join(sorted(served)) + " served by a trigram index" if served else "",
        )

    def _begin(
        self, system: System, dataset: Dataset, kind: str, indexed: tuple[str, ...], full: bool
    ) -> _Run:
        """Take the dataset's state for this build: a refresh where the index is usable."""
        marker = dataset.change_marker
        assert marker is not None
        check = key_check(self._secret)
        build_id = uuid.uuid4().hex
        with self._unit_of_work() as uow:
            repo = MentionIndexRepository(uow.session)
            state = repo.state(system.key, dataset.name, lock=True)
            if (
                not full
                and state is not None
                and state.complete
                and state.marker == marker
                and state.marker_kind == kind
                and tuple(state.fields) == indexed
                and state.rules == RULES
                and state.key_check == check
            ):
                state.build_id = build_id
                state.started_at = utcnow()
                return _Run(
                    build_id,
                    kind,
                    refresh=True,
                    after=decode_marker(kind, state.high_water),
                    newest=decode_marker(kind, state.newest),
                )
            # Marked incomplete first, so that no search uses the index while it is read
            # again from nothing.
            repo.clear(system.key, dataset.name)
            repo.start(
                MentionIndexState(
                    system=system.key,
                    dataset=dataset.name,
                    marker=marker,
                    marker_kind=kind,
                    fields=list(indexed),
                    rules=RULES,
                    key_check=check,
                    complete=False,
                    build_id=build_id,
                    high_water=None,
                    newest=None,
                    records_read=0,
                    started_at=utcnow(),
                )
            )
        return _Run(build_id, kind, refresh=False)

    def _finish(self, system: System, dataset: Dataset, run: _Run) -> None:
        """Move the high-water mark behind the newest marker read; the index is usable."""
        with self._unit_of_work() as uow:
            repo = MentionIndexRepository(uow.session)
            state = self._own(repo, system.key, dataset.name, run.build_id)
            high_water = decode_marker(run.kind, state.high_water)
            if run.newest is not None:
                high_water = _later(high_water, settled(run.newest))
            state.high_water = encode_marker(high_water)
            state.newest = encode_marker(run.newest)
            state.complete = True
            state.records_read = (state.records_read if run.refresh else 0) + run.records
            state.refreshed_at = utcnow()
            if not run.refresh:
                state.built_at = state.refreshed_at

    def _entries(
        self,
        where: str,
        rows: list[TextRow],
        fields: tuple[str, ...],
        newest: Marker | None,
    ) -> tuple[set[tuple[str, str, str]], Marker | None]:
        """The entries (field, hash, key) of a batch, and the newest marker read so far."""
        found: set[tuple[str, str, str]] = set()
        hashes: dict[str, str] = {}
        for row in rows:
            key = str(row.key)
            if len(key) > MAX_ROW_KEY:
                raise ConnectorError(
                    f"{where}: a record's key is longer than {MAX_ROW_KEY} characters, "
                    "which the mention index cannot hold",
                    hint="remove change_marker from the dataset: it is searched by reading "
                    "the text",
                )
            for name in fields:
                for mention in text_mention_keys(row.texts.get(name)):
                    hashed = hashes.get(mention)
                    if hashed is None:
                        hashed = hashes[mention] = mention_hash(self._secret, mention)
                    found.add((name, hashed, key))
            marker: Any = row.marker
            if marker is not None and (newest is None or marker > newest):
                newest = marker
        return found, newest

    @staticmethod
    def _own(
        repo: MentionIndexRepository, system: str, dataset: str, build_id: str
    ) -> MentionIndexState:
        """The dataset's state, locked, if this build still owns it."""
        state = repo.state(system, dataset, lock=True)
        if state is None or state.build_id != build_id:
            raise BuildTakenOverError(
                f"{system}.{dataset}: another build of the mention index started; this one stopped",
                hint="run one `personvern index build` at a time",
            )
        return state


def _later(mark: Marker | None, other: Marker) -> Marker:
    """The later of two high-water marks (a refresh never moves the mark back)."""
    if mark is None:
        return other
    first: Any = mark
    return other if other > first else mark


# -- what it holds -----------------------------------------------------------------


@dataclass(frozen=True)
class DatasetStatus:
    """One dataset's mention index, as `personvern index status` shows it."""

    system: str
    dataset: str
    #: ready, building (or a build died), stale (built under other rules or another key,
    #: or the map changed since), or none.
    status: str
    marker: str | None = None
    fields: tuple[str, ...] = ()
    entries: int = 0
    records_read: int = 0
    high_water: str | None = None
    built_at: datetime | None = None
    refreshed_at: datetime | None = None

    @property
    def name(self) -> str:
        """ "system.dataset"."""
        return f"{self.system}.{self.dataset}"


def index_status(
    datamap: DataMap, unit_of_work: UnitOfWorkFactory, secret: str
) -> list[DatasetStatus]:
    """The state of the mention index of every dataset that names a change marker."""
    with unit_of_work() as uow:
        repo = MentionIndexRepository(uow.session)
        states = {(s.system, s.dataset): s for s in repo.states()}
        counts = repo.counts()
        for known in states.values():
            uow.session.expunge(known)
    check = key_check(secret)
    shown: list[DatasetStatus] = []
    for system in datamap.systems:
        for dataset in indexable_datasets(system):
            state = states.get((system.key, dataset.name))
            if state is None:
                shown.append(DatasetStatus(system.key, dataset.name, "none", dataset.change_marker))
                continue
            if not state.complete:
                status = "building"
            elif (
                state.rules != RULES
                or state.key_check != check
                or state.marker != dataset.change_marker
                or not set(state.fields) <= {f.name for f in dataset.fields if f.free_text}
            ):
                status = "stale"
            else:
                status = "ready"
            shown.append(
                DatasetStatus(
                    system.key,
                    dataset.name,
                    status,
                    state.marker,
                    tuple(state.fields),
                    counts.get((system.key, dataset.name), 0),
                    state.records_read,
                    state.high_water,
                    state.built_at,
                    state.refreshed_at,
                )
            )
    return shown
