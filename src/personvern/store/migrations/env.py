"""Alembic environment: run by personvern.store.migrate, never through alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from personvern.store.db import make_engine
from personvern.store.models import Base
from personvern.store.retention_locks import RetentionLockRow
from personvern.store.retention_runs import RetentionHoldRow, RetentionJobRow, RetentionRunRow
from personvern.store.staff_accounts import StaffAccount
from personvern.store.staff_preferences import StaffPreference
from personvern.store.staff_sessions import StaffSession

# Tables in modules of their own must be imported so the metadata knows them.
_OWN_MODULES = (
    StaffAccount,
    StaffSession,
    StaffPreference,
    RetentionRunRow,
    RetentionHoldRow,
    RetentionJobRow,
    RetentionLockRow,
)

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # Batch mode lets later migrations alter tables on SQLite, which has no ALTER COLUMN.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Write the SQL for a URL instead of running it (alembic --sql)."""
    context.configure(
        url=config.attributes["url"],
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run against the caller's connection, or open one from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(config.attributes["url"])
    try:
        with engine.begin() as own:
            _configure(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
