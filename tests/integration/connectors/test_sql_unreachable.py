"""A SQL system that cannot be reached makes the request wait; its credentials stay secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from personvern.connectors.port import ConnectorError, ConnectorUnavailableError, Criteria
from personvern.connectors.sql import SqlConnector
from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import System
from tests.support.servers import server_url

SECRET = "s3cret-Passw0rd"


@pytest.fixture
def crm(example_datamap_path: Path) -> System:
    """The example company's CRM system."""
    system = load_datamap(example_datamap_path).datamap.system("crm")
    assert system is not None
    return system


def _assert_unavailable(connector: SqlConnector, reason: str) -> None:
    try:
        with pytest.raises(ConnectorUnavailableError) as checked:
            connector.check()
        with pytest.raises(ConnectorUnavailableError) as located:
            connector.locate("customers", Criteria(exact={"id": frozenset({1})}))
    finally:
        connector.close()
    for error in (checked.value, located.value):
        assert ("crm", reason) == (error.system, error.reason)
        assert SECRET not in str(error)
        assert error.__cause__ is None


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://pv:{SECRET}@127.0.0.1:1/company",
        f"mysql+pymysql://pv:{SECRET}@127.0.0.1:1/company",
    ],
)
def test_a_closed_port_is_unavailable(crm: System, url: str) -> None:
    _assert_unavailable(SqlConnector(crm, url), "connection refused")


def test_a_missing_sqlite_file_is_unavailable_and_not_created(crm: System, tmp_path: Path) -> None:
    path = tmp_path / "no-such.sqlite"

    _assert_unavailable(SqlConnector(crm, f"sqlite:///{path}"), "database file not found")

    assert not path.exists()


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_an_unknown_database_is_unavailable(crm: System, kind: str) -> None:
    url = make_url(server_url(kind)).set(database="pv_no_such_database")

    _assert_unavailable(
        SqlConnector(crm, url.render_as_string(hide_password=False)), "database not found"
    )


def test_a_wrong_password_is_unavailable_without_the_password(crm: System) -> None:
    url = make_url(server_url("mariadb")).set(username="pv_nobody", password=SECRET)

    _assert_unavailable(
        SqlConnector(crm, url.render_as_string(hide_password=False)), "login refused"
    )


def test_a_url_that_is_not_one_is_an_error(crm: System) -> None:
    with pytest.raises(ConnectorError, match="not hold a database URL") as raised:
        SqlConnector(crm, f"not a url {SECRET}")

    assert SECRET not in str(raised.value)
