"""SQL databases (PostgreSQL, MySQL/MariaDB, SQLite) through SQLAlchemy Core.

One engine per connector. The tables of the system's datasets are reflected once, on
first use, and checked against the data map: a declared field without a column is an
error, never a silent gap in an access report. Given a TableLayoutCache, a connector
in a new process rebuilds them from the layout kept under the schema's fingerprint
instead, after one catalogue query (personvern.connectors.table_layouts).

Work is pushed down. ``locate`` is one SELECT per call, an OR of indexed equality
matches and free-text LIKE searches, returning only the declared fields. ``erase`` runs
in one transaction: one DELETE per dataset, one UPDATE for the constant erasures (null,
mask), one executemany UPDATE when values differ per row (pseudonyms, redactions).
Every write is conditioned on the value still differing, so a repeated run changes
nothing and reports zeros.

E-mail identity fields are matched case-insensitively in a way an index serves:
``lower(col) IN (...)`` on PostgreSQL (an index on ``lower(col)``), ``col COLLATE NOCASE
IN (...)`` on SQLite (a NOCASE index), and a plain ``col IN (...)`` on MySQL/MariaDB,
whose default collations already ignore case. A column the data map says is
``stored_normalised`` (every address already in canonical form) is compared with a
plain ``col IN (...)`` everywhere, which the column's own index serves. The database is
asked for every spelling of the canonical address it may keep
(personvern.domain.identities.email), and its answer is then confirmed in Python with
the canonical comparison, so a looser comparison (MySQL also ignores accents and
trailing spaces, PostgreSQL's lower() folds every letter) never hands another person's
row to the engine or to an erasure. Phone
numbers and national identity numbers in text columns are asked for the same way, in
every spelling the search sends (``971 55 337``, ``+47 971 55 337``, ``DDMMYY NNNNN``,
still one ``col IN (...)`` an index serves), and a row counts only if its value reads,
in canonical form, as one asked for (personvern.domain.identities.kinds). Free text is
searched the same way: LIKE finds candidates, mention_pattern confirms them. Where
personvern's mention index knows a field (Criteria.indexed), the LIKE reads only the
records changed since the index last read them, and the records the index names are
added by key; where a trigram index of PostgreSQL serves the LIKE, it is used instead.

A row the driver cannot decode (text that is not valid UTF-8) is not an outage that
retrying cures: ``locate`` finds which rows of the search cannot be read, by reading
their keys alone and then the rows in bisected batches, and raises ConnectorDataError
naming them, so the request stops for a person to fix the data.

Messages and exceptions never carry personal values: errors name the system, dataset
and field, and the driver's error code at most.
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from personvern.connectors import table_layouts
from personvern.connectors.base import ConnectorBase
from personvern.connectors.port import (
    ConnectorDataError,
    ConnectorError,
    ConnectorUnavailableError,
    Criteria,
    ErasureOutcome,
    ErasureStep,
    ExportedFile,
    IndexedMentions,
    Key,
    Pseudonymiser,
    Record,
    Redaction,
    TextRow,
)
from personvern.connectors.table_layouts import LayoutError, TableLayoutCache
from personvern.domain.datamap import ErasureStrategy, IdentityKind, System
from personvern.domain.identities.kinds import SPELLED, ExactLookup, exact_lookup
from personvern.domain.identities.mentions import mention_pattern, mention_search_terms
from personvern.domain.records import MASK
from personvern.domain.requests.identity import SubjectIdentity
from personvern.idle_ping import ping_when_idle

log = logging.getLogger(__name__)

#: What a masked e-mail field holds: an address that can never receive mail (RFC 6761).
EMAIL_MASK = "erased@invalid.example"
#: Keys per IN list: PostgreSQL takes at most 65,535 parameters per statement; a
#: subject's rows stay far below this, so a request normally issues one statement.
CHUNK = 10_000
#: Seconds to wait for a server to accept a connection before the request waits and retries.
CONNECT_TIMEOUT = 10
#: Integers outside 64 bits cannot be bound (SQLite raises) and match no column anyway.
_INT_RANGE = range(-(2**63), 2**63)
_INTEGER = re.compile(r"^[+-]?\d{1,20}$")
_EXPRESSION_INDEX_WARNING = "Skipped unsupported reflection of expression-based index"
#: Why a row cannot be read, as a privacy officer is told (the usual case).
_NOT_UTF8 = "its text is not valid UTF-8"
#: Finding unreadable rows is bounded: candidate keys read, rows per first batch,
#: statements spent, and keys named in the message.
_DIAGNOSED_ROWS = 10_000
_PROBE_BATCH = 500
_MAX_PROBES = 200
_MAX_NAMED = 5
#: SQLSTATEs of text the server cannot convert to the client's encoding (PostgreSQL).
_UNTRANSLATABLE = frozenset({"22021", "22P05"})
#: Identity kinds whose values are not shown even as a record's key.
_PERSONAL_KEYS = frozenset(
    {IdentityKind.EMAIL, IdentityKind.PHONE_NUMBER, IdentityKind.NATIONAL_ID}
)

# Fragments of driver messages and the short reason shown instead (never the message
# itself: it may name hosts, users and databases). Checked in order.
_REASONS = (
    (("password authentication failed", "access denied", 'role "'), "login refused"),
    (("unknown database", "does not exist"), "database not found"),
    (("unable to open database file",), "database file not found"),
    (("refused",), "connection refused"),
    (("timeout", "timed out"), "timed out"),
    (("database is locked",), "database is locked"),
    (("deadlock",), "deadlock, retry"),
    (
        ("could not translate host name", "name or service not known", "getaddrinfo"),
        "host not found",
    ),
    (("server closed the connection", "lost connection", "gone away"), "connection lost"),
)


@dataclass(frozen=True)
class _Dataset:
    """One dataset's table, checked against the data map."""

    name: str
    table: sa.Table
    key: sa.Column[Any]
    #: Declared field name -> column, in the data map's order.
    fields: dict[str, sa.Column[Any]]
    #: E-mail identity fields held in text columns.
    emails: frozenset[str]
    #: Of those, the ones compared without case (not ``stored_normalised``).
    caseless: frozenset[str]
    #: Identity fields of the spelled kinds (e-mail, phone, national id) held in text
    #: columns: asked for in every spelling, compared by their canonical form.
    spelled: Mapping[str, IdentityKind]
    #: Columns whose values must be unique (primary key, unique constraints and indexes).
    unique: frozenset[str]


