"""The API in-process (TestClient) on a real SQLite store in tmp_path and the example data map."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings

TokenFactory = Callable[[Role], str]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded settings in tmp_path, independent of the caller's PERSONVERN_* variables."""
    return Settings(home=tmp_path / "home", database_url=None, datamap=None, auto_migrate=None)


@pytest.fixture
def app(settings: Settings, example_datamap_path: Path) -> FastAPI:
    """The app serving the example company."""
    return create_app(settings, example_datamap_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client on the running app (start-up, and so migrations, included)."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def make_token(app: FastAPI, client: TestClient) -> TokenFactory:
    """Issue a real API token for a role in the app's store; returns the clear text."""
    context: AppContext = app.state.context

    def make(role: Role) -> str:
        with context.application.unit_of_work() as uow:
            return issue_token(uow.session, name=f"test {role}", role=role).token

    return make


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}
