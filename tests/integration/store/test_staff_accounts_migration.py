"""Migration 0017 (staff_accounts) on SQLite, PostgreSQL and MariaDB: up, matching, down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from personvern.store.db import make_engine
from personvern.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from personvern.store.models import Base
from personvern.store.staff_accounts import StaffAccount

#: Whole seconds: MariaDB's DATETIME keeps no fraction, and a lock needs none.
T0 = datetime(2026, 12, 3, 9, 0, 7, tzinfo=UTC)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb),
    ]
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty store of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'personvern.db'}"
    else:
        url = request.getfixturevalue(request.param)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _row(**values: object) -> dict[str, object]:
    return {
        "username": "dpo",
        "role": "privacy_officer",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$" + "s" * 22 + "$" + "h" * 43,
        "created_at": T0,
        "created_by": "cli:root",
        "failed_attempts": 0,
        "password_changed_at": T0,
        **values,
    }


def test_0017_creates_staff_accounts_as_the_model_declares(engine: Engine) -> None:
    assert head_revision() == upgrade_to_head(engine)
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
        columns = {c["name"] for c in sa.inspect(connection).get_columns("staff_accounts")}
    assert [] == differences
    assert set(StaffAccount.__table__.columns.keys()) == columns


def test_user_names_are_unique_and_times_read_back_in_utc(engine: Engine) -> None:
    upgrade_to_head(engine)
    table = StaffAccount.__table__
    with engine.begin() as connection:
        connection.execute(sa.insert(table), [_row(locked_until=T0)])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(table), [_row(role="agent")])
    with engine.connect() as connection:
        stored = connection.execute(sa.select(table)).one()
    assert ("dpo", T0, T0, None) == (
        stored.username,
        stored.created_at,
        stored.locked_until,
        stored.disabled_at,
    )


def test_0017_downgrades_to_0016_and_upgrades_again(engine: Engine) -> None:
    upgrade_to_head(engine)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0016")
        assert "0016" == current_revision(connection)
        assert "staff_accounts" not in sa.inspect(connection).get_table_names()
    assert head_revision() == upgrade_to_head(engine)
    with engine.connect() as connection:
        assert "staff_accounts" in sa.inspect(connection).get_table_names()
