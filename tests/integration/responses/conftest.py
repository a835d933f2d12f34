"""The API in-process on a SQLite store in tmp_path, with the downloads router mounted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from personvern.api.app import API_PREFIX, create_app
from personvern.api.routers import downloads
from personvern.settings import Settings

SECRET = "integration-secret-0123456789abcdef"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded settings in tmp_path with a known secret key."""
    return Settings(
        home=tmp_path / "home",
        database_url=None,
        datamap=None,
        auto_migrate=None,
        secret_key=SecretStr(SECRET),
    )


@pytest.fixture
def app(settings: Settings, example_datamap_path: Path) -> FastAPI:
    """The example company's app; the downloads router is public, as the lead will wire it."""
    app = create_app(settings, example_datamap_path)
    if not any(getattr(r, "path", "") == f"{API_PREFIX}/downloads/{{token}}" for r in app.routes):
        app.include_router(downloads.router, prefix=API_PREFIX)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client on the running app (start-up, and so migrations, included)."""
    with TestClient(app) as client:
        yield client
