"""The demo's customers carry their country, and a demo seeded before it existed is re-seeded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from personvern.demo import schema, seed_demo_company, targets_from_urls
from personvern.demo.targets import DemoTargets

CUSTOMERS = 30
REFERENCE = date(2026, 3, 16)


def _targets(tmp_path: Path) -> DemoTargets:
    return targets_from_urls(
        tmp_path / "home", company_db_url=f"sqlite:///{tmp_path / 'company.sqlite'}"
    )


def _customers(targets: DemoTargets) -> list[tuple[str, str]]:
    engine = sa.create_engine(targets.url("crm"))
    try:
        with engine.connect() as conn:
            query = sa.select(schema.customers.c.country, schema.customers.c.preferred_language)
            return [(row.country, row.preferred_language) for row in conn.execute(query)]
    finally:
        engine.dispose()


def test_customers_are_norwegian_or_british_and_speak_accordingly(tmp_path: Path) -> None:
    targets = _targets(tmp_path)
    seed_demo_company(targets, customers=CUSTOMERS, seed=7, reference_date=REFERENCE)
    customers = _customers(targets)
    assert {("GB", "en"), ("NO", "nb")} == set(customers)


def test_a_demo_seeded_before_customers_had_a_country_is_seeded_again(tmp_path: Path) -> None:
    targets = _targets(tmp_path)
    seed_demo_company(targets, customers=CUSTOMERS, seed=7, reference_date=REFERENCE)
    # What a demo seeded by the previous version looks like: the same marker, no column.
    engine = sa.create_engine(targets.url("crm"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE customers DROP COLUMN country"))
    finally:
        engine.dispose()

    again = seed_demo_company(targets, customers=CUSTOMERS, seed=7)

    assert ("crm",) == again.seeded
    assert REFERENCE == again.reference_date
    assert CUSTOMERS == len(_customers(targets))
