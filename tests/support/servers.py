"""Fresh, uniquely named databases on the real servers, for tests that need them.

Set PERSONVERN_TEST_POSTGRES_URL / PERSONVERN_TEST_MARIADB_URL to a server URL (any
database on it; the tests create their own). Under CI=true a missing or unreachable
server fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

SERVERS = {
    "postgresql": (
        "PERSONVERN_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ),
    "mariadb": ("PERSONVERN_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"),
}


def in_ci() -> bool:
    """Whether the run is CI, where server-backed tests must run."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def server_url(kind: str) -> str:
    """The admin URL of a server, or skip (fail under CI) with how to enable it."""
    variable, example = SERVERS[kind]
    url = os.environ.get(variable)
    if not url:
        message = f"{kind} tests need a server: set {variable}={example}"
        if in_ci():
            pytest.fail(message + " (CI=true requires it)")
        pytest.skip(message)
    return url


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its URL, drop it afterwards."""
    admin_url = make_url(server_url(kind))
    name = f"pv_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.fail(f"{kind} server at {admin_url.render_as_string()} is unreachable: {exc}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        engine.dispose()
