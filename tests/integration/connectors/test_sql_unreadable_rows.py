"""A row the driver cannot decode is a data error naming its key, not an outage retried forever.

The databases hold the bad bytes for real (tests/support/undecodable.py says how on
each server): SQLite's driver, PostgreSQL's server and MariaDB's driver (on a latin1
connection) each fail in their own way, and the connector must tell them all apart
from a server that is down.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.port import (
    ConnectorDataError,
    ConnectorUnavailableError,
    Criteria,
    ErasureStep,
    Redaction,
)
from personvern.connectors.sql import SqlConnector
from personvern.domain.datamap import System
from tests.support.undecodable import spoil, undecodable_database, unreadable_because

KARI = "kari.nordmann@example.no"
PER = "per.hansen@example.no"

SYSTEM = System.model_validate(
    {
        "key": "crm",
        "name": "CRM",
        "kind": "postgresql",
        "connection_env": "CRM_URL",
        "description": {"en": "CRM.", "nb": "CRM."},
        "datasets": [
            {
                "name": "people",
                "subjects": ["customer"],
                "fields": [
                    {"name": "id", "primary_key": True},
                    {"name": "email", "identity": "email"},
                    {"name": "notes", "free_text": True},
                ],
            }
        ],
    }
)
metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(254)),
    sa.Column("notes", sa.Text),
)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of people where rows can be spoiled, on each kind of server."""
    with undecodable_database(str(request.param), tmp_path) as database_url:
        engine = sa.create_engine(database_url)
        try:
            metadata.create_all(engine)
            with engine.begin() as conn:
                conn.execute(
                    people.insert(),
                    [
                        {"id": 1, "email": KARI, "notes": "Customer since 2019."},
                        {"id": 2, "email": "ola@example.no", "notes": f"Colleague of {KARI}."},
                        {"id": 3, "email": PER, "notes": "Prefers phone."},
                    ],
                )
        finally:
            engine.dispose()
        yield database_url


@pytest.fixture
def connector(url: str) -> Iterator[SqlConnector]:
    """A connector on the people database."""
    opened = SqlConnector(SYSTEM, url)
    yield opened
    opened.close()


def test_a_row_that_cannot_be_read_is_named_by_its_key(url: str, connector: SqlConnector) -> None:
    spoil(url, "people", "notes", "id", 3, "Prefers phone, says ")

    with pytest.raises(ConnectorDataError) as raised:
        connector.locate("people", Criteria(exact={"email": frozenset({PER})}))

    error = raised.value
    assert not isinstance(error, ConnectorUnavailableError)
    assert ("crm", "people", ("3",)) == (error.system, error.dataset, error.keys)
    assert (
        f"crm.people: the record with key 3 cannot be read ({unreadable_because(url)}); "
        "fix or remove the record, then run the request again"
    ) == error.message
    # The row's values are personal data and stay out of the message.
    assert "per.hansen" not in str(error)
    assert "phone" not in str(error)


def test_searches_that_do_not_read_the_bad_row_are_answered(
    url: str, connector: SqlConnector
) -> None:
    spoil(url, "people", "notes", "id", 3, "Prefers phone, says ")

    found = connector.locate(
        "people",
        Criteria(exact={"email": frozenset({KARI})}, mentions={"notes": frozenset({KARI})}),
    )

    assert {1: {"email"}, 2: {"notes"}} == {r.key: set(r.matched_fields) for r in found}


def test_an_unreadable_address_is_found_by_the_rest_of_the_row_and_named(
    url: str, connector: SqlConnector
) -> None:
    spoil(url, "people", "email", "id", 2, "ola@example.no")

    with pytest.raises(ConnectorDataError, match="key 2 cannot be read"):
        connector.locate("people", Criteria(mentions={"notes": frozenset({KARI})}))


def test_bad_rows_among_many_are_found_in_few_statements(url: str, connector: SqlConnector) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                people.insert(),
                [
                    {"id": key, "email": f"p{key}@example.no", "notes": f"Ask {KARI}."}
                    for key in range(100, 1300)
                ],
            )
    finally:
        engine.dispose()
    for key in (117, 901):
        spoil(url, "people", "notes", "id", key, f"Ask {KARI} ")
    connector.locate("people", Criteria(exact={"id": frozenset({1})}))
    before = connector.statements_issued

    with pytest.raises(ConnectorDataError) as raised:
        connector.locate("people", Criteria(mentions={"notes": frozenset({KARI})}))

    assert ("117", "901") == raised.value.keys
    assert "the records with keys 117, 901 cannot be read" in raised.value.message
    # The search, its keys, three batches of 500, and per bad row nine halvings of at
    # most two reads each.
    assert connector.statements_issued - before <= 2 + 3 + 2 * 9 * 2


def test_a_redaction_that_meets_a_bad_row_is_a_data_error_too(
    url: str, connector: SqlConnector
) -> None:
    spoil(url, "people", "notes", "id", 2, f"Colleague of {KARI} ")
    step = ErasureStep("people", redactions=(Redaction("notes", (2,), (KARI,)),))

    with pytest.raises(ConnectorDataError, match=r"^crm\.people: the record with key 2 cannot"):
        connector.erase([step], lambda *_: "x")

    # The connection the failure broke was discarded: the connector still works.
    assert [1] == [r.key for r in connector.locate("people", Criteria(exact={"id": {1}}))]
