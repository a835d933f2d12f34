"""E-mail addresses with letters outside ASCII are found as written, whatever the domain's case.

One canonical form (personvern.domain.identities.email): a local part with letters
outside ASCII is compared exactly, so "Åse.Straße@…" is not "åse.straße@…", though
PostgreSQL's lower() and MariaDB's collations would call them equal; the domain's case
never matters. The same on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.port import Criteria
from personvern.connectors.sql import SqlConnector
from personvern.datamap.loader import load_datamap
from personvern.demo import schema
from personvern.domain.requests.identity import parse_identity
from tests.support.servers import fresh_database

#: Columns the demo's customers table requires beyond these tests' concern (it grows).
REQUIRED = {"country": "NO"} if "country" in schema.customers.c else {}


@pytest.mark.parametrize(
    ("given", "found"),
    [
        ("Åse.Straße@Eksempel.no", [1]),
        ("Åse.Straße@EKSEMPEL.NO", [1]),
        # Another address, though Unicode case folding would make it the same.
        ("åse.straße@eksempel.no", []),
        ("ÅSE.STRASSE@eksempel.no", []),
    ],
)
@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mariadb"])
def test_a_non_ascii_address_is_found_only_as_written(
    kind: str, given: str, found: list[int], example_datamap_path: Path, tmp_path: Path
) -> None:
    with _database(kind, tmp_path) as url:
        engine = sa.create_engine(url)
        schema.crm.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                schema.customers.insert(),
                {
                    "id": 1,
                    "company_name": "Berg AS",
                    "contact_name": "Åse Berg",
                    "email": "Åse.Straße@Eksempel.no",
                    "preferred_language": "nb",
                    **REQUIRED,
                    "contract_start": date(2024, 1, 1),
                    "created_at": datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None),
                },
            )
        engine.dispose()
        crm = load_datamap(example_datamap_path).datamap.system("crm")
        assert crm is not None
        connector = SqlConnector(crm, url)
        try:
            identity = parse_identity("email", given)
            records = connector.locate(
                "customers", Criteria(exact={"email": frozenset(identity.exact_forms())})
            )
        finally:
            connector.close()
        assert found == [record.key for record in records]


@contextmanager
def _database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'crm.sqlite'}"
        return
    with fresh_database(kind) as url:
        yield url
