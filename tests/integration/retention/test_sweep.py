"""Sweeps on SQLite, PostgreSQL and MariaDB: exactly the due rows go, the held ones stay.

The shop's rows were generated at known ages around each rule's boundary day
(tests/integration/retention/sweepco.py); the sweep runs as of a fixed moment.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.registry import ConnectorPool
from personvern.connectors.sql import SqlConnector
from personvern.datamap.loader import check_datamap
from personvern.domain.datamap import DataMap
from personvern.domain.retention.holds import SubjectHold
from personvern.engine.retention.sweep import RetentionSweep, TableStatus
from personvern.engine.retention.table_sweep import TableProgress
from personvern.security.pseudonym import pseudonymiser
from tests.integration.retention import sweepco
from tests.integration.retention.conftest import ShopDatabase

STAFF_HOLD = SubjectHold("shop.invoices", "15", "disputed invoice", "cli:kari", date(2026, 12, 31))


@pytest.fixture
def shop_map(shop_database: ShopDatabase, tmp_path: Path) -> DataMap:
    """The shop's data map for the database's kind (it passes `personvern check`)."""
    path = sweepco.write_datamap(tmp_path / "map", shop_database.kind)
    datamap, _source, findings = check_datamap(path)
    assert [] == [f.render() for f in findings if f.finding.is_error]
    assert datamap is not None
    return datamap


@pytest.fixture
def pool() -> Iterator[ConnectorPool]:
    """Connectors opened by the sweep, closed after the test."""
    opened = ConnectorPool()
    yield opened
    opened.close()


def _sweep(datamap: DataMap, url: str, pool: ConnectorPool, **options: object) -> RetentionSweep:
    return RetentionSweep(
        datamap,
        environ={"SWEEPCO_SHOP_URL": url},
        pool=pool,
        now=sweepco.NOW,
        staff_holds=(STAFF_HOLD,),
        pseudonymise=pseudonymiser(b"sweep-test-secret"),
        **options,  # type: ignore[arg-type]
    )


def _commits_wait_for_the_disk(
    shop_database: ShopDatabase, shop_map: DataMap, pool: ConnectorPool
) -> None:
    """The batches' asynchronous commits (PostgreSQL) stayed with the run, not the pool."""
    if shop_database.kind != "postgresql":
        return
    connector = pool.get(shop_map.systems[0], {"SWEEPCO_SHOP_URL": shop_database.url})
    assert isinstance(connector, SqlConnector)
    with connector.engine.connect() as conn:
        assert "on" == conn.execute(sa.text("SHOW synchronous_commit")).scalar()


def test_the_dry_run_counts_due_and_held_rows_and_changes_nothing(
    shop_database: ShopDatabase, shop_map: DataMap, pool: ConnectorPool
) -> None:
    sweepco.populate(shop_database.url)
    before = {name: sweepco.rows(shop_database.url, t) for name, t in sweepco.TABLES.items()}

    plan = _sweep(shop_map, shop_database.url, pool).plan()

    assert [] == plan.failed
    by_rule = {t.rule: t for t in plan.tables}
    # Children before parents.
    assert ["payments", "invoices", "prospects"] == [
        t.rule for t in plan.tables if t.rule in {"payments", "invoices", "prospects"}
    ]
    invoices = by_rule["invoices"]
    # 10 and 11 are due but still referenced by their payments until those go.
    assert (6, 0, 2, 1, 2) == (
        invoices.total,
        invoices.due,
        invoices.held_by_law,
        invoices.held_by_staff,
        invoices.held_by_reference,
    )
    assert ("bokføringsloven § 13", ("payments",)) == (invoices.statutory, invoices.referenced_by)
    payments = by_rule["payments"]
    assert (4, 2, date(2019, 5, 5)) == (payments.total, payments.due, payments.oldest_due)
    prospects = by_rule["prospects"]
    assert (6, 5, 1, 2, date(2024, 6, 14)) == (
        prospects.total,
        prospects.in_scope,
        prospects.due,
        prospects.held_by_reference,
        prospects.last_due_day,
    )
    events = by_rule["web-events"]
    assert (2, date(2024, 1, 1), date(2025, 5, 14)) == (
        events.due,
        events.oldest_due,
        events.last_due_day,
    )
    visits = by_rule["visits"]
    assert (2, date(2025, 1, 1)) == (visits.due, visits.oldest_due)
    after = {name: sweepco.rows(shop_database.url, t) for name, t in sweepco.TABLES.items()}
    assert before == after


