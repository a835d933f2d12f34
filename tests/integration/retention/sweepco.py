"""A small shop whose rows were generated at known ages, for retention sweeps.

Unlike the demo, time is stored five ways: a DATE, naive local wall-clock time
(Europe/Oslo), Unix epoch milliseconds, ISO 8601 text and (through a reference) the
invoice date a payment follows. Each table holds due rows, rows just inside their
period, rows on either side of the boundary day, rows held by bokføringsloven, by staff
and by a referencing row, so a sweep must take exactly the due ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.support.small_company import company_preamble

#: The sweep's "now": 15 June 2026, noon UTC (14:00 in Oslo).
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

SYSTEMS = """\
systems:
  - key: shop
    name: Shop
    kind: {kind}
    description: {{en: The web shop}}
    connection_env: SWEEPCO_SHOP_URL
    datasets:
      - name: customers
        subjects: [customer]
        fields:
          - {{name: id, primary_key: true, identity: customer_id, category: user.unique_id,
              purposes: [service]}}
          - {{name: email, identity: email, category: user.contact.email, purposes: [service]}}
          - {{name: status, category: user, purposes: [service]}}
          - {{name: last_seen, category: user.behavior, purposes: [service]}}
      - name: invoices
        subjects: [customer]
        fields:
          - {{name: id, primary_key: true}}
          - {{name: customer_id, references: customers.id}}
          - {{name: issued_on, category: user.financial, purposes: [service]}}
      - name: payments
        subjects: [customer]
        fields:
          - {{name: id, primary_key: true}}
          - {{name: invoice_id, references: invoices.id}}
          - {{name: amount, category: user.financial, purposes: [service]}}
      - name: web_events
        subjects: [customer]
        fields:
          - {{name: id, primary_key: true}}
          - {{name: occurred_ms, category: user.behavior, purposes: [service]}}
          - {{name: url, category: user.behavior, purposes: [service]}}
      - name: visits
        subjects: [customer]
        fields:
          - {{name: id, primary_key: true}}
          - {{name: visited, category: user.behavior, purposes: [service]}}
          - {{name: ip, category: user.device.ip_address, purposes: [service]}}
          - {{name: born, category: user, purposes: [service]}}
          - {{name: visitor, category: user, purposes: [service]}}
"""

RULES = """\
  - key: prospects
    dataset: shop.customers
    trigger: last_activity
    trigger_field: last_seen
    trigger_format: naive_local
    timezone: Europe/Oslo
    condition: {field: status, equals: prospect}
    period: P2Y
    description: {en: Prospects go two years after we last saw them}
  - key: invoices
    dataset: shop.invoices
    trigger: collected
    trigger_field: issued_on
    period: P3Y
    legal_hold:
      reference: bokføringsloven § 13
      description: {en: 'Primary documentation: five years from the end of the year'}
      period: P5Y
    description: {en: Invoices}
  - key: payments
    dataset: shop.payments
    trigger: financial_year_end
    trigger_field: issued_on
    trigger_via: invoice_id
    period: P3Y6M
    description: {en: Payments follow their invoice as secondary documentation}
  - key: web-events
    dataset: shop.web_events
    trigger: collected
    trigger_field: occurred_ms
    trigger_format: epoch_millis
    timezone: Europe/Oslo
    period: P13M
    description: {en: Clickstream}
  - key: visits
    dataset: shop.visits
    trigger: collected
    trigger_field: visited
    trigger_format: iso_text
    period: P90D
    action: anonymise
    anonymise: {ip: truncate_ip, born: year, visitor: pseudonym}
    description: {en: Visits are anonymised after 90 days}
"""


def write_datamap(folder: Path, kind: str) -> Path:
    """The shop's data map, for a system of ``kind`` (sqlite, postgresql, mysql)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweepco.yaml"
    preamble = company_preamble("Sweepco AS").format()
    # The preamble's catch-all rule is replaced by the shop's own.
    preamble = preamble[: preamble.index("retention:\n")]
    text = preamble + SYSTEMS.format(kind=kind) + "retention:\n" + RULES
    path.write_text(text, encoding="utf-8")
    return path


metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(200)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("last_seen", sa.DateTime),
)
invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
    sa.Column("issued_on", sa.Date, nullable=False),
)
payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.id"), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
)
web_events = sa.Table(
    "web_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("occurred_ms", sa.BigInteger, nullable=False),
    sa.Column("url", sa.String(200)),
)
visits = sa.Table(
    "visits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("visited", sa.String(40), nullable=False),
    sa.Column("ip", sa.String(45)),
    sa.Column("born", sa.Date),
    sa.Column("visitor", sa.String(40)),
)


@dataclass
class Expected:
    """Which ids each table keeps after a sweep at NOW (and which go)."""

    kept: dict[str, set[int]] = field(default_factory=dict)
    gone: dict[str, set[int]] = field(default_factory=dict)
    #: Visits anonymised by the sweep.
    anonymised: set[int] = field(default_factory=set)
    #: The invoice staff hold (record key).
    staff_held_invoice: int = 0


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def populate(url: str, *, extra_events: int = 0) -> Expected:
    """Create the shop's tables at ``url`` and fill them; what a sweep at NOW must do."""
    engine = sa.create_engine(url)
    expected = Expected()
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            # Prospects: due when last seen on or before 14 June 2024 (Oslo wall clock).
            conn.execute(
                customers.insert(),
                [
                    {
                        "id": 1,
                        "email": "a@x.example",
                        "status": "prospect",
                        "last_seen": datetime(2024, 6, 14, 23, 59, 59),
                    },
                    {
                        "id": 2,
                        "email": "b@x.example",
                        "status": "prospect",
                        "last_seen": datetime(2024, 6, 15, 0, 0),
                    },
                    {
                        "id": 3,
                        "email": "c@x.example",
                        "status": "customer",
                        "last_seen": datetime(2019, 1, 1),
                    },
                    # Due, but its 2022 invoice is kept by law: held by reference.
                    {
                        "id": 4,
                        "email": "d@x.example",
                        "status": "prospect",
                        "last_seen": datetime(2020, 1, 1),
                    },
                    # Due; its 2019 invoice and payment go first in the same run.
                    {
                        "id": 5,
                        "email": "e@x.example",
                        "status": "prospect",
                        "last_seen": datetime(2020, 2, 2),
                    },
                    {"id": 6, "email": "f@x.example", "status": "prospect", "last_seen": None},
                ],
            )
            # Invoices: P3Y from the day, held five years from the end of the year.
            conn.execute(
                invoices.insert(),
                [
                    {"id": 10, "customer_id": 5, "issued_on": date(2019, 5, 5)},
                    {"id": 11, "customer_id": 3, "issued_on": date(2020, 12, 31)},
                    {"id": 12, "customer_id": 4, "issued_on": date(2022, 1, 1)},
                    {"id": 13, "customer_id": 3, "issued_on": date(2021, 1, 1)},
                    {"id": 14, "customer_id": 3, "issued_on": date(2024, 1, 1)},
                    {"id": 15, "customer_id": 3, "issued_on": date(2019, 6, 6)},
                ],
            )
            # Payments follow their invoice: 3.5 years from the end of its year.
            conn.execute(
                payments.insert(),
                [
                    {"id": 100, "invoice_id": 10, "amount": 5},
                    {"id": 101, "invoice_id": 11, "amount": 5},
                    {"id": 102, "invoice_id": 12, "amount": 5},
                    {"id": 103, "invoice_id": 14, "amount": 5},
                ],
            )
            # Web events: P13M in Oslo days: due on or before 14 May 2025 (Oslo).
            oslo_midnight = datetime(2025, 5, 14, 22, 0, tzinfo=UTC)  # 15 May 00:00 CEST
            events = [
                {"id": 1000, "occurred_ms": _ms(oslo_midnight) - 1, "url": "/a"},
                {"id": 1001, "occurred_ms": _ms(oslo_midnight), "url": "/b"},
                {"id": 1002, "occurred_ms": _ms(datetime(2024, 1, 1, tzinfo=UTC)), "url": "/c"},
                {"id": 1003, "occurred_ms": _ms(NOW - timedelta(days=3)), "url": "/d"},
            ]
            events += [
                {
                    "id": 2000 + n,
                    "occurred_ms": _ms(datetime(2023, 1, 1, tzinfo=UTC) + timedelta(hours=n)),
                    "url": "/old",
                }
                for n in range(extra_events)
            ]
            conn.execute(web_events.insert(), events)
            # Visits: ISO text, P90D: anonymised when visited on or before 16 March 2026.
            conn.execute(
                visits.insert(),
                [
                    {
                        "id": 1,
                        "visited": "2026-03-16T23:00:00+02:00",
                        "ip": "192.0.2.77",
                        "born": date(1980, 7, 9),
                        "visitor": "cookie-1",
                    },
                    {
                        "id": 2,
                        "visited": "2026-03-17",
                        "ip": "192.0.2.78",
                        "born": date(1981, 7, 9),
                        "visitor": "cookie-2",
                    },
                    {
                        "id": 3,
                        "visited": "2025-01-01T08:00:00Z",
                        "ip": "2001:db8:1:2::5",
                        "born": None,
                        "visitor": "cookie-3",
                    },
                ],
            )
    finally:
        engine.dispose()
    expected.kept = {
        "customers": {2, 3, 4, 6},
        "invoices": {12, 13, 14, 15},
        "payments": {102, 103},
        "web_events": {1001, 1003},
        "visits": {1, 2, 3},
    }
    expected.gone = {
        "customers": {1, 5},
        "invoices": {10, 11},
        "payments": {100, 101},
        "web_events": {1000, 1002} | {2000 + n for n in range(extra_events)},
        "visits": set(),
    }
    expected.anonymised = {1, 3}
    expected.staff_held_invoice = 15
    return expected


