"""A pooled connection the server closed while it sat idle does not fail the next transaction.

personvern tests an idle connection before use (personvern.idle_ping) instead of every
checkout, in its store and in the connectors to the company's SQL systems; the server
ends the connection here as a restart or a proxy's idle timeout would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from personvern import idle_ping
from personvern.connectors import sql as connectors_sql
from personvern.store.db import make_engine, read_only_engine
from tests.support.servers import fresh_database, server_url


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def kind(request: pytest.FixtureRequest) -> str:
    """Which server."""
    return str(request.param)


@pytest.fixture
def database(kind: str) -> Iterator[str]:
    """A fresh database on the server."""
    with fresh_database(kind) as url:
        yield url


def _backend_id(connection: sa.Connection, kind: str) -> int:
    query = "SELECT pg_backend_pid()" if kind == "postgresql" else "SELECT CONNECTION_ID()"
    return int(connection.exec_driver_sql(query).scalar_one())


def _end_from_the_server(kind: str, backend: int) -> None:
    admin = sa.create_engine(server_url(kind), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if kind == "postgresql":
                connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            else:
                connection.exec_driver_sql(f"KILL {int(backend)}")
    finally:
        admin.dispose()


@pytest.mark.parametrize("engine_of", ["store", "reader", "connector"])
def test_a_connection_closed_while_idle_is_replaced_unnoticed(
    database: str, kind: str, engine_of: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine: Engine = (
        connectors_sql.read_only_engine("crm", database)
        if engine_of == "connector"
        else make_engine(database)
    )
    if engine_of == "reader":
        engine = read_only_engine(engine)
    try:
        with engine.connect() as connection:
            first = _backend_id(connection, kind)
        _end_from_the_server(kind, first)
        # As if it had sat in the pool past the idle limit (no waiting in the test).
        monkeypatch.setattr(idle_ping, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as connection:
            second = _backend_id(connection, kind)
        assert first != second
    finally:
        engine.dispose()