def test_a_run_deletes_exactly_the_due_rows_and_anonymises_the_due_visits(
    shop_database: ShopDatabase, shop_map: DataMap, pool: ConnectorPool
) -> None:
    expected = sweepco.populate(shop_database.url)
    visits_before = sweepco.rows(shop_database.url, sweepco.visits)

    run = _sweep(shop_map, shop_database.url, pool, max_share=1.0).run()

    assert {TableStatus.COMPLETED} == {o.status for o in run.outcomes}, [
        o.message for o in run.outcomes
    ]
    for name, table in sweepco.TABLES.items():
        assert expected.kept[name] == sweepco.ids(shop_database.url, table), name
    counts = {
        o.rule: (o.progress.deleted, o.progress.anonymised) for o in run.outcomes if o.progress
    }
    assert {
        "payments": (2, 0),
        "invoices": (2, 0),
        "prospects": (2, 0),
        "web-events": (2, 0),
        "visits": (0, 2),
    } == counts
    visits = sweepco.rows(shop_database.url, sweepco.visits)
    assert visits[2] == visits_before[2]
    _id, _visited, ip, born, visitor = visits[1]
    assert ("192.0.2.0", date(1980, 1, 1)) == (ip, born)
    assert str(visitor).startswith("pv-")
    assert visitor != visits_before[1][4]
    assert ipaddress.ip_address("2001:db8:1::") == ipaddress.ip_address(str(visits[3][2]))
    assert visits[3][3] is None
    # Evidence keys: first and last key touched per table.
    invoices = next(o for o in run.outcomes if o.rule == "invoices")
    assert invoices.progress is not None
    assert ("10", "11") == (invoices.progress.first_key, invoices.progress.last_key)

    _commits_wait_for_the_disk(shop_database, shop_map, pool)
    # The dry run after it counts nothing due: anonymised years and addresses are
    # recognised as such in SQL on every database, not only where SQL computes them.
    replanned = _sweep(shop_map, shop_database.url, pool).plan()
    assert {t.rule: t.due for t in replanned.tables}["visits"] == 0
    # A second run finds nothing left to do and changes nothing.
    again = _sweep(shop_map, shop_database.url, pool, max_share=1.0).run()
    assert all(
        o.progress is not None and (o.progress.deleted, o.progress.anonymised) == (0, 0)
        for o in again.outcomes
    )
    assert visits == sweepco.rows(shop_database.url, sweepco.visits)


def test_a_run_killed_after_its_first_batch_continues_without_harm(
    shop_database: ShopDatabase, shop_map: DataMap, pool: ConnectorPool
) -> None:
    expected = sweepco.populate(shop_database.url, extra_events=25)
    seen: list[int] = []

    class KilledError(Exception):
        pass

    def kill(progress: TableProgress) -> None:
        seen.append(progress.deleted)
        raise KilledError

    sweep = _sweep(shop_map, shop_database.url, pool, max_share=1.0, batch_size=4)
    recorded: list[TableStatus] = []
    with pytest.raises(KilledError):
        sweep.run(
            "shop", on_batch=kill, record=lambda _run, outcome: recorded.append(outcome.status)
        )
    # The killed run's connection was discarded with its asynchronous commits.
    _commits_wait_for_the_disk(shop_database, shop_map, pool)
    # The first table's first batch (two payments) was committed, nothing after it.
    assert [2] == seen
    assert [TableStatus.INTERRUPTED] == recorded
    assert {102, 103} == sweepco.ids(shop_database.url, sweepco.payments)
    assert len(expected.gone["web_events"]) + 2 == len(
        sweepco.ids(shop_database.url, sweepco.web_events)
    )

    rerun = _sweep(shop_map, shop_database.url, pool, max_share=1.0, batch_size=4).run()

    assert {TableStatus.COMPLETED} == {o.status for o in rerun.outcomes}
    for name, table in sweepco.TABLES.items():
        assert expected.kept[name] == sweepco.ids(shop_database.url, table), name
    events = next(o for o in rerun.outcomes if o.rule == "web-events")
    assert events.progress is not None
    assert (27, 7) == (events.progress.deleted, events.progress.batches)


