"""Shared fixtures: the example data map and fresh databases on real servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import fresh_database

# The browser fixtures, once for the session (two modules importing them would each start
# Playwright, and the second start fails inside the first one's event loop); and the log
# detector, which fails the session if personvern logs personal data.
pytest_plugins = ["tests.support.browser", "tests.support.log_detector"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DATAMAP = ROOT / "examples" / "workspace-company"


@pytest.fixture(autouse=True, scope="session")
def _no_default_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the default data directory into the test run, never at the user's real one.

    Also: no clock-driven sweep of personvern's own records (see below).

    Commands and apps that are not given PERSONVERN_HOME (and the processes the tests
    start, which inherit this environment) would otherwise create
    ~/.local/share/personvern.
    """
    import os

    names = ("XDG_DATA_HOME", "PERSONVERN_HOME", "PERSONVERN_RETENTION_OWN_SCHEDULE")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    os.environ.pop("PERSONVERN_HOME", None)
    # No sweep of personvern's own records on the clock (03:30 UTC by default) in the
    # apps the tests start: a test running then would see a run it did not ask for. The
    # tests of that schedule set it themselves.
    os.environ["PERSONVERN_RETENTION_OWN_SCHEDULE"] = ""
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


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