@dataclass(frozen=True)
class _FieldErasure:
    """How one field of kept records is erased: a constant, or a per-row pseudonym."""

    column: sa.Column[Any]
    constant: str | None = None
    pseudonymise: bool = False


class SqlConnector(ConnectorBase):
    """A SQL system of the data map: locate, erase and rectify with set-based statements."""

    def __init__(
        self,
        system: System,
        url: str,
        *,
        read_only: bool = False,
        layouts: TableLayoutCache | None = None,
    ) -> None:
        """Connect lazily to ``url``; ``read_only`` sessions refuse every write (for checks).

        With ``layouts``, the tables' layout is read from there while the schema's
        fingerprint is unchanged, instead of being reflected (connectors.table_layouts).
        """
        self.system = system
        self._layouts = layouts
        #: Every SQL statement sent to the database (an executemany counts once).
        self.statements_issued = 0
        #: Of those, the statements that described the tables (once per connector).
        self.schema_statements = 0
        #: Seconds the database spent on those statements, as the driver saw them: what
        #: a run cannot be faster than (the benchmarks set the engine's time against it).
        self.statement_seconds = 0.0
        self._describing: Connection | None = None
        self._engine = _create_engine(system.key, url, read_only=read_only)
        sa.event.listen(self._engine, "before_cursor_execute", self._count_statement)
        sa.event.listen(self._engine, "after_cursor_execute", self._time_statement)
        self._lock = threading.Lock()
        self._datasets: dict[str, _Dataset] | None = None
        #: Per table, the columns a trigram index of the database serves LIKE on.
        self._trigram: dict[str, frozenset[str]] | None = None

    # -- retention sweeps ------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The database engine, for set-based sweeps that run their own transactions."""
        return self._engine

    def sweep_table(self, dataset: str) -> tuple[sa.Table, sa.Column[Any]]:
        """The table of ``dataset`` and its key column, checked against the data map."""
        ds = self._dataset(dataset)
        return ds.table, ds.key

    def guarded(self, action: str, dataset: str | None = None) -> AbstractContextManager[None]:
        """Database failures inside as ConnectorErrors naming no value (see ``_guard``)."""
        return self._guard(action, dataset)

    # -- the port ------------------------------------------------------------------

    def check(self) -> None:
        """Raise ConnectorUnavailableError if the database does not answer ``SELECT 1``."""
        with self._guard("answer"), self._engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def locate(self, dataset: str, criteria: Criteria) -> list[Record]:
        """The records of ``dataset`` matching ``criteria``, in one SELECT (none if empty)."""
        ds = self._dataset(dataset)
        # Per field, what a row must equal (identities of the spelled kinds by their
        # canonical form), and what the database is asked for (every spelling a store
        # may keep them in, in one IN list an index serves).
        exact: dict[str, set[Any]] = {}
        asked: dict[str, set[Any]] = {}
        lookups: dict[str, ExactLookup] = {}
        for name, given in criteria.exact.items():
            column = self._column(ds, name)
            kind = ds.spelled.get(name)
            if kind is not None:
                lookup = lookups[name] = exact_lookup(kind, given)
                wanted: set[Any] = set(lookup.wanted)
                spellings = _coerce_all(column, lookup.spellings)
                if name in ds.caseless:
                    # For lower(column) IN (...): lower() of every spelling, as Python's
                    # lower() gives it, for databases whose lower() folds every letter.
                    spellings |= {s.lower() for s in spellings}
            else:
                wanted = spellings = _coerce_all(column, given)
            if wanted and spellings:
                exact[name], asked[name] = wanted, spellings
        mentions: dict[str, set[str]] = {}
        for name, needles in criteria.mentions.items():
            self._column(ds, name)
            # An empty needle would match every row: dropped, never searched for.
            kept = {n for n in needles if isinstance(n, str) and n.strip()}
            if kept:
                mentions[name] = kept
        if not exact and not mentions:
            return []

        conditions = [self._equals(ds, name, spellings) for name, spellings in asked.items()]
        conditions += [
            self._contains(ds, name, needles, criteria.indexed.get(name))
            for name, needles in mentions.items()
        ]
        where = sa.or_(*conditions)
        exclude = _coerce_all(ds.key, criteria.exclude)
        if exclude:
            where = sa.and_(where, ds.key.not_in(exclude))
        columns = list(ds.fields.values())
        if ds.key.name not in ds.fields:
            columns.append(ds.key)
        query = sa.select(*columns).where(where).order_by(ds.key)
        try:
            with self._guard("search", ds.name), self._one_read() as conn:
                rows = _fetch_all(conn, query)
        except ConnectorDataError as exc:
            raise self._unreadable(ds, where, columns, exc.reason) from None

        key_index = [c.name for c in columns].index(ds.key.name)
        confirm = {
            name: {_normal(v) for v in w} for name, w in exact.items() if name not in lookups
        }
        records = []
        for row in rows:
            values = {name: row[i] for i, name in enumerate(ds.fields)}
            matched = (
                {
                    name
                    for name, wanted in confirm.items()
                    if values[name] is not None and _normal(values[name]) in wanted
                }
                | {
                    name
                    for name, lookup in lookups.items()
                    if name in exact and lookup.matches(values[name])
                }
                | {name for name, needles in mentions.items() if _mentions(values[name], needles)}
            )
            # The database may compare more loosely than intended (collations ignoring
            # accents or trailing spaces); only rows the intended comparison confirms count.
            if matched:
                records.append(Record(_key(row[key_index]), values, frozenset(matched)))
        return records

    def _one_read(self) -> Connection:
        """A connection for one reading statement (use it as a context manager).

        On PostgreSQL in autocommit: psycopg would otherwise send BEGIN before the
        statement and the pool ROLLBACK after it, two more round trips for the same
        single-statement snapshot (a search sends one statement per dataset). Not on
        MariaDB, where PyMySQL switches autocommit with a statement of its own each way.
        """
        conn = self._engine.connect()
        if self._engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    def export_files(self, dataset: str, keys: Sequence[Key]) -> Iterator[ExportedFile]:
        """Nothing: rows of a SQL table are exported as records, not files."""
        return iter(())

    def erase(
        self, steps: Sequence[ErasureStep], pseudonymise: Pseudonymiser
    ) -> list[ErasureOutcome]:
        """Apply the steps in order in one transaction: delete, erase fields, redact text."""
        # Everything is checked before the transaction starts, so a mistake in the last
        # step cannot leave the first ones half-done or waste a round trip.
        plans = [(step, self._dataset(step.dataset), self._field_erasures(step)) for step in steps]
        for step, ds, _ in plans:
            for redaction in step.redactions:
                self._text_column(ds, redaction.field)
        if not any(steps):
            return [ErasureOutcome(step.dataset) for step in steps]
        outcomes: list[ErasureOutcome] = []
        current: tuple[ErasureStep, _Dataset] | None = None
        try:
            with self._guard("erase"), self._engine.begin() as conn:
                for step, ds, erasures in plans:
                    current = (step, ds)
                    deleted = self._delete(conn, ds, step.delete)
                    updated = self._update(conn, ds, step.update, erasures, pseudonymise)
                    redacted = self._redact(conn, ds, step.redactions)
                    outcomes.append(ErasureOutcome(step.dataset, deleted, updated, redacted))
        except ConnectorDataError as exc:
            if current is None:
                raise
            # Only the redactions read text; the transaction is rolled back, so the
            # step's rows can be read one batch at a time to name the bad ones.
            step, ds = current
            columns = [ds.key, *(self._text_column(ds, r.field) for r in step.redactions)]
            keys = _coerce_all(ds.key, (k for r in step.redactions for k in r.keys))
            raise self._unreadable(ds, ds.key.in_(keys), columns, exc.reason) from None
        return outcomes

    def rectify(self, dataset: str, keys: Sequence[Key], changes: Mapping[str, Any]) -> int:
        """Set ``changes`` on the given records where a value differs; returns rows changed."""
        ds = self._dataset(dataset)
        values: dict[str, Any] = {}
        for name, value in changes.items():
            column = self._column(ds, name)
            if column is ds.key:
                raise ConnectorError(
                    f"{self._where(ds, name)} is the record's key and cannot be rectified"
                )
            if value is None:
                values[column.name] = None
                continue
            coerced = _coerce(column, value)
            if coerced is None:
                raise ConnectorError(
                    f"the new value for {self._where(ds, name)} does not fit the column's type"
                )
            values[column.name] = coerced
        wanted = _coerce_all(ds.key, keys)
        if not values or not wanted:
            return 0
        differs = sa.or_(*(ds.table.c[n].is_distinct_from(v) for n, v in values.items()))
        changed = 0
        with self._guard("rectify", ds.name), self._engine.begin() as conn:
            for chunk in _chunks(wanted):
                statement = (
                    sa.update(ds.table).where(ds.key.in_(chunk)).where(differs).values(values)
                )
                changed += conn.execute(statement).rowcount
        return changed

    def close(self) -> None:
        """Close the engine's pooled connections."""
        self._engine.dispose()

    # -- free text and the mention index -------------------------------------------

    def _contains(
        self, ds: _Dataset, name: str, needles: set[str], indexed: IndexedMentions | None
    ) -> sa.ColumnElement[bool]:
        """The search for mentions in one field: LIKE over the whole table, or where a
        mention index names the records (personvern.engine.mention_index), LIKE over
        those changed since it read them, OR the records it names.

        The index is not used where the database's own trigram index serves the LIKE,
        nor where it cannot be applied as given (then every row is searched, which finds
        the same: mention_pattern confirms every row either way).
        """
        column = ds.fields[name]
        searched = contains_any(column, needles)
        if indexed is None or name in self._served_by_trigrams(ds):
            return searched
        marker = ds.fields.get(indexed.marker)
        keys = _coerce_all(ds.key, indexed.keys)
        after = None if marker is None else _coerce(marker, indexed.after)
        if marker is None or after is None or len(keys) > CHUNK:
            return searched
        recent: sa.ColumnElement[bool] = marker > after
        if marker.nullable:
            recent = sa.or_(marker.is_(None), recent)
        changed = sa.and_(recent, searched)
        return sa.or_(ds.key.in_(keys), changed) if keys else changed

    def marker_kind(self, dataset: str, marker: str) -> str:
        """What the change marker holds: "integer", "datetime" or "date"; else ConnectorError."""
        ds = self._dataset(dataset)
        column = self._column(ds, marker)
        python_type = _python_type(column)
        kind = {int: "integer", datetime: "datetime", date: "date"}.get(python_type or type(None))
        if kind is None:
            raise ConnectorError(
                f"{self._where(ds, marker)}: a change marker must be an increasing integer "
                f"key or a date or timestamp column, not {column.type}",
                hint="name an updated-at column or the auto-increment primary key",
            )
        return kind

    def served_by_the_database(self, dataset: str) -> frozenset[str]:
        """The free-text fields a trigram index of the database serves LIKE on (PostgreSQL)."""
        return self._served_by_trigrams(self._dataset(dataset))

    def count_texts(self, dataset: str, marker: str, after: Any = None) -> int:
        """How many records read_texts reads: all, or those whose marker is past ``after``."""
        ds = self._dataset(dataset)
        query = sa.select(sa.func.count()).select_from(ds.table)
        where = self._past(ds, marker, after)
        if where is not None:
            query = query.where(where)
        with self._guard("count", ds.name), self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def read_texts(
        self,
        dataset: str,
        fields: Sequence[str],
        marker: str,
        after: Any = None,
        batch: int = 1000,
    ) -> Iterator[list[TextRow]]:
        """Every record (or those whose marker is past ``after``): key, marker and texts.

        Streamed (a server-side cursor on PostgreSQL and MariaDB), so memory holds one
        batch of ``batch`` records, however large the table.
        """
        ds = self._dataset(dataset)
        texts = [self._column(ds, name) for name in fields]
        column = self._column(ds, marker)
        query = sa.select(ds.key, column, *texts)
        where = self._past(ds, marker, after)
        if where is not None:
            query = query.where(where)
        with self._guard("read", ds.name), self._engine.connect() as conn:
            streamed = conn.execution_options(stream_results=True, max_row_buffer=batch)
            try:
                for rows in streamed.execute(query).partitions(batch):
                    yield [
                        TextRow(_key(row[0]), row[1], dict(zip(fields, row[2:], strict=True)))
                        for row in rows
                    ]
            except (sa.exc.DBAPIError, UnicodeDecodeError) as exc:
                reason = _undecodable(exc)
                if reason is None:
                    raise
                conn.invalidate()
                raise _UndecodableError(reason) from None

    def _past(self, ds: _Dataset, marker: str, after: Any) -> sa.ColumnElement[bool] | None:
        if after is None:
            return None
        column = self._column(ds, marker)
        bound = _coerce(column, after)
        if bound is None:
            raise ConnectorError(f"{self._where(ds, marker)}: the high-water mark does not fit")
        past: sa.ColumnElement[bool] = column > bound
        return past

    def _served_by_trigrams(self, ds: _Dataset) -> frozenset[str]:
        """The fields of ``ds`` whose ``lower(col) LIKE`` a trigram index serves.

        Asked of the catalogue once per connector, for every table of the system, and only
        on PostgreSQL: SQLite has no such index, and MariaDB's FULLTEXT answers MATCH, not
        LIKE.
        """
        if self._engine.dialect.name != "postgresql":
            return frozenset()
        served = self._trigram
        if served is None:
            with self._lock:
                if self._trigram is None:
                    names = [dataset.name for dataset in self.system.datasets]
                    with self._guard("describe its indexes"), self._engine.connect() as conn:
                        self._describing = conn
                        try:
                            self._trigram = _trigram_indexed(conn, names)
                        finally:
                            self._describing = None
                served = self._trigram
        columns = served.get(ds.table.name, frozenset())
        return frozenset(name for name, column in ds.fields.items() if column.name in columns)

    # -- erasure -------------------------------------------------------------------

    def _delete(self, conn: Connection, ds: _Dataset, keys: Sequence[Key]) -> int:
        deleted = 0
        for chunk in _chunks(_coerce_all(ds.key, keys)):
            deleted += conn.execute(sa.delete(ds.table).where(ds.key.in_(chunk))).rowcount
        return deleted

    def _update(
        self,
        conn: Connection,
        ds: _Dataset,
        keys: Sequence[Key],
        erasures: Sequence[_FieldErasure],
        pseudonymise: Pseudonymiser,
    ) -> int:
        wanted = _coerce_all(ds.key, keys)
        if not wanted or not erasures:
            return 0
        constants = [e for e in erasures if not e.pseudonymise]
        pseudonyms = [e for e in erasures if e.pseudonymise]
        values: dict[str, Any] = {}
        differs: list[sa.ColumnElement[bool]] = []
        for erasure in constants:
            column, constant = erasure.column, erasure.constant
            if constant is None:
                values[column.name] = None
                differs.append(column.is_not(None))
            else:
                values[column.name] = _unless_null(column, sa.literal(constant, column.type))
                # NULL != constant is not true: an empty field is left empty, not masked.
                differs.append(column != constant)
        if not pseudonyms:
            updated = 0
            for chunk in _chunks(wanted):
                statement = (
                    sa.update(ds.table)
                    .where(ds.key.in_(chunk))
                    .where(sa.or_(*differs))
                    .values(values)
                )
                updated += conn.execute(statement).rowcount
            return updated

        # Pseudonyms differ per row: one executemany, keyed on the primary key. The
        # constants ride along so that a row changed by both is counted once.
        params: list[dict[str, Any]] = []
        for index, erasure in enumerate(pseudonyms):
            column = erasure.column
            new = sa.bindparam(f"pv_value_{index}", type_=column.type)
            values[column.name] = _unless_null(column, new)
            differs.append(column != new)
        for key in wanted:
            row: dict[str, Any] = {"pv_key": key}
            for index, erasure in enumerate(pseudonyms):
                pseudonym = pseudonymise(ds.name, erasure.column.name, _key(key))
                row[f"pv_value_{index}"] = _fit(erasure.column, pseudonym)
            params.append(row)
        statement = (
            sa.update(ds.table)
            .where(ds.key == sa.bindparam("pv_key", type_=ds.key.type))
            .where(sa.or_(*differs))
            .values(values)
        )
        return conn.execute(statement, params).rowcount

    def _redact(self, conn: Connection, ds: _Dataset, redactions: Sequence[Redaction]) -> int:
        # Per redaction: its column, its keys, and the pattern that finds its needles.
        work: list[tuple[sa.Column[Any], set[Any], re.Pattern[str], str]] = []
        searches: list[sa.ColumnElement[bool]] = []
        for redaction in redactions:
            column = self._text_column(ds, redaction.field)
            keys = _coerce_all(ds.key, redaction.keys)
            needles = sorted({n for n in redaction.needles if n.strip()}, key=len, reverse=True)
            if not keys or not needles:
                continue
            # One alternation, longest first ("+47 912 34 567" goes whole before
            # "912 34 567"), matching whole mentions only.
            pattern = mention_pattern(needles)
            work.append((column, keys, pattern, redaction.replacement))
            searches.append(sa.and_(ds.key.in_(keys), contains_any(column, needles)))
        if not work:
            return 0
        columns = list(dict.fromkeys(column for column, *_ in work))
        # Only rows that still mention the subject come back, so a repeated run reads
        # nothing; FOR UPDATE keeps a concurrent edit from being overwritten.
        query = sa.select(ds.key, *columns).where(sa.or_(*searches)).with_for_update()
        params: list[dict[str, Any]] = []
        for row in _fetch_all(conn, query):
            key = row[0]
            texts = {column.name: row[i] for i, column in enumerate(columns, start=1)}
            new = dict(texts)
            for column, keys, pattern, replacement in work:
                text = new[column.name]
                if key in keys and isinstance(text, str):
                    new[column.name] = _fit(column, _replace(pattern, replacement, text))
            if new != texts:
                params.append(
                    {"pv_key": key, **{f"pv_text_{i}": new[c.name] for i, c in enumerate(columns)}}
                )
        if not params:
            return 0
        statement = (
            sa.update(ds.table)
            .where(ds.key == sa.bindparam("pv_key", type_=ds.key.type))
            .values(
                {
                    column.name: sa.bindparam(f"pv_text_{i}", type_=column.type)
                    for i, column in enumerate(columns)
                }
            )
        )
        conn.execute(statement, params)
        return len(params)

    def _field_erasures(self, step: ErasureStep) -> list[_FieldErasure]:
        ds = self._dataset(step.dataset)
        erasures = []
        for name, strategy in step.update_fields.items():
            try:
                known = ErasureStrategy(strategy)
            except ValueError:
                raise ConnectorError(
                    f"{self._where(ds, name)}: unknown erasure strategy {strategy!r}"
                ) from None
            erasure = self._field_erasure(ds, name, known)
            if erasure is not None:
                erasures.append(erasure)
        return erasures

    def _field_erasure(
        self, ds: _Dataset, name: str, strategy: ErasureStrategy
    ) -> _FieldErasure | None:
        column = self._column(ds, name)
        where = self._where(ds, name)
        if strategy is ErasureStrategy.KEEP:
            return None
        if column is ds.key:
            raise ConnectorError(f"{where} is the record's key: delete the record instead")
        if strategy is ErasureStrategy.DELETE_ROW:
            raise ConnectorError(
                f"{where}: 'delete' erases whole records; list their keys to delete instead"
            )
        if strategy is ErasureStrategy.SET_NULL and column.nullable:
            return _FieldErasure(column)
        if strategy is ErasureStrategy.MASK and name not in ds.unique:
            if _is_text(column):
                return _FieldErasure(column, constant=_mask(column, email=name in ds.emails))
            if column.nullable:
                return _FieldErasure(column)
        # Pseudonymise: asked for, or the only erasure a NOT NULL column (null) or a
        # UNIQUE one (a constant mask would collide on the second record) can take.
        if not _is_text(column):
            raise ConnectorError(
                f"{where} ({column.type}) cannot hold a pseudonym",
                hint="erase it with 'null' on a nullable column, or delete the record",
            )
        return _FieldErasure(column, pseudonymise=True)

    # -- tables --------------------------------------------------------------------

    def _dataset(self, name: str) -> _Dataset:
        datasets = self._datasets
        if datasets is None:
            with self._lock:
                if self._datasets is None:
                    self._datasets = self._reflect()
                datasets = self._datasets
        try:
            return datasets[name]
        except KeyError:
            raise ConnectorError(
                f"{self.system.key}.{name} is not a dataset of the data map"
            ) from None

    def _reflect(self) -> dict[str, _Dataset]:
        tables = self._tables()
        datasets: dict[str, _Dataset] = {}
        for dataset in self.system.datasets:
            table = tables.get(dataset.name)
            if table is None:
                raise ConnectorError(
                    f"{self.system.key}.{dataset.name}: the database has no such table",
                    hint="the data map and the database disagree; fix the one that is wrong",
                )
            fields: dict[str, sa.Column[Any]] = {}
            for data_field in dataset.fields:
                column = table.c.get(data_field.name)
                if column is None:
                    raise ConnectorError(
                        f"{self.system.key}.{dataset.name}.{data_field.name}: "
                        "the table has no such column",
                        hint="the data map and the database disagree; fix the one that is wrong",
                    )
                fields[data_field.name] = column
            declared_keys = [f.name for f in dataset.fields if f.primary_key]
            table_keys = [c.name for c in table.primary_key.columns]
            keys = declared_keys or table_keys
            if len(keys) != 1:
                raise ConnectorError(
                    f"{self.system.key}.{dataset.name} needs exactly one primary key field",
                    hint="mark it with primary_key: true in the data map",
                )
            datasets[dataset.name] = _Dataset(
                name=dataset.name,
                table=table,
                key=table.c[keys[0]],
                fields=fields,
                emails=frozenset(
                    f.name
                    for f in dataset.fields
                    if f.identity is IdentityKind.EMAIL and _is_text(fields[f.name])
                ),
                caseless=frozenset(
                    f.name
                    for f in dataset.fields
                    if f.identity is IdentityKind.EMAIL
                    and _is_text(fields[f.name])
                    and not f.stored_normalised
                ),
                spelled={
                    f.name: f.identity
                    for f in dataset.fields
                    if f.identity in SPELLED and _is_text(fields[f.name])
                },
                unique=_unique_columns(table) | {keys[0]},
            )
        return datasets

    def _tables(self) -> Mapping[str, sa.Table]:
        """The data map's tables: rebuilt from a kept layout of the same schema, or reflected."""
        wanted = sorted({dataset.name for dataset in self.system.datasets})
        metadata = sa.MetaData()
        fingerprint: str | None = None
        with (
            self._guard("describe its tables"),
            self._engine.connect() as conn,
            warnings.catch_warnings(),
        ):
            # SQLite cannot describe expression indexes (on lower(email), say); the
            # connector needs only the unique ones, which are never expressions here.
            warnings.filterwarnings(
                "ignore", message=_EXPRESSION_INDEX_WARNING, category=sa.exc.SAWarning
            )
            self._describing = conn
            try:
                if self._layouts is not None:
                    fingerprint = table_layouts.fingerprint(conn, wanted)
                    kept = self._kept_tables(fingerprint, wanted)
                    if kept is not None:
                        return kept
                metadata.reflect(
                    bind=conn, only=lambda name, _metadata: name in wanted, resolve_fks=False
                )
                # A schema changed while it was reflected: keep nothing under either print.
                if fingerprint is not None and fingerprint != table_layouts.fingerprint(
                    conn, wanted
                ):
                    fingerprint = None
            finally:
                self._describing = None
        if fingerprint is not None and set(wanted) <= metadata.tables.keys():
            self._keep_layout(fingerprint, [metadata.tables[name] for name in wanted])
        return metadata.tables

    def _kept_tables(
        self, fingerprint: str | None, wanted: Sequence[str]
    ) -> Mapping[str, sa.Table] | None:
        """The tables of the layout kept under ``fingerprint``; None to reflect them."""
        if fingerprint is None or self._layouts is None:
            return None
        try:
            layout = self._layouts.get(self.system.key, fingerprint)
        except Exception as exc:
            # The cache only saves time: when it fails, reflecting is always right.
            log.warning("%s: table layouts could not be read (%s)", self.system.key, exc)
            return None
        if layout is None:
            return None
        try:
            tables = table_layouts.rebuild(layout, self._engine.dialect)
        except LayoutError as exc:
            log.warning(
                "%s: the kept table layout is unusable (%s); reflecting", self.system.key, exc
            )
            return None
        return tables if set(wanted) <= tables.keys() else None

    def _keep_layout(self, fingerprint: str, tables: Sequence[sa.Table]) -> None:
        """Keep the reflected tables' layout for the next process, when it rebuilds exactly."""
        if self._layouts is None:
            return
        layout = table_layouts.describe_exactly(tables, self._engine.dialect)
        if layout is None:
            log.info(
                "%s: a column type cannot be kept; the tables are reflected each time",
                self.system.key,
            )
            return
        try:
            self._layouts.put(self.system.key, fingerprint, layout)
        except Exception as exc:
            log.warning("%s: the table layout could not be kept (%s)", self.system.key, exc)

    def _column(self, ds: _Dataset, name: str) -> sa.Column[Any]:
        try:
            return ds.fields[name]
        except KeyError:
            raise ConnectorError(
                f"{self._where(ds, name)} is not a field of the data map"
            ) from None

    def _text_column(self, ds: _Dataset, name: str) -> sa.Column[Any]:
        column = self._column(ds, name)
        if not _is_text(column):
            raise ConnectorError(f"{self._where(ds, name)} is not text and cannot be redacted")
        return column

    def _equals(self, ds: _Dataset, name: str, values: set[Any]) -> sa.ColumnElement[bool]:
        column = ds.fields[name]
        caseless = name in ds.caseless and _is_text(column)
        return equals_any(self._engine.dialect.name, column, values, caseless=caseless)

    def _where(self, ds: _Dataset, name: str) -> str:
        return f"{self.system.key}.{ds.name}.{name}"

    # -- rows that cannot be read --------------------------------------------------

    def _unreadable(
        self,
        ds: _Dataset,
        where: sa.ColumnElement[bool],
        columns: Sequence[sa.Column[Any]],
        reason: str,
    ) -> ConnectorDataError:
        """Which rows of a failed search cannot be read, as the error that names them.

        The keys alone can be read (they are numbers, or text that decodes); the rows
        are then read in batches, and a batch that fails is halved until the rows that
        fail are found, within a bounded number of statements.
        """
        keys_query = sa.select(ds.key).where(where).order_by(ds.key).limit(_DIAGNOSED_ROWS)
        try:
            with self._guard("search", ds.name), self._engine.connect() as conn:
                keys = [row[0] for row in _fetch_all(conn, keys_query)]
        except ConnectorDataError:
            return ConnectorDataError(self.system.key, ds.name, [], f"{reason}, its key included")
        budget = [_MAX_PROBES]
        found: list[Any] = []

        def readable(batch: Sequence[Any]) -> bool:
            budget[0] -= 1
            return self._readable(ds, columns, batch)

        def bisect(batch: Sequence[Any]) -> None:
            """Find the unreadable rows of a batch known to hold at least one."""
            if len(found) >= _MAX_NAMED or budget[0] <= 0:
                return
            if len(batch) == 1:
                found.append(batch[0])
                return
            first, second = batch[: len(batch) // 2], batch[len(batch) // 2 :]
            if readable(first):
                bisect(second)  # the bad row is in the other half: no need to read it
                return
            bisect(first)
            if len(found) < _MAX_NAMED and budget[0] > 0 and not readable(second):
                bisect(second)

        for start in range(0, len(keys), _PROBE_BATCH):
            if len(found) >= _MAX_NAMED or budget[0] <= 0:
                break
            batch = keys[start : start + _PROBE_BATCH]
            if not readable(batch):
                bisect(batch)
        return ConnectorDataError(
            self.system.key, ds.name, [self._shown_key(ds, key) for key in found], reason
        )

    def _readable(
        self, ds: _Dataset, columns: Sequence[sa.Column[Any]], keys: Sequence[Any]
    ) -> bool:
        try:
            with self._guard("search", ds.name), self._engine.connect() as conn:
                _fetch_all(conn, sa.select(*columns).where(ds.key.in_(keys)))
        except ConnectorDataError:
            return False
        return True

    def _shown_key(self, ds: _Dataset, key: Any) -> str:
        """A key as an error message may show it: masked where it is contact details."""
        declared = next((d for d in self.system.datasets if d.name == ds.name), None)
        field_ = next((f for f in declared.fields if f.primary_key), None) if declared else None
        if field_ is not None and field_.identity in _PERSONAL_KEYS:
            return SubjectIdentity(field_.identity, str(key)).masked
        return str(_key(key))

    # -- errors and counting -------------------------------------------------------

    @contextmanager
    def _guard(self, action: str, dataset: str | None = None) -> Iterator[None]:
        """Translate SQLAlchemy's failures, without the statement or its values."""
        where = f"{self.system.key}.{dataset}" if dataset else self.system.key
        try:
            yield
        except _UndecodableError as exc:
            # Not an outage: retrying reads the same bytes again.
            raise ConnectorDataError(self.system.key, dataset, [], exc.reason) from None
        except (
            sa.exc.OperationalError,
            sa.exc.InterfaceError,
            sa.exc.DisconnectionError,
            sa.exc.TimeoutError,
        ) as exc:
            raise ConnectorUnavailableError(self.system.key, _reason(exc)) from None
        except sa.exc.DBAPIError as exc:
            # The driver's message may quote the offending value (a duplicate key, say),
            # so only its class and code are passed on, and the cause is not chained.
            raise ConnectorError(
                f"{where}: the database refused to {action} ({_error_code(exc)})"
            ) from None
        except sa.exc.SQLAlchemyError as exc:
            raise ConnectorError(f"{where}: could not {action} ({type(exc).__name__})") from None

    def _count_statement(self, conn: Connection, *_args: object) -> None:
        self.statements_issued += 1
        if conn is self._describing:
            self.schema_statements += 1
        conn.info["personvern_statement_started"] = time.perf_counter()

    def _time_statement(self, conn: Connection, *_args: object) -> None:
        started = conn.info.pop("personvern_statement_started", None)
        if started is not None:
            self.statement_seconds += time.perf_counter() - started


# -- helpers -----------------------------------------------------------------------


class _UndecodableError(Exception):
    """The driver could not decode a row's text; the connection it broke is discarded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _fetch_all(conn: Connection, query: sa.Executable) -> list[sa.Row[Any]]:
    """Every row of ``query``, or _UndecodableError when the driver cannot decode one."""
    try:
        return list(conn.execute(query).all())
    except (sa.exc.DBAPIError, UnicodeDecodeError) as exc:
        reason = _undecodable(exc)
        if reason is None:
            raise
        # PyMySQL stops reading in the middle of the answer and leaves the connection
        # unusable: the rollback on returning it to the pool would fail and hide why.
        conn.invalidate()
        raise _UndecodableError(reason) from None


def _undecodable(exc: BaseException) -> str | None:
    """Why stored text cannot be decoded, for a privacy officer, or None for other failures."""
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(cause, UnicodeDecodeError):
        # PyMySQL decodes in Python, in the character set the connection asked for.
        # (Single-byte codecs such as cp1252 call themselves "charmap": not worth showing.)
        if cause.encoding.lower().replace("_", "-") in {"utf-8", "utf8"}:
            return _NOT_UTF8
        return "its text is not valid in the character set the connection uses"
    if isinstance(cause, sqlite3.OperationalError):
        # sqlite3: "Could not decode to UTF-8 column 'x' with text '...'".
        return _NOT_UTF8 if str(cause).startswith("Could not decode to UTF-8") else None
    # PostgreSQL: the server cannot convert the stored bytes to the client's encoding.
    return _NOT_UTF8 if getattr(cause, "sqlstate", None) in _UNTRANSLATABLE else None


#: The key of a trigram index serving ``lower(col) LIKE``, as pg_get_indexdef shows it.
_LOWER_KEY = re.compile(
    r'^lower\((?:"(?P<quoted>(?:[^"]|"")+)"|(?P<plain>[a-z_][a-z0-9_$]*))'
    r"(?:::(?:text|character varying))?\)$"
)


def _trigram_indexed(conn: Connection, tables: Sequence[str]) -> dict[str, frozenset[str]]:
    """Per table, the columns whose ``lower(col)`` a valid, whole-table trigram index keys."""
    rows = conn.execute(
        sa.text(
            "SELECT t.relname, pg_get_indexdef(i.indexrelid, k.n + 1, true) "
            "FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = current_schema() "
            "JOIN LATERAL generate_series(0, i.indnkeyatts - 1) AS k(n) ON true "
            "JOIN pg_opclass oc ON oc.oid = i.indclass[k.n] "
            "WHERE oc.opcname IN ('gin_trgm_ops', 'gist_trgm_ops') "
            "AND i.indisvalid AND i.indpred IS NULL AND t.relname = ANY(:tables)"
        ),
        {"tables": list(tables)},
    ).all()
    found: dict[str, set[str]] = {}
    for table, key in rows:
        match = _LOWER_KEY.match(str(key))
        if match is not None:
            quoted = match.group("quoted")
            name = quoted.replace('""', '"') if quoted is not None else match.group("plain")
            found.setdefault(str(table), set()).add(name)
    return {table: frozenset(columns) for table, columns in found.items()}


def read_only_engine(system: str, url: str) -> Engine:
    """An engine for ``system`` whose sessions refuse every write (for checks, not requests)."""
    return _create_engine(system, url, read_only=True)


def failure_reason(exc: sa.exc.SQLAlchemyError) -> str:
    """Why a database could not be reached, in words that name no host, user or value."""
    return _reason(exc)


def _create_engine(system: str, raw_url: str, *, read_only: bool = False) -> Engine:
    try:
        url = make_url(raw_url)
    except sa.exc.ArgumentError:
        raise ConnectorError(
            f"{system}: the connection variable does not hold a database URL",
            hint="e.g. postgresql+psycopg://user@host/db, mysql+pymysql://..., sqlite:///path",
        ) from None
    # The company's values (identities, free text) must never reach a log through an
    # error message.
    kwargs: dict[str, Any] = {"hide_parameters": True}
    backend = url.get_backend_name()
    if backend == "sqlite":
        url = _sqlite_url(url, mode="ro" if read_only else "rw")
        # Jobs may run on another thread than the one that opened a pooled connection.
        kwargs["connect_args"] = {"check_same_thread": False}
    elif "connect_timeout" not in url.query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError, ImportError):
        raise ConnectorError(
            f"{system}: personvern cannot talk to {url.drivername} databases",
            hint="use postgresql+psycopg://, mysql+pymysql:// or sqlite:///",
        ) from None
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_foreign_keys)
    else:
        # A server restart or a proxy timeout must not fail the next request.
        ping_when_idle(engine, system)
    if read_only:
        sa.event.listen(engine, "connect", _read_only_session(_READ_ONLY.get(backend)))
    return engine


def _sqlite_url(url: URL, mode: str = "rw") -> URL:
    """Open an existing file only (``rw`` or ``ro``): a wrong path must fail, not create one."""
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return url
    return url.set(
        database=f"file:{quote(database)}", query={**url.query, "mode": mode, "uri": "true"}
    )


def _sqlite_foreign_keys(dbapi_connection: Any, _record: object) -> None:
    # SQLite ignores declared foreign keys unless asked, per connection; the servers
    # enforce them, and an erasure must fail alike everywhere if it orphans a row.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


#: What makes a session refuse writes, per SQLAlchemy backend.
_READ_ONLY = {
    "sqlite": "PRAGMA query_only = ON",
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
}


def _read_only_session(statement: str | None) -> Callable[[Any, object], None]:
    """A connect listener asking the server to refuse writes for the whole session."""
    if statement is None:
        raise ConnectorError("personvern cannot open this kind of database read-only")

    def listener(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
        # Committed: a SET rolled back when the pool resets the connection is undone.
        dbapi_connection.commit()

    return listener


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    text = str(cause).lower()
    for fragments, reason in _REASONS:
        if any(fragment in text for fragment in fragments):
            return reason
    return type(cause).__name__


def _error_code(exc: sa.exc.DBAPIError) -> str:
    cause = exc.orig
    name = type(cause).__name__
    code = (
        getattr(cause, "sqlstate", None)  # psycopg
        or getattr(cause, "sqlite_errorname", None)  # sqlite3
        or (
            cause.args[0]
            if cause is not None and cause.args and isinstance(cause.args[0], int)
            else None
        )
    )
    return f"{name} {code}" if code else name


def _unique_columns(table: sa.Table) -> frozenset[str]:
    unique = {
        constraint.columns[0].name
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint) and len(constraint.columns) == 1
    }
    unique |= {
        index.columns[0].name
        for index in table.indexes
        if index.unique and len(index.expressions) == 1 and len(index.columns) == 1
    }
    return frozenset(unique)


def _is_text(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.String)


def _length(column: sa.Column[Any]) -> int | None:
    length = getattr(column.type, "length", None)
    return length if isinstance(length, int) and length > 0 else None


def _fit(column: sa.Column[Any], text: str) -> str:
    length = _length(column)
    return text[:length] if length is not None else text


def _mask(column: sa.Column[Any], *, email: bool) -> str:
    length = _length(column)
    if email and (length is None or length >= len(EMAIL_MASK)):
        return EMAIL_MASK
    return _fit(column, MASK)


def _unless_null(column: sa.Column[Any], value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """``value``, but NULL where the column is NULL: an empty field stays empty."""
    if not column.nullable:
        return value
    return sa.case((column.is_(None), sa.null()), else_=value)


def equals_any(
    dialect: str, column: sa.Column[Any], values: Collection[Any], *, caseless: bool
) -> sa.ColumnElement[bool]:
    """The comparison ``locate`` asks a column with: plain, or ignoring case (e-mail)."""
    if not caseless or dialect in {"mysql", "mariadb"}:
        # Plain: what every index on the column serves. MySQL's default collations
        # compare case-insensitively already, so e-mail is compared plainly there too.
        return column.in_(values)
    if dialect == "sqlite":
        # NOCASE folds ASCII exactly as SQLite's lower() does, and a NOCASE index
        # (which, unlike an index on lower(), SQLite can describe) serves it.
        return sa.collate(column, "NOCASE").in_(values)
    # PostgreSQL and the rest: an index on lower(column) serves this.
    return sa.func.lower(column).in_(values)


def contains_any(column: sa.Column[Any], needles: Iterable[str]) -> sa.ColumnElement[bool]:
    """Case-insensitive substring search for candidates, LIKE wildcards in the needles escaped."""
    lowered = sa.func.lower(column)
    # Each needle as every store's lower() may show it (mention_search_terms); a term
    # that contains another can only match where the shorter one does ("+47 912 34 567"
    # where "912 34 567" does), so the database need not test it: half the LIKE terms,
    # half the scan time where no index serves them. mention_pattern confirms every row.
    wanted = sorted(mention_search_terms(needles))
    minimal = [n for n in wanted if not any(o != n and o in n for o in wanted)]
    return sa.or_(*(lowered.like(pattern, escape="/") for pattern in _like_patterns(minimal)))


#: Characters that separate the groups of a number people write: "010170 12343",
#: "010170-12343" and "971.55.337" are one term with a one-character wildcard between.
_SEPARATORS = frozenset(" -.")


def _like_patterns(terms: Sequence[str]) -> list[str]:
    """LIKE patterns finding every term as a substring, terms of one spelling merged.

    The scan tests every pattern on every row, so spellings of one identity share one
    pattern where a wildcard covers them: the same digits with a blank or a hyphen
    (``_``), an address plain and URL-encoded (``kari%example.no`` for ``kari@…`` and
    ``kari%40…``). Broader than the terms; mention_pattern confirms every row.
    """
    remaining = list(dict.fromkeys(terms))
    patterns: list[str] = []
    for term in list(remaining):
        prefix, at, suffix = term.partition("%40")
        plain = f"{prefix}@{suffix}"
        if at and prefix and suffix and plain in remaining and term in remaining:
            remaining.remove(term)
            remaining.remove(plain)
            patterns.append(f"%{_like_literal(prefix)}%{_like_literal(suffix)}%")
    by_shape: dict[str, list[str]] = {}
    for term in remaining:
        shape = "".join(" " if char in _SEPARATORS else char for char in term)
        by_shape.setdefault(shape, []).append(term)
    for same in by_shape.values():
        columns = zip(*same, strict=True)
        merged = "".join(_like_literal(c[0]) if len(set(c)) == 1 else "_" for c in columns)
        patterns.append(f"%{merged}%")
    return patterns


def _like_literal(text: str) -> str:
    """``text`` matched as written by LIKE ... ESCAPE '/'."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _chunks(values: Collection[Any]) -> Iterator[list[Any]]:
    ordered = sorted(values, key=str)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _python_type(column: sa.Column[Any]) -> type | None:
    try:
        python_type: type = column.type.python_type
    except NotImplementedError:
        return None
    return python_type


def _coerce_all(column: sa.Column[Any], values: Iterable[Any]) -> set[Any]:
    """The values the column can hold; the others could match nothing and are dropped."""
    coerced = (_coerce(column, value) for value in values)
    return {value for value in coerced if value is not None}


def _coerce(column: sa.Column[Any], value: Any) -> Any:
    """``value`` as the column's Python type, or None when it cannot be one."""
    target = _python_type(column)
    if value is None or (isinstance(value, bool) and target is not bool):
        return None
    if target is int:
        if isinstance(value, str) and _INTEGER.match(value.strip()):
            value = int(value)
        return value if isinstance(value, int) and value in _INT_RANGE else None
    if target is str:
        # Never a number against a text column: MySQL would compare numerically and
        # 'abc' = 0 would hold for every row.
        return str(value) if isinstance(value, str | int) else None
    if target is None or isinstance(value, target):
        return value
    return _parse(target, value) if isinstance(value, str) else None


_PARSERS: dict[type, Callable[[str], Any]] = {
    Decimal: Decimal,
    float: float,
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    uuid.UUID: uuid.UUID,
}


def _parse(target: type, text: str) -> Any:
    parse = _PARSERS.get(target)
    if parse is None:
        return None
    try:
        return parse(text.strip())
    except (ValueError, ArithmeticError):
        return None


def _replace(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    # A function, not a template: the replacement is inserted as written, backslashes too.
    return pattern.sub(lambda _match: replacement, text)


def _normal(value: Any) -> Any:
    """A value as the intended comparison sees it: without trailing blanks.

    Identities of the spelled kinds are compared by their canonical form instead
    (personvern.domain.identities.kinds.ExactLookup).
    """
    if not isinstance(value, str):
        return value
    # Trailing blanks do not make a different value (CHAR padding, SQL's PAD SPACE).
    return value.rstrip()


def _mentions(value: Any, needles: set[str]) -> bool:
    if not isinstance(value, str):
        return False
    # LIKE found a substring; only a whole mention counts ("ola@firma.no" is not in
    # "kari.ola@firma.no").
    return _pattern(frozenset(needles)).search(value) is not None


@functools.lru_cache(maxsize=64)
def _pattern(needles: frozenset[str]) -> re.Pattern[str]:
    return mention_pattern(needles)


def _key(value: Any) -> Key:
    return value if isinstance(value, int | str) and not isinstance(value, bool) else str(value)
