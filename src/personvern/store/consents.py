"""The consent ledger in the store: insert and query, nothing else.

There is no method to change or delete a record (and the model refuses both, see
personvern.store.consent_models): a new grant or withdrawal is a new record. Queries
that serve many people at once (bulk decisions) take whole chunks of hashed identities
per query, never one query per person.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, TypeAlias

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditAction, AuditActor
from personvern.domain.consent.ledger import (
    ConsentAction,
    ConsentChannel,
    ConsentProof,
    ConsentRecord,
    ConsentSource,
    ConsentText,
)
from personvern.domain.datamap import IdentityKind
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.store.audit_events import AuditTrail
from personvern.store.base import utcnow
from personvern.store.consent_models import ConsentRecordRow
from personvern.store.consent_models import ConsentText as ConsentTextRow
from personvern.store.errors import StoreError
from personvern.store.models import DataSubjectRequest, RequestIdentityHash, SubjectFlag

#: Hashes per query: well under every database's limit on bound parameters.
CHUNK = 900
#: From this many hashes a lookup first counts the rows it could match: when there are
#: fewer, it reads them all in one query instead of a chunk of hashes per query.
LONG_LIST = 20 * CHUNK
#: The placeholder of each positional driver style (sqlite3; psycopg and PyMySQL).
_POSITIONAL = {"qmark": "?", "format": "%s", "pyformat": "%s"}
#: Which hashes have records for the purposes: {0} the kind, {1} the purposes, {2} hashes.
_RECORDED = (
    "SELECT DISTINCT identity_hash FROM consent_records "
    "WHERE identity_kind = {0} AND purpose IN ({1}) AND identity_hash IN ({2})"
)
#: The flags in force of hashes: {0} the kind, {1} the hashes.
_FLAGGED = (
    "SELECT identity_hash, kind, purpose FROM subject_flags "
    "WHERE identity_kind = {0} AND lifted_at IS NULL AND identity_hash IN ({1})"
)

#: The states of an erasure that is under way: verified, and not yet finished.
ERASING_STATES = (
    RequestState.VERIFIED,
    RequestState.IN_PROGRESS,
    RequestState.WAITING_FOR_SYSTEM,
    RequestState.NEEDS_REVIEW,
)


#: The record columns a decision reads, in ConsentRecord's order.
_RECORD_COLUMNS = (
    ConsentRecordRow.identity_hash,
    ConsentRecordRow.purpose,
    ConsentRecordRow.action,
    ConsentRecordRow.at,
    ConsentRecordRow.source,
    ConsentRecordRow.channel,
    ConsentRecordRow.text_version,
)
#: Which requests are erasures under way.
_UNDER_WAY = (
    DataSubjectRequest.type == RequestType.ERASURE.value,
    DataSubjectRequest.state.in_(ERASING_STATES),
)


#: The erasures under way, records for some purposes and flags in force of one person
#: (or of a few, see _ReadsTogether), in one statement (a decision needs all three;
#: asked apart, they cost a round trip each to a server store). The three row shapes
#: share columns (``part`` says which a row is; column ``a`` holds the hash of a record
#: or flag, ``b`` an erasure's), NULLs filling the rest. An erasure is found by the
#: keyed hash of the person's identity (RequestIdentityHash), never by unsealing
#: requests. Sent to the driver as it is (see _one_subject_query): ``{m}`` is the
#: driver's placeholder, ``{hashes}``, ``{states}`` and ``{purposes}`` as many of them as
#: there are. Only placeholders go into the text; every value is a bound parameter.
def _one_subject_text() -> str:
    """The one-person statement's text, its names taken from the tables' definitions."""
    request = sa.inspect(DataSubjectRequest).columns
    named = sa.inspect(RequestIdentityHash).columns
    record = sa.inspect(ConsentRecordRow).columns
    flag = sa.inspect(SubjectFlag).columns
    requests, hashes, records, flags = (
        DataSubjectRequest.__tablename__,
        RequestIdentityHash.__tablename__,
        ConsentRecordRow.__tablename__,
        SubjectFlag.__tablename__,
    )
    subject = "{m}"
    # Names from personvern's own table definitions only: no value is ever formatted in.
    return (
        f"SELECT 'e' AS part, q.{request.id.name} AS a, h.{named.identity_hash.name} AS b, "  # noqa: S608  # nosec B608
        f"NULL AS c, NULL AS d, NULL AS at, NULL AS e, NULL AS f, NULL AS n "
        f"FROM {hashes} h JOIN {requests} q ON q.{request.id.name} = h.{named.request_id.name} "
        f"WHERE h.{named.identity_hash.name} IN ({{hashes}}) AND h.{named.identity_kind.name} = "
        f"{subject} AND q.{request.type.name} = {subject} "
        f"AND q.{request.state.name} IN ({{states}}) "
        f"UNION ALL SELECT 'r', {record.identity_hash.name}, {record.purpose.name}, "
        f"{record.action.name}, {record.source.name}, {record.at.name}, {record.channel.name}, "
        f"{record.text_version.name}, {record.id.name} FROM {records} "
        f"WHERE {record.identity_hash.name} IN ({{hashes}}) AND {record.identity_kind.name} = "
        f"{subject} AND {record.purpose.name} IN ({{purposes}}) "
        f"UNION ALL SELECT 'f', {flag.identity_hash.name}, {flag.purpose.name}, {flag.kind.name}, "
        f"NULL, NULL, NULL, NULL, NULL FROM {flags} "
        f"WHERE {flag.identity_hash.name} IN ({{hashes}}) AND {flag.identity_kind.name} = "
        f"{subject} AND {flag.lifted_at.name} IS NULL ORDER BY part, at, n"
    )


_ONE_SUBJECT = _one_subject_text()


def _one_subject_query(
    dialect: sa.Dialect, identity_kind: str, identity_hash: str, purposes: Collection[str]
) -> tuple[str, tuple[str, ...]]:
    """The driver's text of the one-person statement and its values, in the driver's style."""
    return _subjects_query(_mark(dialect), identity_kind, (identity_hash,), _wanted(purposes))


def _mark(dialect: sa.Dialect) -> str:
    """The driver's positional placeholder; StoreError for a driver of another style."""
    mark = _POSITIONAL.get(dialect.paramstyle)
    if mark is None:
        raise StoreError(
            f"personvern's store does not support the {dialect.driver} driver "
            f"({dialect.paramstyle} parameters)",
            hint="use sqlite, postgresql+psycopg or mysql+pymysql",
        )
    return mark


