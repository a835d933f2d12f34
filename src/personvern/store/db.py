"""Engines and sessions for personvern's own store, built from :class:`Settings`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from personvern.data_home import private_folder, touch_private_file
from personvern.idle_ping import ping_when_idle
from personvern.settings import Settings
from personvern.store.errors import StoreError, StoreUnavailableError

if TYPE_CHECKING:
    from personvern.store.encryption.vault import SubjectVault

SessionFactory = sessionmaker[Session]


def store_url(settings_or_url: Settings | str | URL) -> URL:
    """The store's URL, from settings (PERSONVERN_DATABASE_URL or SQLite in PERSONVERN_HOME)."""
    raw = (
        settings_or_url.effective_database_url
        if isinstance(settings_or_url, Settings)
        else settings_or_url
    )
    try:
        return make_url(raw)
    except sa.exc.ArgumentError as exc:
        raise StoreError(
            "PERSONVERN_DATABASE_URL is not a database URL",
            hint="e.g. postgresql+psycopg://user@host/personvern",
        ) from exc


def display_url(url: URL) -> str:
    """The URL with any password masked, for messages."""
    return url.render_as_string(hide_password=True)


def make_engine(settings_or_url: Settings | str | URL) -> Engine:
    """Create the store's engine; for SQLite, create the data directory and set pragmas."""
    url = store_url(settings_or_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    try:
        # hide_parameters: a failing statement's message would otherwise carry the
        # identities and texts being stored, and errors are logged.
        engine = sa.create_engine(url, hide_parameters=True)
    except (sa.exc.NoSuchModuleError, ModuleNotFoundError) as exc:
        raise StoreError(
            f"personvern cannot talk to {url.drivername} databases",
            hint="use postgresql+psycopg://... (production) or leave "
            "PERSONVERN_DATABASE_URL unset for the embedded SQLite store",
        ) from exc
    ping_when_idle(engine, "the store")
    return engine


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in {"", ":memory:"} or "mode=memory" in database
    if not in_memory and not database.startswith("file:"):
        # The store holds identities and answers: only its user may read it. SQLite gives
        # the -wal and -shm files the database file's mode.
        path = Path(database).expanduser()
        private_folder(path.parent)
        touch_private_file(path)
    # FastAPI runs sync routes in a thread pool, so a pooled connection may be used by a
    # thread other than the one that opened it; SQLAlchemy's pool keeps use exclusive.
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False},
        "hide_parameters": True,
    }
    if in_memory:
        # One shared connection, or every new connection would see an empty database.
        kwargs["poolclass"] = sa.StaticPool
    else:
        # Writers take turns on SQLite's one lock anyway; enough connections that the
        # server's worker threads queue for the lock (busy_timeout), not for the pool.
        kwargs |= {"pool_size": 10, "max_overflow": 50, "pool_timeout": 60}
    engine = sa.create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    gate = _WriterGate()
    event.listen(engine, "begin", gate.begin)
    event.listen(engine, "commit", gate.end)
    event.listen(engine, "rollback", gate.end)
    event.listen(engine, "checkin", gate.checked_in)
    return engine


#: Milliseconds a transaction waits for the write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # The driver's own transaction handling is off: it begins transactions lazily and
    # deferred, see _WriterGate for why personvern's must not be.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers (a backup, `sqlite3` by hand) read while personvern writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        # Wait for a competing writer instead of failing at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


#: Execution option of an engine whose transactions only read (see read_only_engine).
READ_ONLY = "personvern_read_only"


def read_only_engine(engine: Engine) -> Engine:
    """An engine for transactions that only read: on SQLite no write lock (same pool).

    A transaction begun here that writes after all may fail on SQLite with "database is
    locked" when another writer committed since it began, and on PostgreSQL each
    statement is its own transaction; only hot read paths (marketing decisions) use it.
    """
    if engine.dialect.name == "postgresql":
        # Each statement on its own: no BEGIN and COMMIT round trips around a few reads.
        # An engine of its own, set once per connection: switching a pooled connection
        # to autocommit and back asks the server each time.
        # Nothing to roll back when a connection returns: no transaction is ever open.
        reader = sa.create_engine(
            engine.url,
            hide_parameters=True,
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
        )
        ping_when_idle(reader, "the store")
        return reader
    return engine.execution_options(**{READ_ONLY: True})


class _WriterGate:
    """Lets one transaction at a time of this process at SQLite's lock, in arrival order.

    Every transaction begins IMMEDIATE, taking SQLite's one write lock: a deferred one
    that reads and then writes cannot wait for the lock (if another writer committed in
    between, SQLite fails it at once with "database is locked", whatever the busy
    timeout; under 20 concurrent clients that failed 2 % of filings). Waiting for the
    lock inside SQLite means its busy handler, which polls with sleeps of up to 100 ms:
    under 50 concurrent clients the lock stood free while the waiters slept (p99 5 s,
    30 filings/s). So the threads of one process queue here, on a plain lock that wakes
    the next at once, and only other processes (a CLI command, a worker) meet SQLite's
    busy handler.
    """

    _HELD = "personvern_writer_gate"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, connection: sa.Connection) -> None:
        """Wait for this process's turn, then take SQLite's write lock (reads: neither)."""
        if connection.get_execution_options().get(READ_ONLY):
            # Only reads: a deferred transaction reads a snapshot beside the writer (WAL)
            # and never needs the lock, so it need not queue for it either.
            connection.exec_driver_sql("BEGIN")
            return
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sa.exc.OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            )
        connection.info[self._HELD] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._release(connection.info)
            raise

    def end(self, connection: sa.Connection) -> None:
        """The transaction committed or rolled back: the next may go."""
        self._release(connection.info)

    def checked_in(self, _dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        """A connection went back to the pool without ending its transaction here."""
        self._release(record.info)

    def _release(self, info: dict[Any, Any]) -> None:
        if info.pop(self._HELD, False):
            self._lock.release()


def make_session_factory(engine: Engine, vault: SubjectVault | None = None) -> SessionFactory:
    """A session factory bound to ``engine``; objects stay readable after commit.

    With ``vault``, its sessions seal sensitive fields (personvern.store.encryption.fields).
    """
    from personvern.store.encryption.fields import VAULT

    return sessionmaker(engine, expire_on_commit=False, info={VAULT: vault} if vault else None)


@contextmanager
def session_scope(factory: SessionFactory) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with factory() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


@dataclass(frozen=True)
class StoreStatus:
    """Whether the store answers, and at which migration revision it is."""

    reachable: bool
    revision: str | None = None
    error: str | None = None


def ping(engine: Engine) -> StoreStatus:
    """Check that the store answers a query and report its migration revision."""
    from personvern.store.migrate import current_revision

    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            revision = current_revision(connection)
    except sa.exc.SQLAlchemyError as exc:
        # Only the exception's type: /healthz is public and messages can name hosts.
        cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        return StoreStatus(reachable=False, error=type(cause).__name__)
    return StoreStatus(reachable=True, revision=revision)


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Turn SQLAlchemy's connection and missing-table failures into StoreUnavailableError."""
    try:
        yield
    except sa.exc.TimeoutError as exc:
        raise StoreUnavailableError(
            f"no connection to the store at {display_url(url)} became free in time",
            hint="the store is overloaded; for many concurrent users move it to PostgreSQL",
        ) from exc
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise StoreUnavailableError(
            f"cannot use the store at {display_url(url)}: {_first_line(exc)}",
            hint="check PERSONVERN_DATABASE_URL, and run `personvern db upgrade`",
        ) from exc


def _first_line(exc: sa.exc.DBAPIError) -> str:
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
