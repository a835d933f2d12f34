"""Anonymisation computed in SQL gives exactly what Python gives, and is never redone.

On PostgreSQL and MariaDB a year and an IPv4 /24 are computed by the database, and so is
the NULL of digits and dots that are no address (leading zeros, three octets); an IPv6
address or other text (letters, spaces) goes through Python. SQLite does all of it in
Python. Whichever way,
each value must be what ``ipaddress`` and ``date.replace`` make of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import check_datamap
from personvern.engine.retention.sweep import RetentionSweep, TableStatus
from tests.integration.retention import sweepco
from tests.integration.retention.conftest import ShopDatabase

ADDRESSES = [
    "192.0.2.77",
    "10.0.0.0",
    "255.255.255.255",
    "0.0.0.9",
    " 198.51.100.7 ",
    "010.1.2.3",
    "1.2.3",
    "not-an-ip",
    "2001:db8:1:2::5",
    "::ffff:192.0.2.1",
    "FE80::1",
    None,
]


def _python(value: str | None) -> str | None:
    """What the address becomes, as the standard library computes it."""
    if value is None:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


@pytest.fixture
def pool() -> Iterator[ConnectorPool]:
    """Connectors opened by the sweep, closed after the test."""
    opened = ConnectorPool()
    yield opened
    opened.close()


def test_sql_and_python_anonymise_alike_and_a_second_run_changes_nothing(
    shop_database: ShopDatabase, pool: ConnectorPool, tmp_path: Path
) -> None:
    sweepco.populate(shop_database.url)
    path = sweepco.write_datamap(tmp_path / "map", shop_database.kind)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "anonymise: {ip: truncate_ip, born: year, visitor: pseudonym}",
            "anonymise: {ip: truncate_ip, born: year}",
        ),
        encoding="utf-8",
    )
    datamap, _source, _findings = check_datamap(path)
    assert datamap is not None
    engine = sa.create_engine(shop_database.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sweepco.visits.insert(),
                [
                    {
                        "id": 10 + n,
                        "visited": "2025-01-01",
                        "ip": address,
                        "born": date(1970 + n, 1 + n % 12, 1 + n),
                        "visitor": f"cookie-{n}",
                    }
                    for n, address in enumerate(ADDRESSES)
                ],
            )
    finally:
        engine.dispose()
    before = sweepco.rows(shop_database.url, sweepco.visits)

    def sweep() -> RetentionSweep:
        return RetentionSweep(
            datamap,
            environ={"SWEEPCO_SHOP_URL": shop_database.url},
            pool=pool,
            now=sweepco.NOW,
            max_share=1.0,
            batch_size=5,
        )

    run = sweep().run("shop")

    (visits,) = [o for o in run.outcomes if o.rule == "visits"]
    assert TableStatus.COMPLETED is visits.status, visits.message
    after = sweepco.rows(shop_database.url, sweepco.visits)
    for key, (_id, visited, ip, born, visitor) in before.items():
        due = key != 2  # visit 2 is inside its 90 days
        new_ip, new_born = (
            (_python(ip), born and born.replace(month=1, day=1)) if due else (ip, born)
        )
        assert (key, visited, new_ip, new_born, visitor) == after[key], ip
        if new_ip is not None:
            # The same address as Python writes it, not only the same address.
            assert new_ip == str(ipaddress.ip_address(new_ip))
    changed = sum(1 for key in before if before[key] != after[key])
    assert visits.progress is not None
    assert changed == visits.progress.anonymised

    again = sweep().run("shop")

    (second,) = [o for o in again.outcomes if o.rule == "visits"]
    assert second.progress is not None
    assert 0 == second.progress.anonymised
    assert after == sweepco.rows(shop_database.url, sweepco.visits)


def test_a_timestamp_generalised_to_its_year_in_sql_as_in_python(
    shop_database: ShopDatabase, pool: ConnectorPool, tmp_path: Path
) -> None:
    sweepco.populate(shop_database.url)
    path = sweepco.write_datamap(tmp_path / "map", shop_database.kind)
    rule = "    period: P2Y\n    description: {en: Prospects go two years after we last saw them}\n"
    text = path.read_text(encoding="utf-8")
    assert rule in text
    path.write_text(
        text.replace(
            rule,
            "    period: P2Y\n    action: anonymise\n    anonymise: {last_seen: year}\n"
            "    description: {en: Prospects keep only the year}\n",
        ),
        encoding="utf-8",
    )
    datamap, _source, findings = check_datamap(path)
    assert [] == [f.render() for f in findings if f.finding.is_error]
    assert datamap is not None
    before = sweepco.rows(shop_database.url, sweepco.customers)

    def sweep() -> RetentionSweep:
        return RetentionSweep(
            datamap,
            environ={"SWEEPCO_SHOP_URL": shop_database.url},
            pool=pool,
            now=sweepco.NOW,
            max_share=1.0,
        )

    run = sweep().run("shop")

    (prospects,) = [o for o in run.outcomes if o.rule == "prospects"]
    assert TableStatus.COMPLETED is prospects.status, prospects.message
    after = sweepco.rows(shop_database.url, sweepco.customers)
    # Prospects 1, 4 and 5 were last seen more than two years ago (4 is still referenced
    # by an invoice, which keeps a row from deletion, not from anonymisation).
    for key, row in before.items():
        seen = row[3]
        if key in {1, 4, 5}:
            seen = seen.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        assert (*row[:3], seen) == after[key], key
    assert prospects.progress is not None
    # Prospect 4 was last seen at midnight on 1 January: already in its anonymised form.
    assert 2 == sum(1 for key in before if before[key] != after[key])
    assert 2 == prospects.progress.anonymised

    again = sweep().run("shop")

    (second,) = [o for o in again.outcomes if o.rule == "prospects"]
    assert second.progress is not None
    # SQL recognises a finished year everywhere, also on SQLite where Python computes it.
    assert (0, 0) == (second.progress.anonymised, second.plan.due if second.plan else -1)
    assert after == sweepco.rows(shop_database.url, sweepco.customers)
