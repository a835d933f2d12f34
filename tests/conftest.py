"""Shared fixtures: the example data map and fresh databases on real servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import fresh_database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DATAMAP = ROOT / "examples" / "workspace-company"


@pytest.fixture
def example_datamap_path() -> Path:
    """The example company's data map folder (read-only)."""
    return EXAMPLE_DATAMAP


@pytest.fixture
def example_datamap_copy(tmp_path: Path) -> Path:
    """A writable copy of the example company's data map."""
    target = tmp_path / "workspace-company"
    shutil.copytree(EXAMPLE_DATAMAP, target)
    return target


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database, dropped after the test."""
    with fresh_database("postgresql") as url:
        yield url


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """URL of a fresh MariaDB database, dropped after the test."""
    with fresh_database("mariadb") as url:
        yield url


@pytest.fixture(scope="session")
def personvern_cli() -> list[str]:
    """The installed `personvern` console script of the interpreter running the tests."""
    import sys

    script = Path(sys.executable).parent / "personvern"
    assert script.exists(), f"{script} is missing: install the package (make install)"
    return [str(script)]