def _wanted(purposes: Collection[str]) -> tuple[str, ...]:
    """The purposes asked about, in a stable order (a statement's text and values)."""
    # IN () matches nothing on every database, but some refuse to parse it.
    return tuple(sorted(purposes)) or ("",)


def _subjects_query(
    mark: str, identity_kind: str, hashes: Sequence[str], purposes: Sequence[str]
) -> tuple[str, tuple[str, ...]]:
    """The one-person statement for every one of ``hashes``, and its values."""
    return (
        _one_subject_sql(mark, len(purposes), len(hashes)),
        (
            *hashes,
            identity_kind,
            RequestType.ERASURE.value,
            *_STATES,
            *hashes,
            identity_kind,
            *purposes,
            *hashes,
            identity_kind,
        ),
    )


_STATES = tuple(state.value for state in ERASING_STATES)


@lru_cache(maxsize=256)
def _one_subject_sql(mark: str, purposes: int, hashes: int = 1) -> str:
    """_ONE_SUBJECT with ``mark`` placeholders for ``purposes`` purposes and ``hashes`` people."""
    return _ONE_SUBJECT.format(
        m=mark,
        hashes=", ".join([mark] * hashes),
        states=", ".join([mark] * len(_STATES)),
        purposes=", ".join([mark] * purposes),
    )


def _by_subject(rows: Iterable[Sequence[Any]]) -> dict[str, list[Sequence[Any]]]:
    """The statement's rows for several people, by hash, in the statement's order."""
    found: dict[str, list[Sequence[Any]]] = {}
    for row in rows:
        found.setdefault(row[2] if row[0] == "e" else row[1], []).append(row)
    return found


