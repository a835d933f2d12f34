"""Alembic, configured in code: the migrations ship inside the package, no alembic.ini needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection, Engine

from personvern.settings import Settings
from personvern.store.db import display_url, make_engine, store_url, translate_errors
from personvern.store.errors import MigrationError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None, url: URL | None = None) -> Config:
    """An Alembic configuration for personvern's migrations, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Passed as attributes, not main options: ini interpolation would mangle a '%' in a
    # password, and a live connection lets the caller own the transaction.
    config.attributes["connection"] = connection
    config.attributes["url"] = url
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of personvern."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise MigrationError("personvern ships no migrations; the installation is broken")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(settings_or_url: Settings | str | URL | Engine) -> str:
    """Apply every pending migration and return the revision the store is now at.

    Given an engine, it is used and left open; otherwise one is made and disposed of.
    """
    if isinstance(settings_or_url, Engine):
        engine, own_engine = settings_or_url, False
    else:
        engine, own_engine = make_engine(settings_or_url), True
    url = engine.url
    try:
        with (
            translate_errors(url),
            engine.connect() as connection,
            _foreign_keys_off(connection),
            connection.begin(),
        ):
            command.upgrade(alembic_config(connection), "head")
            _check_foreign_keys(connection)
            revision = current_revision(connection)
    except CommandError as exc:
        raise MigrationError(
            f"cannot migrate the store at {display_url(url)}: {exc}",
            hint="the database may be newer than this personvern; upgrade personvern",
        ) from exc
    finally:
        if own_engine:
            engine.dispose()
    if revision is None:  # pragma: no cover - upgrade either sets a revision or raises
        raise MigrationError(f"the store at {display_url(url)} has no revision after upgrading")
    return revision


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite's foreign keys off while migrations run, on again after.

    Batch mode changes a table on SQLite by copying it and dropping the old one; with
    foreign keys on, the drop fails on every row that points at the old table. The
    pragma only takes effect outside a transaction, so it is set on the driver's
    connection before the migrations' transaction begins.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out connection has its driver's
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse (roll back) migrations that left a row pointing at nothing (SQLite)."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise MigrationError(
            f"migrating left {len(broken)} rows pointing at rows that do not exist "
            f"(first in table {broken[0][0]}); nothing was changed",
            hint="report this as a defect in personvern, with the store's revision",
        )


def create_revision(settings_or_url: Settings | str | URL, message: str) -> Path:
    """Autogenerate a new migration from the models (a developer tool); return its file."""
    url = store_url(settings_or_url)
    next_id = f"{len(list(ScriptDirectory(str(MIGRATIONS)).walk_revisions())) + 1:04d}"
    engine = make_engine(url)
    try:
        with translate_errors(url), engine.begin() as connection:
            script = command.revision(
                alembic_config(connection), message=message, autogenerate=True, rev_id=next_id
            )
    except CommandError as exc:
        raise MigrationError(
            f"cannot create a migration: {exc}", hint="run `personvern db upgrade` first"
        ) from exc
    finally:
        engine.dispose()
    if script is None or isinstance(script, list):  # pragma: no cover - one head only
        raise MigrationError("Alembic created no single revision")
    return Path(script.path)


__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "create_revision",
    "current_revision",
    "head_revision",
    "upgrade_to_head",
]
