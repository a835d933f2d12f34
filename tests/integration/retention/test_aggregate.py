"""Aggregate then delete on SQLite, PostgreSQL and MariaDB, and the checks of such a rule.

The shop's web events (tests/integration/retention/sweepco.py) are counted per UTC day
and page into a summary table, then deleted; a run killed between batches neither loses
nor double-counts, and a later run adds to the counts already kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import check_datamap
from personvern.domain.datamap import DataMap
from personvern.engine.retention.sweep import RetentionSweep, TableStatus
from personvern.engine.retention.table_sweep import TableProgress
from personvern.security.pseudonym import pseudonymiser
from tests.integration.retention import sweepco
from tests.integration.retention.conftest import ShopDatabase

DELETE_EVENTS = "    trigger_format: epoch_millis\n    timezone: Europe/Oslo\n    period: P13M\n"
AGGREGATE_EVENTS = DELETE_EVENTS + (
    "    action: aggregate\n    aggregate: {table: web_events_daily, by: [url]}\n"
)


def _aggregate_map(folder: Path, kind: str, rule: str = AGGREGATE_EVENTS) -> Path:
    path = sweepco.write_datamap(folder, kind)
    text = path.read_text(encoding="utf-8")
    assert DELETE_EVENTS in text
    path.write_text(text.replace(DELETE_EVENTS, rule, 1), encoding="utf-8")
    return path


@pytest.fixture
def aggregate_map(shop_database: ShopDatabase, tmp_path: Path) -> DataMap:
    """The shop's map with web events counted, then deleted (it passes `personvern check`)."""
    datamap, _source, findings = check_datamap(_aggregate_map(tmp_path, shop_database.kind))
    assert [] == [f.render() for f in findings if f.finding.is_error]
    assert datamap is not None
    return datamap


@pytest.fixture
def pool() -> Iterator[ConnectorPool]:
    """Connectors opened by the sweep, closed after the test."""
    opened = ConnectorPool()
    yield opened
    opened.close()


def _sweep(datamap: DataMap, url: str, pool: ConnectorPool, batch_size: int = 10) -> RetentionSweep:
    return RetentionSweep(
        datamap,
        environ={"SWEEPCO_SHOP_URL": url},
        pool=pool,
        now=sweepco.NOW,
        max_share=1.0,
        batch_size=batch_size,
        pseudonymise=pseudonymiser(b"aggregate-test-secret"),
    )