def _subject_rows(
    kind: IdentityKind, rows: Iterable[Sequence[Any]], timestamp: Callable[[Any], Any] | None
) -> SubjectRows:
    """SubjectRows from the one-person statement's rows as the driver gives them.

    ``timestamp``: the store's conversion of a driver's timestamp (SQLite keeps text).
    """
    found = SubjectRows([], [], [])
    for part, a, b, c, d, at, e, f, _n in rows:
        if part == "r":
            when = timestamp(at) if timestamp is not None else at
            found.records.append(_record(kind, a, b, c, when, d, e, f))
        elif part == "f":
            found.flags.append((c, b))
        else:
            found.erasures.append(a)
    return found


def _timestamps(dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """How the store turns a driver's timestamp into an aware datetime, on ``dialect``."""
    column = ConsentRecordRow.__table__.c.at
    return column.type.dialect_impl(dialect).result_processor(dialect, None)


@dataclass(frozen=True)
class SubjectRows:
    """What a decision about one person reads from the ledger and the requests."""

    #: Their consent records for the purposes asked about, oldest first.
    records: list[ConsentRecord]
    #: Their restriction, objection and withdrawal flags in force, as (kind, purpose).
    flags: list[tuple[str, str | None]]
    #: The erasures under way that name them, by request id.
    erasures: list[str]


def new_record_id() -> str:
    """A random, unguessable record id: 32 hex characters."""
    return secrets.token_hex(16)


def chunks(values: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    """``values`` in slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def to_record(row: ConsentRecordRow) -> ConsentRecord:
    """The domain's view of a stored record."""
    return ConsentRecord(
        identity_kind=IdentityKind(row.identity_kind),
        identity_hash=row.identity_hash,
        purpose=row.purpose,
        action=ConsentAction(row.action),
        at=row.at,
        source=ConsentSource(row.source),
        channel=ConsentChannel(row.channel) if row.channel else None,
        text_version=row.text_version,
        proof=ConsentProof(row.ip_prefix, row.user_agent_family),
        id=row.public_id,
    )


class ConsentLedger:
    """Appends to and reads the consent ledger within the caller's session and transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        record: ConsentRecord,
        *,
        text: ConsentText | None,
        recorded_by: AuditActor,
        recorded_at: datetime | None = None,
    ) -> ConsentRecordRow:
        """Append ``record`` (its text stored once under its version) and audit it."""
        if text is not None and self.session.get(ConsentTextRow, text.version) is None:
            self.session.add(
                ConsentTextRow(version=text.version, language=text.language, text=text.text)
            )
            self.session.flush()
        row = ConsentRecordRow(
            public_id=new_record_id(),
            identity_kind=record.identity_kind.value,
            identity_hash=record.identity_hash,
            purpose=record.purpose,
            action=record.action.value,
            at=record.at,
            recorded_at=recorded_at or utcnow(),
            source=record.source.value,
            channel=record.channel.value if record.channel else None,
            language=text.language if text is not None else None,
            text_version=text.version if text is not None else None,
            ip_prefix=record.proof.ip_prefix,
            user_agent_family=record.proof.user_agent_family,
            recorded_by=recorded_by.subject[:200],
        )
        self.session.add(row)
        self.session.flush()
        AuditTrail(self.session).record(
            AuditAction.CONSENT_CHANGED,
            recorded_by,
            subject_key=record.identity_hash,
            purpose=record.purpose,
            detail={
                "consent": row.public_id,
                "action": row.action,
                "source": row.source,
                "channel": row.channel,
                "identity_kind": row.identity_kind,
            },
        )
        return row

    def get(self, public_id: str) -> ConsentRecordRow | None:
        """The record with ``public_id``, if there is one."""
        return self.session.scalars(
            sa.select(ConsentRecordRow).where(ConsentRecordRow.public_id == public_id)
        ).first()

    def text(self, version: str) -> ConsentTextRow | None:
        """The stored text of ``version``."""
        return self.session.get(ConsentTextRow, version)

    def history(self, identity_kind: str, identity_hash: str) -> list[ConsentRecordRow]:
        """Every record of one hashed identity, oldest first (insertion order breaks ties)."""
        query = (
            sa.select(ConsentRecordRow)
            .where(
                ConsentRecordRow.identity_hash == identity_hash,
                ConsentRecordRow.identity_kind == identity_kind,
            )
            .order_by(ConsentRecordRow.at, ConsentRecordRow.id)
        )
        return list(self.session.scalars(query).all())

    def records_of(
        self, identity_kind: str, hashes: Sequence[str], purposes: Collection[str]
    ) -> dict[str, list[ConsentRecord]]:
        """The records of many hashed identities for ``purposes``, oldest first, by hash.

        First which of the hashes have records at all (see :meth:`_recorded`), then
        the records of those (most people in a marketing list have none, so the second
        step reads few rows).
        """
        found: dict[str, list[ConsentRecord]] = {}
        if not purposes or not hashes:
            return found
        wanted = sorted(purposes)
        kind = IdentityKind(identity_kind)
        recorded = self._recorded(identity_kind, hashes, wanted)
        for chunk in chunks(recorded):
            query = (
                sa.select(*_RECORD_COLUMNS)
                .where(
                    ConsentRecordRow.identity_hash.in_(chunk),
                    ConsentRecordRow.identity_kind == identity_kind,
                    ConsentRecordRow.purpose.in_(wanted),
                )
                .order_by(ConsentRecordRow.at, ConsentRecordRow.id)
            )
            # Core, not the ORM: these are plain columns, and a decision is on the hot path.
            self._add_records(found, kind, self.session.connection().execute(query))
        return found

    @staticmethod
    def _add_records(
        found: dict[str, list[ConsentRecord]], kind: IdentityKind, rows: Iterable[Any]
    ) -> None:
        for row in rows:
            found.setdefault(row[0], []).append(_record(kind, *row))

    def one_subject(
        self, identity_kind: str, identity_hash: str, purposes: Collection[str]
    ) -> SubjectRows:
        """One hashed identity's records for ``purposes`` and flags, and the erasures under way."""
        connection = self.session.connection()
        sql, values = _one_subject_query(connection.dialect, identity_kind, identity_hash, purposes)
        rows = connection.exec_driver_sql(sql, values)
        return _subject_rows(IdentityKind(identity_kind), rows, _timestamps(connection.dialect))

    def erasing(self, identity_kind: str) -> set[str]:
        """The hashed identities of ``identity_kind`` that an erasure under way names."""
        query = (
            sa.select(RequestIdentityHash.identity_hash)
            .join(DataSubjectRequest, DataSubjectRequest.id == RequestIdentityHash.request_id)
            .where(RequestIdentityHash.identity_kind == identity_kind, *_UNDER_WAY)
        )
        return set(self.session.connection().scalars(query))

    def flags_of(
        self, identity_kind: str, hashes: Sequence[str]
    ) -> dict[str, list[tuple[str, str | None]]]:
        """The restriction, objection and withdrawal flags in force, (kind, purpose) by hash."""
        found: dict[str, list[tuple[str, str | None]]] = {}
        columns = (SubjectFlag.identity_hash, SubjectFlag.kind, SubjectFlag.purpose)
        if len(hashes) >= LONG_LIST:
            in_force = (SubjectFlag.identity_kind == identity_kind, SubjectFlag.lifted_at.is_(None))
            if self._fewer_than(len(hashes), SubjectFlag.id, *in_force):
                # Fewer flags than hashes asked about: read them all once, not by chunks.
                asked = set(hashes)
                for hashed, kind, purpose in self.session.connection().execute(
                    sa.select(*columns).where(*in_force)
                ):
                    if hashed in asked:
                        found.setdefault(hashed, []).append((kind, purpose))
                return found
        for chunk in chunks(hashes):
            rows = self._match(
                _FLAGGED,
                [[identity_kind], chunk],
                partial(_flagged, identity_kind, chunk),
            )
            for hashed, kind, purpose in rows:
                found.setdefault(hashed, []).append((kind, purpose))
        return found

    def _recorded(
        self, identity_kind: str, hashes: Sequence[str], purposes: Sequence[str]
    ) -> list[str]:
        """Which of ``hashes`` have records for ``purposes``, in the order given.

        One person (a single decision): just them. A list longer than the ledger: the
        ledger's hashes once, matched here. Else one query per chunk of :data:`CHUNK`.
        """
        if len(hashes) == 1:
            return list(hashes)
        of_purposes = (
            ConsentRecordRow.identity_kind == identity_kind,
            ConsentRecordRow.purpose.in_(purposes),
        )
        if self._fewer_than(len(hashes), ConsentRecordRow.id, *of_purposes):
            every = set(
                self.session.connection()
                .scalars(sa.select(ConsentRecordRow.identity_hash).where(*of_purposes))
                .all()
            )
            return [hashed for hashed in hashes if hashed in every]
        return [
            row[0]
            for chunk in chunks(hashes)
            for row in self._match(
                _RECORDED,
                [[identity_kind], purposes, chunk],
                partial(_recorded_among, identity_kind, purposes, chunk),
            )
        ]

    def _fewer_than(self, asked: int, column: Any, *where: Any) -> bool:
        """Whether at most ``asked`` rows meet ``where`` (asked only for long lists)."""
        if asked < LONG_LIST:
            return False
        rows = self.session.connection().scalar(sa.select(sa.func.count(column)).where(*where))
        return int(rows or 0) <= asked

    def _match(
        self,
        template: str,
        groups: Sequence[Sequence[str]],
        fallback: Callable[[], sa.Executable],
    ) -> list[tuple[Any, ...]]:
        """Rows of a membership query over many plain strings.

        Sent to the driver directly: SQLAlchemy's own expansion of ``IN`` costs more per
        bound value than the database does (a million hashes took seconds in its
        compiler alone). Each ``{n}`` of ``template`` becomes as many placeholders as
        ``groups[n]`` has values, in the driver's style; a driver of another style is
        sent what ``fallback`` builds, the same query through SQLAlchemy.
        """
        connection = self.session.connection()
        mark = _POSITIONAL.get(connection.dialect.paramstyle)
        if mark is None:
            return [tuple(row) for row in self.session.execute(fallback())]
        # Only placeholders go into the text; every value is a bound parameter.
        sql = template.format(*(", ".join([mark] * len(group)) for group in groups))
        values = tuple(value for group in groups for value in group)
        return [tuple(row) for row in connection.exec_driver_sql(sql, values)]


def _record(
    kind: IdentityKind,
    hashed: str,
    purpose: str,
    action: str,
    at: datetime,
    source: str,
    channel: str | None,
    version: str | None,
) -> ConsentRecord:
    """A ledger record from its columns as the decision queries read them."""
    return ConsentRecord(
        identity_kind=kind,
        identity_hash=hashed,
        purpose=purpose,
        action=_ACTIONS[action],
        at=at,
        source=_SOURCES[source],
        channel=_CHANNELS[channel] if channel else None,
        text_version=version,
    )


# The enums by their stored values: looked up per row read for a decision, where calling
# each enum costs a microsecond of the few a decision's rows take.
_ACTIONS = {action.value: action for action in ConsentAction}
_SOURCES = {source.value: source for source in ConsentSource}
_CHANNELS = {channel.value: channel for channel in ConsentChannel}


def _flagged(identity_kind: str, hashes: Sequence[str]) -> sa.Executable:
    """_FLAGGED through SQLAlchemy."""
    return sa.select(SubjectFlag.identity_hash, SubjectFlag.kind, SubjectFlag.purpose).where(
        SubjectFlag.identity_hash.in_(hashes),
        SubjectFlag.identity_kind == identity_kind,
        SubjectFlag.lifted_at.is_(None),
    )


def _recorded_among(
    identity_kind: str, purposes: Sequence[str], hashes: Sequence[str]
) -> sa.Executable:
    """_RECORDED through SQLAlchemy."""
    return (
        sa.select(ConsentRecordRow.identity_hash)
        .distinct()
        .where(
            ConsentRecordRow.identity_hash.in_(hashes),
            ConsentRecordRow.identity_kind == identity_kind,
            ConsentRecordRow.purpose.in_(purposes),
        )
    )


class LedgerLookup:
    """One person's ledger rows for a decision, read through the database driver.

    A marketing decision is one statement, and around it a session, a transaction and
    SQLAlchemy's result handling cost ten times what the statement does (0.3 ms against
    0.03 ms on the embedded store): this runs the statement on a connection of the
    driver's. On PostgreSQL the engine given is an autocommit one, and each read takes a
    pooled connection (pinged when idle). On an SQLite file each thread keeps a
    connection of its own, taken out of the pool once: checking one out and back in
    cost a tenth of a decision, and in autocommit mode a SELECT holds no transaction
    open between reads.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._timestamp = _timestamps(engine.dialect)
        #: Whether the store is a file this process reads itself (SQLite), not a server.
        self.in_process = engine.dialect.name == "sqlite"
        # An in-memory database lives in the pool's one connection: it cannot be taken.
        self._keeps_connections = self.in_process and not isinstance(
            engine.pool, sa.pool.StaticPool
        )
        self._mine = threading.local()
        self._kept: list[Any] = []
        self._kept_lock = threading.Lock()
        #: Whether reads may be awaited on the event loop (PostgreSQL through psycopg).
        self.asynchronous = engine.dialect.name == "postgresql" and engine.dialect.driver == (
            "psycopg"
        )
        self._on_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ReadsTogether] = (
            weakref.WeakKeyDictionary()
        )

    def one_subject(
        self, identity_kind: str, identity_hash: str, purposes: Collection[str]
    ) -> SubjectRows:
        """As ConsentLedger.one_subject, without a session."""
        sql, values = _one_subject_query(
            self._engine.dialect, identity_kind, identity_hash, purposes
        )
        return _subject_rows(IdentityKind(identity_kind), self._read(sql, values), self._timestamp)

    def _read(self, sql: str, values: Sequence[Any]) -> list[Any]:
        """A statement's rows, read here through the driver."""
        if self._keeps_connections:
            return _fetch(self._kept_connection(), sql, values)
        connection = self._engine.raw_connection()
        try:
            return _fetch(connection, sql, values)
        finally:
            # Back to the pool, which ends any transaction the driver began.
            connection.close()

    async def one_subject_async(
        self, identity_kind: str, identity_hash: str, purposes: Collection[str]
    ) -> SubjectRows:
        """As one_subject, on the running event loop, read together with others' (the API's way).

        Reads asked on one loop while another is being read wait for the next statement,
        which reads for everyone then waiting (see _ReadsTogether). How a statement is
        read depends on the store: on an SQLite file right on the loop (tens of
        microseconds, less than a hop to a thread and back); on PostgreSQL awaited on an
        asynchronous connection of the loop's own (no thread: 81 against 189 us of
        processor time per read), opened on first use and opened again once when the
        server dropped it; on MariaDB, which has no asynchronous driver here, in a thread.
        """
        loop = asyncio.get_running_loop()
        mine = self._on_loops.get(loop)
        if mine is None:
            mine = self._on_loops[loop] = self._reads_together()
        rows = await mine.subject(identity_kind, identity_hash, _wanted(purposes))
        return _subject_rows(IdentityKind(identity_kind), rows, self._timestamp)

    def _reads_together(self) -> _ReadsTogether:
        mark = _mark(self._engine.dialect)
        if self.asynchronous:
            return _LoopConnection(mark, _conninfo(self._engine.url))
        if self.in_process:
            return _ReadsHere(mark, self._read)
        return _ReadsInThread(mark, self._read)

    async def aclose(self) -> None:
        """Close the running loop's connection (the app is stopping, on its loop)."""
        mine = self._on_loops.pop(asyncio.get_running_loop(), None)
        if mine is not None:
            await mine.close()

    def _kept_connection(self) -> Any:
        connection = getattr(self._mine, "connection", None)
        if connection is None:
            pooled = self._engine.raw_connection()
            # Out of the pool for good, with the store's settings (see store.db).
            pooled.detach()
            connection = self._mine.connection = pooled.dbapi_connection
            with self._kept_lock:
                self._kept.append(connection)
        return connection

    def close(self) -> None:
        """Close the connections the threads kept (the app is stopping)."""
        with self._kept_lock:
            kept, self._kept = self._kept, []
        for connection in kept:
            connection.close()
        self._mine = threading.local()
        # Connections of loops that ended without aclose (their loop can no longer
        # await a close): ended at the driver, so none is left open.
        for mine in list(self._on_loops.values()):
            mine.abandon()
        self._on_loops = weakref.WeakKeyDictionary()


async def _fetch_async(
    cursor: psycopg.AsyncCursor[Any], sql: str, values: Sequence[Any]
) -> list[Any]:
    await cursor.execute(sql, values)
    return await cursor.fetchall()


def _conninfo(url: sa.URL) -> str:
    """libpq's connection string for the store's URL (psycopg's own, not SQLAlchemy's)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


#: How the decisions' asynchronous connections name themselves to PostgreSQL
#: (``pg_stat_activity.application_name``).
DECISIONS_APPLICATION = "personvern-decisions"


#: People one statement reads for at most (see _ReadsTogether.subject).
READS_PER_STATEMENT = 32

#: Reads waiting for the next statement, by identity kind and purposes: (hash, answer).
_Waiting: TypeAlias = dict[tuple[str, tuple[str, ...]], list[tuple[str, asyncio.Future[list[Any]]]]]


class _ReadsTogether:
    """One event loop's decision reads, a statement for everyone waiting at the time."""

    def __init__(self, mark: str) -> None:
        self._mark = mark
        self._waiting: _Waiting = {}
        self._sender: asyncio.Task[None] | None = None

    async def fetch(self, sql: str, values: Sequence[Any]) -> list[Any]:
        """The rows of one statement (each store its own way)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop reading (the loop's app is stopping)."""
        self._stop()

    def abandon(self) -> None:
        """Stop reading, without the loop (it has ended)."""
        self._stop()

    async def subject(self, kind: str, hashed: str, purposes: tuple[str, ...]) -> list[Any]:
        """The one-person statement's rows for ``hashed``, read together with others'.

        A statement costs the store and this process far more than a person more in it
        (on SQLite under 16 clients, 0.209 against 0.243 ms of a server's processor time
        per decision; on PostgreSQL, where decisions queued for the loop's one
        connection a round trip each, 0.243 against 0.407): a read asked while a
        statement is being read waits for the next one, which reads for everyone then
        waiting (up to READS_PER_STATEMENT people each). A read alone goes at once, on
        the loop's next turn; nothing is ever held back to fill a statement.
        """
        answer: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((kind, purposes), []).append((hashed, answer))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        return await answer

    def _stop(self) -> None:
        """Cancel the reads waiting and the one on its way: nothing waits on them forever."""
        sender, self._sender = self._sender, None
        if sender is not None and not sender.get_loop().is_closed():
            sender.cancel()
        waiting, self._waiting = self._waiting, {}
        for asked in waiting.values():
            for _, answer in asked:
                if not answer.get_loop().is_closed():
                    answer.cancel()

    async def _send(self) -> None:
        """Read for everyone waiting, a statement at a time, until no one is left."""
        while (next_one := self._next_statement()) is not None:
            kind, purposes, taken = next_one
            hashes = list(dict.fromkeys(hashed for hashed, _ in taken))
            try:
                rows = await self.fetch(*_subjects_query(self._mark, kind, hashes, purposes))
            except BaseException as exc:
                _failed(taken, exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            _answered(taken, rows)

    def _next_statement(
        self,
    ) -> tuple[str, tuple[str, ...], list[tuple[str, asyncio.Future[list[Any]]]]] | None:
        """Kind, purposes and reads of the next statement, taken from those waiting."""
        while self._waiting:
            (kind, purposes), waiting = next(iter(self._waiting.items()))
            taken, rest = waiting[:READS_PER_STATEMENT], waiting[READS_PER_STATEMENT:]
            if rest:
                self._waiting[(kind, purposes)] = rest
            else:
                del self._waiting[(kind, purposes)]
            # Asked cancelled (the client went away): no one to read for.
            taken = [(hashed, answer) for hashed, answer in taken if not answer.done()]
            if taken:
                return kind, purposes, taken
        return None


def _answered(taken: list[tuple[str, asyncio.Future[list[Any]]]], rows: list[Any]) -> None:
    """Give each read its person's rows of a statement."""
    found = _by_subject(rows)
    for hashed, answer in taken:
        if not answer.done():
            answer.set_result(found.get(hashed, []))


def _failed(taken: list[tuple[str, asyncio.Future[list[Any]]]], exc: BaseException) -> None:
    """Fail each read with the statement's error; stopped (the app is stopping), stop them."""
    for _, answer in taken:
        if not answer.done():
            if isinstance(exc, Exception):
                answer.set_exception(exc)
            else:
                answer.cancel()


class _ReadsHere(_ReadsTogether):
    """Reads of a store this process reads itself (an SQLite file), right on the loop."""

    def __init__(self, mark: str, read: Callable[[str, Sequence[Any]], list[Any]]) -> None:
        super().__init__(mark)
        self._read = read

    async def fetch(self, sql: str, values: Sequence[Any]) -> list[Any]:
        """The statement's rows, read without leaving the loop."""
        return self._read(sql, values)


class _ReadsInThread(_ReadsHere):
    """Reads of a server store without an asynchronous driver (MariaDB), in a thread.

    One statement at a time per loop, so one thread: threads reading side by side took
    the interpreter lock from each other and from the loop (on PostgreSQL under 16
    clients, when it read in threads: 4 threads 1,644 decisions/s with p99 513 ms, 1
    thread 1,758/s p99 21 ms).
    """

    async def fetch(self, sql: str, values: Sequence[Any]) -> list[Any]:
        """The statement's rows, read in a worker thread while the loop goes on."""
        return await asyncio.to_thread(self._read, sql, values)


class _LoopConnection(_ReadsTogether):
    """Reads on one event loop's asynchronous connection to PostgreSQL, opened on first use."""

    def __init__(self, mark: str, conninfo: str) -> None:
        super().__init__(mark)
        self._conninfo = conninfo
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._cursor: psycopg.AsyncCursor[Any] | None = None

    async def fetch(self, sql: str, values: Sequence[Any]) -> list[Any]:
        """The statement's rows; a connection found broken is replaced once."""
        cursor = await self._open()
        try:
            return await _fetch_async(cursor, sql, values)
        except psycopg.OperationalError:
            if not cursor.connection.closed:
                raise
            # The server dropped it (a restart, an idle timeout): once more on a new one.
            self._connection = None
        return await _fetch_async(await self._open(), sql, values)

    async def _open(self) -> psycopg.AsyncCursor[Any]:
        """The open connection's cursor, kept: a new one per statement cost 15 us of 100.

        Only the loop's one sender reads, a statement at a time: no two open at once.
        """
        connection, cursor = self._connection, self._cursor
        if connection is None or connection.closed or cursor is None:
            connection = self._connection = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, application_name=DECISIONS_APPLICATION
            )
            cursor = self._cursor = connection.cursor()
        return cursor

    async def close(self) -> None:
        """Stop reading, and close the connection if one was opened."""
        self._stop()
        connection, self._connection, self._cursor = self._connection, None, None
        if connection is not None:
            await connection.close()

    def abandon(self) -> None:
        """End the connection at the driver, without its loop."""
        self._stop()
        connection, self._connection, self._cursor = self._connection, None, None
        if connection is not None and not connection.closed:
            connection.pgconn.finish()


def _fetch(connection: Any, sql: str, values: Sequence[Any]) -> list[Any]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, values)
        return list(cursor.fetchall())
    finally:
        cursor.close()
