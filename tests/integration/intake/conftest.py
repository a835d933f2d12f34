"""Intake tests: a real SMTP server, stores on SQLite (and PostgreSQL where it matters), the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from personvern.api.app import create_app
from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.smtp import Inbox, smtp_server
from tests.support.store import session, store_engine, store_url

__all__ = ["session", "store_engine", "store_url"]

#: The tables intake writes to; "nothing stored" means all of them are empty.
INTAKE_TABLES = (
    "data_subject_requests",
    "request_events",
    "verification_challenges",
    "intake_attempts",
)


@pytest.fixture(scope="session")
def _smtp() -> Iterator[Inbox]:
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def inbox(_smtp: Inbox) -> Inbox:
    """The test SMTP server's inbox, empty at the start of the test."""
    _smtp.clear()
    return _smtp


@pytest.fixture(scope="session")
def datamap() -> DataMap:
    """The example company's data map (controller in Norway, languages nb and en)."""
    return load_datamap(EXAMPLE_DATAMAP).datamap


def make_settings(home: Path, inbox: Inbox | None, **overrides: object) -> Settings:
    """Embedded settings in ``home`` sending mail to ``inbox`` (None: mail not configured)."""
    values: dict[str, object] = {
        "home": home,
        "database_url": None,
        "datamap": None,
        "auto_migrate": None,
        "secret_key": "intake-test-secret-0123456789abcdef",
        "smtp_host": inbox.host if inbox else None,
        "smtp_port": inbox.port if inbox else 25,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, inbox: Inbox) -> Settings:
    """Embedded settings with mail going to the test SMTP server."""
    return make_settings(tmp_path / "home", inbox)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a migrated SQLite store (for tests that need no second database)."""
    url = f"sqlite:///{tmp_path / 'store' / 'personvern.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_session(sqlite_engine: Engine) -> Iterator[Session]:
    """A session on a migrated SQLite store."""
    with make_session_factory(sqlite_engine)() as session:
        yield session


def row_counts(session_or_engine: Session | Engine) -> dict[str, int]:
    """Rows in each intake table."""

    def count(connection: sa.Connection | Session) -> dict[str, int]:
        return {
            table: int(connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
            for table in INTAKE_TABLES
        }

    if isinstance(session_or_engine, Session):
        return count(session_or_engine)
    with session_or_engine.connect() as connection:
        return count(connection)


EMPTY = dict.fromkeys(INTAKE_TABLES, 0)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The app on the example company, mailing codes to the test SMTP server."""
    return create_app(settings, EXAMPLE_DATAMAP)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client on the running app (migrated at start-up), calling from 192.0.2.10."""
    with TestClient(app, client=("192.0.2.10", 50000)) as client:
        yield client


TokenFactory = Callable[[Role], str]


@pytest.fixture
def make_token(app: FastAPI, client: TestClient) -> TokenFactory:
    """Issue an API token for a role in the app's store; returns the clear text."""

    def make(role: Role) -> str:
        with app.state.context.application.unit_of_work() as uow:
            return issue_token(uow.session, name=f"test {role}", role=role).token

    return make


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}
