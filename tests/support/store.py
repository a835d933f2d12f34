"""Fixtures for personvern's own store: a fresh database per test, on SQLite and PostgreSQL.

Import the fixtures into a conftest.py (``from tests.support.store import ...``) where
tests need them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty store: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'personvern.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store_engine(store_url: str) -> Iterator[Engine]:
    """An engine on a store migrated to head."""
    upgrade_to_head(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(store_engine: Engine) -> Iterator[Session]:
    """A session on a migrated store; the test commits or flushes as it needs."""
    with make_session_factory(store_engine)() as session:
        yield session