def ids(url: str, table: sa.Table) -> set[int]:
    """The ids left in ``table``."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.select(table.c.id)).scalars())
    finally:
        engine.dispose()


def rows(url: str, table: sa.Table) -> dict[int, tuple[object, ...]]:
    """Every row of ``table`` by id."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {row[0]: tuple(row) for row in conn.execute(sa.select(table))}
    finally:
        engine.dispose()


TABLES = {t.name: t for t in (customers, invoices, payments, web_events, visits)}


def populate_aged(url: str, today: date) -> Expected:
    """The shop's tables filled at ages relative to ``today``, far from every boundary.

    For a sweep that runs on the real clock (the command line): prospects seen 1,000
    days ago go, 100 days ago stay; an invoice of six years ago goes, one of four years
    ago is kept by bokføringsloven (and keeps its customer); web events of 500 days ago
    go; visits of 200 days ago are anonymised.
    """
    engine = sa.create_engine(url)
    old_year, held_year = today.year - 6, today.year - 4
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                customers.insert(),
                [
                    {"id": 1, "status": "prospect", "last_seen": _days_ago(today, 1000)},
                    {"id": 2, "status": "prospect", "last_seen": _days_ago(today, 100)},
                    {"id": 3, "status": "customer", "last_seen": _days_ago(today, 3000)},
                    {"id": 4, "status": "prospect", "last_seen": _days_ago(today, 2000)},
                ],
            )
            conn.execute(
                invoices.insert(),
                [
                    {"id": 10, "customer_id": 3, "issued_on": date(old_year, 6, 1)},
                    {"id": 11, "customer_id": 3, "issued_on": date(old_year, 3, 1)},
                    {"id": 12, "customer_id": 4, "issued_on": date(held_year, 6, 1)},
                    {"id": 14, "customer_id": 3, "issued_on": today - timedelta(days=10)},
                ],
            )
            conn.execute(
                payments.insert(),
                [
                    {"id": 100, "invoice_id": 10, "amount": 5},
                    {"id": 101, "invoice_id": 14, "amount": 5},
                ],
            )
            now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
            conn.execute(
                web_events.insert(),
                [
                    {"id": 1000 + n, "occurred_ms": _ms(now - timedelta(days=500, hours=n))}
                    for n in range(3)
                ]
                + [{"id": 1100, "occurred_ms": _ms(now - timedelta(days=100))}],
            )
            conn.execute(
                visits.insert(),
                [
                    {
                        "id": 1,
                        "visited": (today - timedelta(days=200)).isoformat() + "T10:00:00Z",
                        "ip": "198.51.100.9",
                    },
                    {"id": 2, "visited": (today - timedelta(days=10)).isoformat(), "ip": "::1"},
                ],
            )
    finally:
        engine.dispose()
    return Expected(
        kept={
            "customers": {2, 3, 4},
            "invoices": {10, 12, 14},
            "payments": {101},
            "web_events": {1100},
            "visits": {1, 2},
        },
        anonymised={1},
        staff_held_invoice=10,
    )


def _days_ago(today: date, days: int) -> datetime:
    return datetime.combine(today - timedelta(days=days), datetime.min.time()).replace(hour=12)
