"""Migrations: they apply, they are idempotent, they undo, and they match the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from personvern.store.db import make_engine
from personvern.store.errors import StoreUnavailableError
from personvern.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from personvern.store.models import Base


def test_upgrade_to_head_creates_the_tables_and_reports_head(store_url: str) -> None:
    assert head_revision() == upgrade_to_head(store_url)
    engine = make_engine(store_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", *Base.metadata.tables} == tables


def test_upgrading_twice_changes_nothing(store_url: str) -> None:
    first = upgrade_to_head(store_url)
    assert first == upgrade_to_head(store_url)


def test_models_and_migrations_agree(store_url: str) -> None:
    upgrade_to_head(store_url)
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert [] == differences


def test_downgrade_to_base_and_back(store_url: str) -> None:
    upgrade_to_head(store_url)
    engine = make_engine(store_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
            assert current_revision(connection) is None
            assert "api_tokens" not in sa.inspect(connection).get_table_names()
        assert head_revision() == upgrade_to_head(engine)
    finally:
        engine.dispose()


def test_an_unreachable_server_gives_one_clear_error() -> None:
    # Port 9 (discard) is closed on the test machines, so the connection is refused at once.
    url = "postgresql+psycopg://personvern:s3cret@127.0.0.1:9/personvern?connect_timeout=2"
    with pytest.raises(StoreUnavailableError) as caught:
        upgrade_to_head(url)
    message = caught.value.message
    assert message.startswith("cannot use the store at postgresql+psycopg://personvern:***@")
    assert "s3cret" not in str(caught.value)
