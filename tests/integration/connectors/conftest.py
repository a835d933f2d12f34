"""A small demo company, seeded once per engine, with mentions planted for the connector tests.

The company is seeded once per engine for the whole package (seeding is the slow
part), so tests that change data work on customers of their own: ``Company.subjects``
hands each role a different customer, and every check compares against the data as
it is when the test runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from personvern.connectors.sql import SqlConnector
from personvern.datamap.loader import load_datamap
from personvern.demo import DemoTargets, schema, seed_demo_company, targets_from_urls
from personvern.demo.identifiers import written_forms
from personvern.domain.datamap import DataMap, System
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.servers import fresh_database

CUSTOMERS = 60
SEED = 11
REFERENCE = date(2026, 3, 16)
#: Planted rows get keys far above the generated ones.
PLANTED_FROM = 900_000
#: Customers by role; each test that changes data has a customer of its own.
ROLES = ("locate", "erase", "rectify", "rollback")


@dataclass(frozen=True)
class Subject:
    """A demo customer and how others mention them in planted rows."""

    id: int
    email: str
    phone: str
    national_id: str
    #: Planted tickets of another customer, by what of the subject they mention.
    mentioned_in: dict[str, int]
    #: A planted newsletter subscription holding the subject's e-mail in mixed case.
    mixed_case_subscription: int


@dataclass(frozen=True)
class Company:
    """The seeded demo company on one engine."""

    kind: str
    url: str
    targets: DemoTargets
    datamap: DataMap
    engine: sa.Engine
    subjects: dict[str, Subject]

    def system(self, key: str) -> System:
        """The data map's system with this key."""
        system = self.datamap.system(key)
        assert system is not None, key
        return system


@pytest.fixture(scope="package", params=["sqlite", "postgresql", "mariadb"])
def company(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Company]:
    """The demo company with 60 customers on SQLite, PostgreSQL and MariaDB."""
    kind = str(request.param)
    home = tmp_path_factory.mktemp(f"company-{kind}")
    with ExitStack() as stack:
        if kind == "sqlite":
            url = f"sqlite:///{home / 'company.sqlite'}"
        else:
            url = stack.enter_context(fresh_database(kind))
        targets = targets_from_urls(home / "home", company_db_url=url)
        seed_demo_company(targets, customers=CUSTOMERS, seed=SEED, reference_date=REFERENCE)
        engine = sa.create_engine(url)
        stack.callback(engine.dispose)
        with engine.begin() as conn:
            subjects = _plant(conn)
        datamap = load_datamap(EXAMPLE_DATAMAP).datamap
        yield Company(kind, url, targets, datamap, engine, subjects)


@pytest.fixture
def connect(company: Company) -> Iterator[Callable[[str], SqlConnector]]:
    """Opens a SqlConnector on a system of the company; all are closed after the test."""
    opened: list[SqlConnector] = []

    def open_connector(system: str) -> SqlConnector:
        connector = SqlConnector(company.system(system), company.url)
        opened.append(connector)
        return connector

    yield open_connector
    for connector in opened:
        connector.close()


def snapshot(engine: sa.Engine) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row of every demo table, by "system.dataset" and primary key."""
    tables: dict[str, dict[Any, dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name, table in schema.TABLES.items():
            key = next(iter(table.primary_key.columns)).name
            rows = conn.execute(sa.select(table)).mappings()
            tables[name] = {row[key]: dict(row) for row in rows}
    return tables


def _plant(conn: sa.Connection) -> dict[str, Subject]:
    """Pick customers with a phone and a national id, and plant mentions of them."""
    customers = schema.customers
    candidates = list(
        conn.execute(
            sa.select(customers.c.id, customers.c.email, customers.c.phone, customers.c.national_id)
            .where(customers.c.phone.is_not(None), customers.c.national_id.is_not(None))
            .order_by(customers.c.id)
        )
    )
    with_employees = set(
        conn.execute(sa.select(schema.designated_employees.c.customer_id).distinct()).scalars()
    )
    with_invoices = set(conn.execute(sa.select(schema.invoices.c.customer_id).distinct()).scalars())
    # The erasure test wants a customer with employees, invoices and tickets to erase.
    with_tickets = set(conn.execute(sa.select(schema.tickets.c.customer_id).distinct()).scalars())
    rich = [c for c in candidates if c.id in with_employees & with_invoices & with_tickets]
    chosen = {"erase": rich[0]}
    others = [c for c in candidates if c.id != rich[0].id]
    chosen.update(zip(("locate", "rectify", "rollback"), others, strict=False))
    assert set(ROLES) == set(chosen), "the seed has too few customers with phone and national id"
    bystander = conn.execute(
        sa.select(customers.c.id, customers.c.email)
        .where(customers.c.id.not_in([c.id for c in chosen.values()]))
        .order_by(customers.c.id)
    ).first()
    assert bystander is not None

    ticket_id = PLANTED_FROM
    subscription_id = PLANTED_FROM
    subjects: dict[str, Subject] = {}
    when = datetime(2026, 3, 1, 9, 30)
    for role in ROLES:
        customer = chosen[role]
        national_id = str(customer.national_id)
        texts = {
            # Shouted, as people paste addresses into messages.
            "email": f"Could you also give access to {customer.email.upper()}? They start soon.",
            "phone": f"Please call our colleague on {written_forms(customer.phone)[0]} today.",
            "national_id": f"Her national identity number is {national_id[:6]} {national_id[6:]}.",
        }
        mentioned_in: dict[str, int] = {}
        for what, text in texts.items():
            conn.execute(
                schema.tickets.insert().values(
                    id=ticket_id,
                    customer_id=bystander.id,
                    requester_email=bystander.email,
                    subject="Access for a colleague",
                    body=f"Hello,\n\n{text}\n\nKind regards",
                    created_at=when,
                )
            )
            mentioned_in[what] = ticket_id
            ticket_id += 1
        local, domain = customer.email.split("@", 1)
        conn.execute(
            schema.newsletter_subscriptions.insert().values(
                id=subscription_id,
                email=f"{local.capitalize()}@{domain.upper()}",
                customer_id=None,
                basis="consent",
                subscribed_at=when,
            )
        )
        subjects[role] = Subject(
            id=customer.id,
            email=customer.email,
            phone=customer.phone,
            national_id=national_id,
            mentioned_in=mentioned_in,
            mixed_case_subscription=subscription_id,
        )
        subscription_id += 1
    return subjects
