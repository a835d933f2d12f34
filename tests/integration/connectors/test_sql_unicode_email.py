"""E-mail addresses with letters outside ASCII are found whatever their case (on the servers).

SQLite's NOCASE folds ASCII letters only, so there a differently cased "Å" is not found;
PostgreSQL's lower() and MariaDB's collations fold every letter.
"""

from __future__ import annotations

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


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_a_non_ascii_address_in_other_case_is_found(kind: str, example_datamap_path: Path) -> None:
    with fresh_database(kind) as url:
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
                    "contract_start": date(2024, 1, 1),
                    "created_at": datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None),
                },
            )
        engine.dispose()
        crm = load_datamap(example_datamap_path).datamap.system("crm")
        assert crm is not None
        connector = SqlConnector(crm, url)
        try:
            identity = parse_identity("email", "åSE.STRASSE@eksempel.NO".replace("SS", "ß"))
            found = connector.locate(
                "customers", Criteria(exact={"email": frozenset(identity.exact_forms())})
            )
        finally:
            connector.close()
        assert [1] == [record.key for record in found]
