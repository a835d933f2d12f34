"""The benchmark's in-database seeding, at a few dozen customers (it times nothing)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import sqlalchemy as sa
from bench import company_sql
from sqlalchemy.engine import make_url
from stdnum.no import fodselsnummer

from personvern.demo import ground_truth, schema, targets_from_urls
from tests.support.servers import fresh_database, server_url

CUSTOMERS = 60
REFERENCE = date(2026, 3, 16)


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def server(request: pytest.FixtureRequest) -> str:
    """The admin URL of a server of each kind (skips without one, fails under CI)."""
    return server_url(request.param)


@pytest.fixture(scope="module")
def seeded(server: str) -> Iterator[company_sql.Seeded]:
    """The bench company seeded once per server kind into a fresh database."""
    with fresh_database(company_sql.kind_of(server)) as url:
        name = make_url(url).database
        yield company_sql.seed(server, CUSTOMERS, name=name, reference=REFERENCE)


def _scalars(url: str, query: str) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query)).scalars())
    finally:
        engine.dispose()


def test_every_table_has_its_share_of_rows(server: str, seeded: company_sql.Seeded) -> None:
    assert {
        "crm.customers": 60,
        "crm.designated_employees": 120,
        "crm.prospects": 12,
        "billing.invoices": 180,
        "billing.invoice_lines": 270,
        "access_control.security_cards": 60,
        "support.tickets": 90,
        "analytics.web_events": 600,
        "marketing.newsletter_subscriptions": 30,
    } == seeded.rows
    assert not seeded.reused
    again = company_sql.seed(server, CUSTOMERS, name=make_url(seeded.url).database)
    assert again.reused
    assert seeded.rows == again.rows


def test_the_tables_carry_the_demo_schemas_indexes(seeded: company_sql.Seeded) -> None:
    engine = sa.create_engine(seeded.url)
    _tables, indexes = company_sql.company_ddl(engine.dialect)
    expected = set(re.findall(r"INDEX (\w+) ON", "\n".join(indexes)))
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        present = {
            index["name"]
            for table in schema.TABLES.values()
            for index in inspector.get_indexes(table.name)
        }
    engine.dispose()
    assert expected <= present


def test_identifiers_are_valid_and_unique(seeded: company_sql.Seeded) -> None:
    phones = _scalars(
        seeded.url,
        "SELECT phone FROM customers WHERE phone IS NOT NULL UNION ALL "
        "SELECT phone FROM designated_employees WHERE phone IS NOT NULL UNION ALL "
        "SELECT phone FROM prospects WHERE phone IS NOT NULL AND MOD(id, 20) <> 0",
    )
    assert phones
    assert [] == [p for p in phones if not phonenumbers.is_valid_number(phonenumbers.parse(p))]
    assert len(phones) == len(set(phones))
    national_ids = _scalars(
        seeded.url, "SELECT national_id FROM customers WHERE national_id IS NOT NULL"
    )
    assert national_ids
    assert all(fodselsnummer.is_valid(str(n)) for n in national_ids)
    emails = _scalars(
        seeded.url,
        "SELECT email FROM customers UNION ALL SELECT email FROM designated_employees "
        "UNION ALL SELECT email FROM prospects WHERE MOD(id, 20) <> 0",
    )
    assert len(emails) == len(set(emails))
    # Invoices both past the bookkeeping hold (erased) and under it (kept).
    issued = _scalars(seeded.url, "SELECT issued_on FROM invoices")
    assert min(issued) < date(REFERENCE.year - 6, 1, 1) < max(issued)


def test_mentions_of_other_customers_are_found_by_the_ground_truth(
    seeded: company_sql.Seeded, tmp_path: Path
) -> None:
    # A ticket asking to give another customer access names them by e-mail or phone,
    # written as people write them; the demo's ground truth must find it for them.
    mentioning = _scalars(
        seeded.url,
        "SELECT customer_id FROM tickets WHERE body LIKE '%gi %tilgang%' "
        "OR body LIKE '%give %access%'",
    )
    assert mentioning
    targets = targets_from_urls(tmp_path, company_db_url=seeded.url)
    offset = CUSTOMERS // 3 + 1
    for customer in mentioning:
        other = (int(customer) - 1 + offset) % CUSTOMERS + 1
        tickets = _scalars(seeded.url, f"SELECT id FROM tickets WHERE customer_id = {customer}")
        found = ground_truth(targets, other)["support.tickets"]
        assert set(found) & set(tickets), (customer, other)
