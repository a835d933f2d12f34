"""The embedded SQLite store: data directory, pragmas, sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.settings import Settings
from personvern.store.db import (
    SessionFactory,
    make_engine,
    make_session_factory,
    ping,
    session_scope,
)
from personvern.store.errors import StoreError
from personvern.store.migrate import head_revision, upgrade_to_head
from personvern.store.models import ApiToken


def test_the_data_directory_is_created_with_the_database(tmp_path: Path) -> None:
    home = tmp_path / "nested" / "home"
    settings = Settings(home=home, database_url=None)
    upgrade_to_head(settings)
    assert (home / "personvern.db").is_file()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as connection:
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    finally:
        engine.dispose()
    assert (1, "wal") == (foreign_keys, journal)


def add_then_fail(factory: SessionFactory) -> None:
    with session_scope(factory) as session:
        session.add(ApiToken(name="x", role="admin", token_hash="0" * 64, prefix="pv_0"))
        session.flush()
        raise RuntimeError("boom")


def test_session_scope_rolls_back_when_the_block_raises(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            add_then_fail(factory)
        with session_scope(factory) as session:
            count = session.scalar(sa.select(sa.func.count()).select_from(ApiToken))
    finally:
        engine.dispose()
    assert count == 0


def test_ping_reports_reachability_and_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    try:
        before = ping(engine)
        upgrade_to_head(engine)
        after = ping(engine)
    finally:
        engine.dispose()
    assert (True, None) == (before.reachable, before.revision)
    assert (True, head_revision()) == (after.reachable, after.revision)


def test_ping_of_an_unreachable_server_names_only_the_error_type() -> None:
    engine = make_engine("postgresql+psycopg://u:pw@127.0.0.1:9/x?connect_timeout=2")
    try:
        status = ping(engine)
    finally:
        engine.dispose()
    assert (False, None, "OperationalError") == (status.reachable, status.revision, status.error)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "PERSONVERN_DATABASE_URL is not a database URL"),
        ("oracle+cx_oracle://u@h/db", "personvern cannot talk to oracle+cx_oracle databases"),
    ],
)
def test_a_bad_database_url_is_one_clear_error(url: str, message: str) -> None:
    with pytest.raises(StoreError) as caught:
        make_engine(url)
    assert message == caught.value.message
