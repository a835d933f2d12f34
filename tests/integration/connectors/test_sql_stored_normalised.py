"""An e-mail column ``stored_normalised`` is asked with a plain comparison, still confirmed.

Without the flag, PostgreSQL and SQLite are asked in a way that ignores case, so an
address stored as typed (``Kari@Example.no``) is found. With it, they are asked with a
plain ``col IN (...)``: the canonical address is found and the one stored otherwise is
not (the map said it was not there). MariaDB's default collation ignores case, so it
finds both either way. Another person's address is never found.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.port import Criteria
from personvern.connectors.sql import SqlConnector
from personvern.domain.datamap import DataField, Dataset, IdentityKind, System, SystemKind
from personvern.domain.requests.identity import parse_identity
from tests.support.servers import fresh_database

ROWS = {
    1: "kari@example.no",  # canonical
    2: "Kari@Example.no",  # as typed: not canonical
    3: "kari.nordmann@example.no",  # someone else
    4: "Ørjan@bø.no",  # canonical: a local part outside ASCII keeps its case
    5: "ørjan@bø.no",  # someone else
}


def _system(*, normalised: bool) -> System:
    return System(
        key="crm",
        name="CRM",
        kind=SystemKind.SQLITE,
        description={"en": "contacts"},
        connection_env="PERSONVERN_CRM_URL",
        datasets=[
            Dataset(
                name="contacts",
                subjects=["customer"],
                fields=[
                    DataField(name="id", primary_key=True),
                    DataField(
                        name="email",
                        category="user.contact.email",
                        identity=IdentityKind.EMAIL,
                        stored_normalised=normalised,
                    ),
                ],
            )
        ],
    )


@contextmanager
def _contacts(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
        _create(url)
        yield url
        return
    with fresh_database(kind) as url:
        _create(url)
        yield url


def _create(url: str) -> None:
    engine = sa.create_engine(url)
    table = sa.Table(
        "contacts",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(254), index=True),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": k, "email": v} for k, v in ROWS.items()])
    engine.dispose()


def _found(url: str, *, normalised: bool, given: str) -> list[object]:
    connector = SqlConnector(_system(normalised=normalised), url)
    try:
        identity = parse_identity("email", given)
        criteria = Criteria(exact={"email": frozenset(identity.exact_forms())})
        return [record.key for record in connector.locate("contacts", criteria)]
    finally:
        connector.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mariadb"])
def test_a_normalised_column_is_compared_plainly_and_confirmed(kind: str, tmp_path: Path) -> None:
    with _contacts(kind, tmp_path) as url:
        caseless = _found(url, normalised=False, given="KARI@example.no")
        plain = _found(url, normalised=True, given="KARI@example.no")
        outside_ascii = _found(url, normalised=True, given="Ørjan@BØ.no")

    assert [1, 2] == caseless
    # MariaDB's collation ignores case whatever is asked; the others compare as stored.
    assert ([1, 2] if kind == "mariadb" else [1]) == plain
    assert [4] == outside_ascii
