"""`check --connect` on real SQLite, PostgreSQL and MariaDB databases.

Each test builds a small CRM in a fresh database, with some indexes missing, and reads
what personvern.connectors.readiness reports. The statements it gives are then run, and
the warnings they answer must be gone: the database's own planner says the index serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.readiness import SystemReport, check_connected
from personvern.connectors.sql import read_only_engine
from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import (
    DataField,
    DataMap,
    Dataset,
    IdentityKind,
    System,
    SystemKind,
)
from personvern.domain.system_readiness import Level
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.servers import fresh_database

KINDS = ["sqlite", "postgresql", "mariadb"]
VARIABLE = "PERSONVERN_TEST_CRM_URL"

metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(254), index=True),
    sa.Column("phone", sa.String(30)),
    sa.Column("notes", sa.Text),
)
contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("email", sa.String(254), index=True),
)


def _system(*, fax: bool = False, tickets: bool = False) -> System:
    email = {"category": "user.contact.email", "identity": IdentityKind.EMAIL}
    datasets = [
        Dataset(
            name="customers",
            subjects=["customer"],
            fields=[
                DataField(name="id", primary_key=True, identity=IdentityKind.CUSTOMER_ID),
                DataField(name="email", **email),
                DataField(name="phone", identity=IdentityKind.PHONE_NUMBER),
                DataField(name="notes", free_text=True),
                *([DataField(name="fax")] if fax else []),
            ],
        ),
        Dataset(
            name="contacts",
            subjects=["customer"],
            fields=[
                DataField(name="id", primary_key=True),
                DataField(name="customer_id", references="customers.id"),
                DataField(name="email", stored_normalised=True, **email),
            ],
        ),
    ]
    if tickets:
        datasets.append(
            Dataset(name="tickets", subjects=["customer"], fields=[DataField(name="id")])
        )
    return System(
        key="crm",
        name="CRM",
        kind=SystemKind.POSTGRESQL,
        description={"en": "customers"},
        connection_env=VARIABLE,
        datasets=datasets,
    )


def _datamap(system: System) -> DataMap:
    # The example's organisation; the systems are the test's own.
    example = load_datamap(EXAMPLE_DATAMAP).datamap
    return example.model_copy(update={"systems": [system]})


@contextmanager
def _crm(kind: str, tmp_path: Path) -> Iterator[str]:
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
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            customers.insert(),
            [{"id": n, "email": f"k{n}@example.no", "phone": f"+479{n:07d}"} for n in range(5)],
        )
        conn.execute(
            contacts.insert(),
            [{"id": n, "customer_id": n % 5, "email": f"c{n}@example.no"} for n in range(3)],
        )
    engine.dispose()


def _report(url: str, system: System) -> SystemReport:
    [report] = check_connected(_datamap(system), {VARIABLE: url})
    return report


def _found(report: SystemReport, level: Level) -> dict[str, tuple[str, ...]]:
    return {f.where: f.fix for f in report.findings if f.level is level}


EXPECTED_WARNINGS = {
    "sqlite": {
        "crm.customers.email": (
            "CREATE INDEX ix_customers_email_nocase ON customers (email COLLATE NOCASE);",
        ),
        "crm.customers.phone": ("CREATE INDEX ix_customers_phone ON customers (phone);",),
        "crm.contacts.customer_id": (
            "CREATE INDEX ix_contacts_customer_id ON contacts (customer_id);",
        ),
    },
    "postgresql": {
        "crm.customers.email": (
            "CREATE INDEX ix_customers_email_lower ON customers (lower(email));",
        ),
        "crm.customers.phone": ("CREATE INDEX ix_customers_phone ON customers (phone);",),
        "crm.contacts.customer_id": (
            "CREATE INDEX ix_contacts_customer_id ON contacts (customer_id);",
        ),
        "crm.customers.notes": (
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
            "CREATE INDEX ix_customers_notes_trgm ON customers USING gin "
            "(lower(notes) gin_trgm_ops);",
        ),
    },
    "mariadb": {
        # MariaDB's collations ignore case: the plain index on email serves.
        "crm.customers.phone": ("CREATE INDEX ix_customers_phone ON customers (phone);",),
        "crm.contacts.customer_id": (
            "CREATE INDEX ix_contacts_customer_id ON contacts (customer_id);",
        ),
    },
}


@pytest.mark.parametrize("kind", KINDS)
def test_missing_indexes_are_reported_with_the_statement_that_adds_them(
    kind: str, tmp_path: Path
) -> None:
    with _crm(kind, tmp_path) as url:
        before = _report(url, _system())
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for finding in before.findings:
                for statement in finding.fix:
                    conn.exec_driver_sql(statement)
        engine.dispose()
        after = _report(url, _system())

    assert (True, {"customers": 5, "contacts": 3}) == (before.connected, before.rows)
    assert kind == before.database
    assert EXPECTED_WARNINGS[kind] == _found(before, Level.WARNING)
    assert {} == _found(before, Level.ERROR)
    # No index serves a substring search on SQLite or MariaDB: said, nothing to fix.
    assert ({} if kind == "postgresql" else {"crm.customers.notes": ()}) == _found(
        before, Level.NOTE
    )
    assert {} == _found(after, Level.WARNING)


@pytest.mark.parametrize("kind", KINDS)
def test_missing_tables_and_columns_are_errors(kind: str, tmp_path: Path) -> None:
    with _crm(kind, tmp_path) as url:
        report = _report(url, _system(fax=True, tickets=True))

    errors = {f.where: f.message for f in report.findings if f.level is Level.ERROR}
    assert {
        "crm.customers.fax": "crm.customers.fax: the table has no such column",
        "crm.tickets": "crm.tickets: the database has no table tickets",
    } == errors
    assert {"customers": 5, "contacts": 3} == report.rows


def test_an_email_column_telling_cases_apart_is_warned_about_on_mariadb() -> None:
    with fresh_database("mariadb") as url:
        _create(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "ALTER TABLE customers MODIFY email VARCHAR(254) COLLATE utf8mb4_bin"
            )
        engine.dispose()
        report = _report(url, _system())

    [finding] = [f for f in report.findings if f.where == "crm.customers.email"]
    assert Level.WARNING is finding.level
    assert "tells letter cases apart" in finding.message
    assert "stored_normalised" in (finding.hint or "")


@pytest.mark.parametrize("kind", KINDS)
def test_the_connection_refuses_writes(kind: str, tmp_path: Path) -> None:
    with _crm(kind, tmp_path) as url:
        engine = read_only_engine("crm", url)
        try:
            with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
                conn.execute(customers.delete())
        finally:
            engine.dispose()
        check = sa.create_engine(url)
        with check.connect() as conn:
            left = conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar_one()
        check.dispose()

    assert 5 == left


def test_a_system_not_set_or_not_reached_is_reported(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'nowhere.sqlite'}"
    datamap = _datamap(_system())

    [unset] = check_connected(datamap, {})
    [unreached] = check_connected(datamap, {VARIABLE: missing})
    [refused] = check_connected(datamap, {VARIABLE: "postgresql+psycopg://nobody@127.0.0.1:1/crm"})

    assert (False, [Level.WARNING]) == (unset.connected, [f.level for f in unset.findings])
    assert f"crm: not checked, {VARIABLE} is not set" == unset.findings[0].message
    assert ["crm cannot be reached: database file not found"] == [
        f.message for f in unreached.findings if f.level is Level.ERROR
    ]
    assert ["crm cannot be reached: connection refused"] == [
        f.message for f in refused.findings if f.level is Level.ERROR
    ]
    assert not (tmp_path / "nowhere.sqlite").exists()


def test_a_webhook_system_is_asked_whether_it_is_up() -> None:
    example = _datamap(_system())
    email = next(s for s in load_datamap(EXAMPLE_DATAMAP).datamap.systems if s.key == "email")
    datamap = example.model_copy(update={"systems": [email]})
    variable = email.connection_env
    assert variable is not None

    [unsigned] = check_connected(datamap, {variable: "http://127.0.0.1:1"})
    [refused] = check_connected(
        datamap, {variable: "http://127.0.0.1:1", f"{variable}_SECRET": "s" * 40}
    )

    assert [f"Microsoft 365 e-mail has no signing secret: {variable}_SECRET is not set"] == [
        f.message for f in unsigned.findings if f.level is Level.ERROR
    ]
    assert [
        "email cannot be reached: POST /check at http://127.0.0.1:1 refused the connection"
    ] == [f.message for f in refused.findings if f.level is Level.ERROR]


@pytest.mark.parametrize("kind", KINDS)
def test_a_table_of_one_row_is_judged_by_its_indexes_alike(kind: str, tmp_path: Path) -> None:
    # MariaDB's plan of a lookup by a unique key that finds nothing names no index ("read
    # as a constant"); a small table is still judged by what serves each lookup.
    with _crm(kind, tmp_path) as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(customers.delete().where(customers.c.id > 0))
        engine.dispose()
        report = _report(url, _system())

    assert 1 == report.rows["customers"]
    assert EXPECTED_WARNINGS[kind] == _found(report, Level.WARNING)
