"""Console tests run the example company on SQLite in a temporary home."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from personvern.api.app import create_app
from personvern.settings import Settings


@pytest.fixture
def app(tmp_path: Path, example_datamap_path: Path) -> FastAPI:
    """The app serving the example company on SQLite in tmp_path."""
    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None)
    return create_app(settings, example_datamap_path)