def test_due_keys_beyond_the_newest_due_rows_key_are_swept_too(
    shop_database: ShopDatabase, shop_map: DataMap, pool: ConnectorPool
) -> None:
    """Keys mostly in time order: the newest due row's key is not the last due key."""
    sweepco.populate(shop_database.url)
    engine = sa.create_engine(shop_database.url)
    try:
        with engine.begin() as conn:
            # 998 is the oldest due row and the smallest key; 1000 the newest due row;
            # 1002 and 1004 are due keys after it (PostgreSQL's plan probes the first two).
            conn.execute(
                sweepco.web_events.insert(),
                [
                    {"id": 998, "occurred_ms": 1_577_836_800_000, "url": "/2020"},
                    {"id": 1004, "occurred_ms": 1_717_200_000_000, "url": "/2024-06"},
                ],
            )
    finally:
        engine.dispose()

    run = _sweep(shop_map, shop_database.url, pool, max_share=1.0, batch_size=4).run()

    events = next(o for o in run.outcomes if o.rule == "web-events")
    assert events.progress is not None
    assert (TableStatus.COMPLETED, 4, "998", "1004") == (
        events.status,
        events.progress.deleted,
        events.progress.first_key,
        events.progress.last_key,
    )
    assert {1001, 1003} == sweepco.ids(shop_database.url, sweepco.web_events)


def test_the_safety_stop_refuses_a_rule_taking_too_much_of_a_table(
    shop_database: ShopDatabase, shop_map: DataMap, pool: ConnectorPool
) -> None:
    expected = sweepco.populate(shop_database.url, extra_events=6)

    run = _sweep(shop_map, shop_database.url, pool).run()

    refused = {o.rule: o for o in run.outcomes if o.status is TableStatus.REFUSED}
    # web events: 8 of 10 due (80 %), over the default 20 %.
    assert "web-events" in refused
    assert "would delete 8 of 10 rows (80%)" in str(refused["web-events"].message)
    assert 10 == len(sweepco.ids(shop_database.url, sweepco.web_events))

    statements: list[str] = []
    connector = pool.get(shop_map.systems[0], {"SWEEPCO_SHOP_URL": shop_database.url})
    assert isinstance(connector, SqlConnector)
    engine = connector.engine

    def listen(*args: object) -> None:
        statements.append(" ".join(str(args[2]).split()))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        confirmed = _sweep(shop_map, shop_database.url, pool).run(confirm=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)

    assert [] == confirmed.stopped
    assert expected.kept["web_events"] == sweepco.ids(shop_database.url, sweepco.web_events)
    # Confirmed, no share is weighed, so no table is counted whole: only the due rows.
    counts = [s for s in statements if s.upper().startswith("SELECT COUNT(*)")]
    assert counts, statements
    assert [] == [s for s in counts if "AS total" in s]


def test_one_system_only_and_an_unknown_one_is_refused(
    shop_database: ShopDatabase, shop_map: DataMap, pool: ConnectorPool
) -> None:
    sweepco.populate(shop_database.url)
    assert 5 == len(_sweep(shop_map, shop_database.url, pool).plan("shop").tables)
    with pytest.raises(Exception, match="no system 'nope' in the data map"):
        _sweep(shop_map, shop_database.url, pool).plan("nope")


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "trigger_format: epoch_millis",
            "trigger_format: iso_text",
            "shop.web_events: the trigger column occurred_ms (BIGINT) cannot hold iso_text times",
        ),
        (
            "trigger_format: iso_text",
            "trigger_format: epoch_seconds",
            "shop.visits: the trigger column visited (VARCHAR(40)) cannot hold epoch_seconds",
        ),
        (
            "    trigger_format: iso_text\n",
            "",
            "shop.visits: the trigger column visited (VARCHAR(40)) is no SQL date or timestamp",
        ),
    ],
)
def test_a_trigger_column_that_cannot_hold_the_declared_time_fails_that_rule_only(
    shop_database: ShopDatabase,
    pool: ConnectorPool,
    tmp_path: Path,
    old: str,
    new: str,
    says: str,
) -> None:
    sweepco.populate(shop_database.url)
    path = sweepco.write_datamap(tmp_path / "map", shop_database.kind)
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    datamap, _source, _findings = check_datamap(path)
    assert datamap is not None
    before = sweepco.ids(shop_database.url, sweepco.web_events)

    run = _sweep(datamap, shop_database.url, pool, max_share=1.0).run()

    assert 1 == len(run.failed)
    assert str(run.failed[0].message).startswith(says)
    assert 4 == len([o for o in run.outcomes if o.status is TableStatus.COMPLETED])
    if "web_events" in says:
        assert before == sweepco.ids(shop_database.url, sweepco.web_events)