def _summary(url: str) -> dict[tuple[date, str], int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT day, url, row_count FROM web_events_daily"))
            found: dict[tuple[date, str], int] = {}
            for day, page, count in rows:
                # SQLite gives the day back as text.
                day_value = day if isinstance(day, date) else date.fromisoformat(str(day))
                key = (day_value, str(page))
                assert key not in found, f"{key} counted in two rows"
                found[key] = int(count)
            return found
    finally:
        engine.dispose()


def _expected(extra_events: int) -> dict[tuple[date, str], int]:
    """The due events per UTC day and page, as sweepco.populate makes them."""
    expected = {(date(2025, 5, 14), "/a"): 1, (date(2024, 1, 1), "/c"): 1}
    for n in range(extra_events):
        key = ((datetime(2023, 1, 1, tzinfo=UTC) + timedelta(hours=n)).date(), "/old")
        expected[key] = expected.get(key, 0) + 1
    return expected


def test_due_rows_are_counted_per_day_and_page_then_deleted(
    shop_database: ShopDatabase, aggregate_map: DataMap, pool: ConnectorPool
) -> None:
    expected = sweepco.populate(shop_database.url, extra_events=25)

    run = _sweep(aggregate_map, shop_database.url, pool).run("shop")

    events = next(o for o in run.outcomes if o.rule == "web-events")
    assert TableStatus.COMPLETED is events.status, events.message
    assert events.progress is not None
    assert 27 == events.progress.deleted
    assert expected.kept["web_events"] == sweepco.ids(shop_database.url, sweepco.web_events)
    assert _expected(25) == _summary(shop_database.url)
    assert 27 == sum(_summary(shop_database.url).values())

    # A second run finds nothing due and counts nothing again.
    again = _sweep(aggregate_map, shop_database.url, pool).run("shop")
    assert [0] == [
        o.progress.deleted for o in again.outcomes if o.rule == "web-events" and o.progress
    ]
    assert _expected(25) == _summary(shop_database.url)


@pytest.mark.parametrize("dense", [False, True], ids=["keyset", "windows"])
def test_a_run_killed_between_batches_neither_loses_nor_double_counts(
    shop_database: ShopDatabase, aggregate_map: DataMap, pool: ConnectorPool, dense: bool
) -> None:
    sweepco.populate(shop_database.url, extra_events=25)
    expected = _expected(25)
    if dense:
        # Only the 25 consecutive keys 2000-2024 due: batches are windows of keys.
        engine = sa.create_engine(shop_database.url)
        try:
            with engine.begin() as conn:
                conn.execute(sweepco.web_events.delete().where(sweepco.web_events.c.id < 1001))
                conn.execute(sweepco.web_events.delete().where(sweepco.web_events.c.id == 1002))
        finally:
            engine.dispose()
        del expected[(date(2025, 5, 14), "/a")], expected[(date(2024, 1, 1), "/c")]
    due = sum(expected.values())

    class KilledError(Exception):
        pass

    def kill(progress: TableProgress) -> None:
        if progress.rule == "web-events" and progress.batches == 2:
            raise KilledError

    with pytest.raises(KilledError):
        _sweep(aggregate_map, shop_database.url, pool, batch_size=4).run("shop", on_batch=kill)
    partial = _summary(shop_database.url)
    assert 8 == sum(partial.values())
    assert due - 8 + 2 == len(sweepco.ids(shop_database.url, sweepco.web_events))

    rerun = _sweep(aggregate_map, shop_database.url, pool, batch_size=4).run("shop")

    assert {TableStatus.COMPLETED} == {o.status for o in rerun.outcomes}, [
        o.message for o in rerun.outcomes
    ]
    events = next(o for o in rerun.outcomes if o.rule == "web-events")
    assert events.progress is not None
    assert (due - 8, -(-(due - 8) // 4)) == (events.progress.deleted, events.progress.batches)
    assert expected == _summary(shop_database.url)
    assert {1001, 1003} == sweepco.ids(shop_database.url, sweepco.web_events)


def test_a_later_run_adds_to_the_counts_already_kept(
    shop_database: ShopDatabase, aggregate_map: DataMap, pool: ConnectorPool
) -> None:
    sweepco.populate(shop_database.url, extra_events=3)
    _sweep(aggregate_map, shop_database.url, pool).run("shop")
    engine = sa.create_engine(shop_database.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sweepco.web_events.insert(),
                [
                    {"id": 3000 + n, "occurred_ms": 1_672_531_200_000 + n * 60_000, "url": "/old"}
                    for n in range(4)
                ],
            )
    finally:
        engine.dispose()

    _sweep(aggregate_map, shop_database.url, pool).run("shop")

    expected = _expected(3)
    expected[(date(2023, 1, 1), "/old")] += 4
    assert expected == _summary(shop_database.url)


def test_an_existing_table_without_the_summary_columns_fails_that_rule_only(
    shop_database: ShopDatabase, aggregate_map: DataMap, pool: ConnectorPool
) -> None:
    sweepco.populate(shop_database.url)
    engine = sa.create_engine(shop_database.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE web_events_daily (day DATE, hits INTEGER)"))
    finally:
        engine.dispose()
    before = sweepco.ids(shop_database.url, sweepco.web_events)

    run = _sweep(aggregate_map, shop_database.url, pool).run("shop")

    (failed,) = run.failed
    assert str(failed.message).startswith(
        "web_events_daily: the summary table exists without the column url"
    )
    assert before == sweepco.ids(shop_database.url, sweepco.web_events)
    assert 4 == len([o for o in run.outcomes if o.status is TableStatus.COMPLETED])


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            DELETE_EVENTS + "    action: aggregate\n",
            "action: aggregate needs aggregate: {table: ..., by: [...]}",
        ),
        (
            DELETE_EVENTS + "    aggregate: {table: web_events_daily}\n",
            "aggregate: is only for action: aggregate",
        ),
        (
            DELETE_EVENTS + "    action: aggregate\n    aggregate: {table: daily, by: [page]}\n",
            "aggregate by 'page', which is not a field of shop.web_events",
        ),
        (
            DELETE_EVENTS + "    action: aggregate\n    aggregate: {table: daily, by: [id]}\n",
            "aggregate by 'id', the record's key: the summary would keep personal data",
        ),
        (
            DELETE_EVENTS + "    action: aggregate\n    aggregate: {table: visits}\n",
            "aggregate table 'visits' is a dataset of the data map; "
            "the counts would be written into it",
        ),
        (
            DELETE_EVENTS
            + "    action: aggregate\n    aggregate: {table: daily, by: [url, row_count]}\n",
            "row_count is the summary table's own column; rename the field",
        ),
    ],
)
def test_each_broken_aggregate_is_one_located_error(
    tmp_path: Path, rule: str, message: str
) -> None:
    path = _aggregate_map(tmp_path, "sqlite", rule)
    text = path.read_text(encoding="utf-8")
    rule_line = text[: text.index("  - key: web-events")].count("\n") + 1
    last_line = text[: text.index(rule)].count("\n") + rule.count("\n")

    datamap, _source, findings = check_datamap(path)

    errors = [f for f in findings if f.finding.is_error]
    assert datamap is None
    assert 1 == len(errors), [e.render() for e in errors]
    assert message in errors[0].finding.message
    assert errors[0].location is not None
    assert rule_line <= errors[0].location.line <= last_line


def test_a_dimension_that_names_a_person_is_refused(tmp_path: Path) -> None:
    path = _aggregate_map(
        tmp_path,
        "sqlite",
        DELETE_EVENTS + "    action: aggregate\n    aggregate: {table: daily, by: [url]}\n",
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "{name: url, category: user.behavior,", "{name: url, category: user.device.ip_address,"
        ),
        encoding="utf-8",
    )

    _datamap, _source, findings = check_datamap(path)

    assert [
        "aggregate by 'url', of category user.device.ip_address: "
        "the summary would keep personal data"
    ] == [f.finding.message for f in findings if f.finding.is_error]
