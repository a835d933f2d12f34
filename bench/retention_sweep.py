"""Retention sweeps against hand-written statements on the same data (issue 13, item 7).

A table of ``--rows`` web events (default 5 million), the oldest ``--due-share`` of them
(default a fifth: 1 million) past a 13-month retention rule, generated inside the
database (``generate_series`` on PostgreSQL, the SEQUENCE engine's ``seq_1_to_N`` on
MariaDB) into a source table once. Each measurement gets its own fresh copy of it
(same rows, same indexes, analysed), so every pair runs on the same data:

- **delete**: one hand-written ``DELETE FROM web_events WHERE occurred_at < boundary``
  against ``personvern``'s sweep of a ``delete`` rule (``RetentionSweep.run``, the
  count and safety stop included, batches of ``--batch-size`` keys);
- **anonymise**: one hand-written ``UPDATE`` setting the IP to its /24, the visitor id
  to NULL and the referrer to the mask, against the sweep of an ``anonymise`` rule
  doing the same.

Each action is measured in ``--pairs`` pairs (default 3), the hand-written statement
first in one pair and the sweep first in the next: what the first leaves the server to
do afterwards (InnoDB purging a million deleted rows, dirty pages to write) falls into
the second one's time, which once made a single MariaDB deletion pair read 1.13 and the
next 1.48. Printed per database and pair: seconds of each, the ratio sweep/hand-written
(target at most 1.5, for the median of the pairs), the seconds of the sweep's plan (the
counts the safety stop needs, before the first batch) and the ratio of the batches
alone, the number of batch transactions and the longest of them from BEGIN to COMMIT
(target at most 1 s), and a check that both left the same rows. The database is fresh
and uniquely named per run, and dropped after.

    python -m bench --only retention [--rows 5000000] [--dbs postgresql,mariadb] [--pairs 3]
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

#: The sweep's "now": every run counts from the same moment.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
#: Events are this far apart (ids grow with time, as an append-only log's do).
STEP = timedelta(seconds=5)
TABLE = "web_events"
SOURCE = "web_events_source"
MASK = "***"
PATHS = ("/", "/nb/kontorer/oslo", "/nb/moterom", "/en/offices/london", "/en/my-account")
REFERRERS = ("https://www.google.com/", "https://www.bing.com/", "")

DATAMAP = """\
organization:
  name: Benchco AS
  languages: [en]
  controllers:
    - {{key: c, name: Benchco AS, organization_number: '923456783', address: Oslo, country: NO}}
  contact: {{name: Privacy, email: privacy@benchco.example}}
  supervisory_authority: {{name: Datatilsynet, country: NO, url: https://www.datatilsynet.no}}
subjects:
  - {{key: visitor, name: {{en: Visitor}}}}
purposes:
  - key: analytics
    name: {{en: Analytics}}
    description: {{en: Counting visits}}
    data_use: functional.service.improve
    legal_basis: legitimate_interests
systems:
  - key: web
    name: Web
    kind: {kind}
    description: {{en: The web site}}
    connection_env: BENCH_WEB_URL
    datasets:
      - name: {table}
        subjects: [visitor]
        fields:
          - {{name: id, primary_key: true}}
          - {{name: occurred_at, category: user.behavior, purposes: [analytics]}}
          - {{name: visitor_id, category: user.unique_id, purposes: [analytics]}}
          - {{name: ip, category: user.device.ip_address, purposes: [analytics]}}
          - {{name: path, category: user.behavior, purposes: [analytics]}}
          - {{name: referrer, category: user.behavior, purposes: [analytics]}}
retention:
  - key: web-events
    dataset: web.{table}
    trigger: collected
    trigger_field: occurred_at
    trigger_format: timestamp
    period: P13M
{action}
    description: {{en: Clickstream goes after 13 months}}
"""
DELETE_ACTION = "    action: delete"
ANONYMISE_ACTION = (
    "    action: anonymise\n    anonymise: {ip: truncate_ip, visitor_id: 'null', referrer: mask}"
)


@dataclass
class Pair:
    """One hand-written statement and the sweep doing the same, on the same data."""

    name: str
    hand_seconds: float
    sweep_seconds: float
    #: Of the sweep: the plan's count (and safety stop) before the first batch.
    count_seconds: float
    rows: int
    swept_rows: int
    batches: int
    longest_transaction: float
    same_result: bool
    transactions: list[float] = field(default_factory=list)
    #: The sweep was measured before the hand-written statement.
    sweep_first: bool = False

    @property
    def ratio(self) -> float:
        """Sweep time over hand-written time."""
        return self.sweep_seconds / self.hand_seconds if self.hand_seconds else float("inf")

    @property
    def batch_ratio(self) -> float:
        """The batches alone (the sweep without its plan's count) over hand-written time."""
        batches = self.sweep_seconds - self.count_seconds
        return batches / self.hand_seconds if self.hand_seconds else float("inf")


def _boundary() -> datetime:
    """The first instant not due under the bench rule (naive UTC, as the column holds it)."""
    from personvern.domain.retention.due import last_due_day
    from personvern.domain.retention_period import parse_period

    last = last_due_day(parse_period("P13M"), NOW.date())
    assert last is not None
    return datetime.combine(last + timedelta(days=1), datetime.min.time())


def _admin(url: str) -> Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def fresh_database(server_url: str, kind: str) -> Iterator[str]:
    """A new, uniquely named database on the server; dropped after."""
    name = f"pv_bench_retention_{uuid.uuid4().hex[:10]}"
    admin = _admin(server_url)
    quoted = f'"{name}"' if kind == "postgresql" else f"`{name}`"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if kind == "postgresql" else ""
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}{force}"))
        admin.dispose()


def _columns(kind: str) -> str:
    timestamp = "TIMESTAMP" if kind == "postgresql" else "DATETIME"
    return (
        f"id BIGINT NOT NULL PRIMARY KEY, occurred_at {timestamp} NOT NULL, "
        "visitor_id VARCHAR(40), ip VARCHAR(45), path VARCHAR(200), referrer VARCHAR(200)"
    )


def _generate(engine: Engine, kind: str, rows: int, due: int) -> None:
    """Fill the source table: row i is a pure function of i; rows 1..due are past the rule."""
    boundary = _boundary()
    first = boundary - STEP * (due + 1)
    paths = ", ".join(f"'{p}'" for p in PATHS)
    referrers = ", ".join(f"'{r}'" for r in REFERRERS)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {SOURCE} ({_columns(kind)})"))
        if kind == "postgresql":
            conn.execute(
                sa.text(
                    f"INSERT INTO {SOURCE} SELECT i, "
                    f"timestamp '{first:%Y-%m-%d %H:%M:%S}' + i * interval '5 seconds', "
                    "'v' || (i % 400000), "
                    "'84.' || (i % 200) || '.' || ((i / 7) % 250) || '.' || (i % 250), "
                    f"(ARRAY[{paths}])[1 + i % {len(PATHS)}], "
                    f"(ARRAY[{referrers}])[1 + i % {len(REFERRERS)}] "
                    f"FROM generate_series(1, {rows}) AS g(i)"
                )
            )
        else:
            conn.execute(
                sa.text(
                    f"INSERT INTO {SOURCE} SELECT seq, "
                    f"TIMESTAMP '{first:%Y-%m-%d %H:%M:%S}' + INTERVAL seq * 5 SECOND, "
                    "CONCAT('v', seq % 400000), "
                    "CONCAT('84.', seq % 200, '.', (seq DIV 7) % 250, '.', seq % 250), "
                    f"ELT(1 + seq % {len(PATHS)}, {paths}), "
                    f"ELT(1 + seq % {len(REFERRERS)}, {referrers}) "
                    f"FROM seq_1_to_{rows}"
                )
            )
    # Rows 1..due start before the boundary: row due is the last one 5 s before it.
    with engine.connect() as conn:
        counted = conn.execute(
            sa.text(f"SELECT count(*) FROM {SOURCE} WHERE occurred_at < :b"), {"b": boundary}
        ).scalar_one()
    assert counted == due, (counted, due)


def _copy(engine: Engine, kind: str) -> None:
    """A fresh ``web_events`` from the source: same rows, its key and trigger index, analysed."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(sa.text(f"CREATE TABLE {TABLE} ({_columns(kind)})"))
        conn.execute(sa.text(f"INSERT INTO {TABLE} SELECT * FROM {SOURCE}"))
        conn.execute(sa.text(f"CREATE INDEX ix_{TABLE}_occurred_at ON {TABLE} (occurred_at)"))
    if kind == "postgresql":
        # Analysed, and nothing of the copy left for a checkpoint inside the measurement.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"VACUUM ANALYZE {TABLE}"))
            conn.execute(sa.text("CHECKPOINT"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text(f"ANALYZE TABLE {TABLE}"))


def _fingerprint(engine: Engine) -> tuple[Any, ...]:
    """What a table holds, in one row: count, key sum, and per anonymised field a digest."""
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.text(
                    f"SELECT count(*), sum(id), count(visitor_id), count(referrer), "
                    "sum(CASE WHEN referrer = :mask THEN 1 ELSE 0 END), "
                    "sum(length(ip)), count(ip), "
                    "sum(CASE WHEN ip LIKE '%.0' THEN 1 ELSE 0 END) "
                    f"FROM {TABLE}"
                ),
                {"mask": MASK},
            ).one()
        )


def _hand(engine: Engine, kind: str, action: str) -> float:
    """Seconds for one hand-written statement doing the rule's work."""
    boundary = _boundary()
    if action == "delete":
        statement = f"DELETE FROM {TABLE} WHERE occurred_at < :b"
    else:
        truncated = (
            "regexp_replace(ip, '[.][0-9]+$', '.0')"
            if kind == "postgresql"
            else "CONCAT(SUBSTRING_INDEX(ip, '.', 3), '.0')"
        )
        statement = (
            f"UPDATE {TABLE} SET ip = {truncated}, visitor_id = NULL, "
            f"referrer = CASE WHEN referrer IS NULL THEN NULL ELSE '{MASK}' END "
            "WHERE occurred_at < :b"
        )
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text(statement), {"b": boundary})
    return time.perf_counter() - start


def _sweep(
    url: str, kind: str, action: str, batch_size: int
) -> tuple[float, float, int, list[float]]:
    """Seconds for the sweep and for its count; rows it changed; each batch's seconds."""
    from personvern.connectors.registry import ConnectorPool
    from personvern.connectors.sql import SqlConnector
    from personvern.datamap.loader import check_datamap
    from personvern.engine.retention.sweep import RetentionSweep, TableStatus

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.yaml"
        path.write_text(
            DATAMAP.format(
                kind="postgresql" if kind == "postgresql" else "mysql",
                table=TABLE,
                action=DELETE_ACTION if action == "delete" else ANONYMISE_ACTION,
            ),
            encoding="utf-8",
        )
        datamap, _source, findings = check_datamap(path)
        errors = [f.render() for f in findings if f.finding.is_error]
        assert not errors, errors
        assert datamap is not None
    environ = {"BENCH_WEB_URL": url}
    pool = ConnectorPool()
    transactions: list[float] = []
    try:
        system = datamap.system("web")
        assert system is not None
        connector = pool.get(system, environ)
        assert isinstance(connector, SqlConnector)
        connector.check()
        opened: dict[int, float] = {}

        def began(conn: sa.Connection) -> None:
            opened[id(conn)] = time.perf_counter()

        def committed(conn: sa.Connection) -> None:
            start = opened.pop(id(conn), None)
            if start is not None:
                transactions.append(time.perf_counter() - start)

        sa.event.listen(connector.engine, "begin", began)
        sa.event.listen(connector.engine, "commit", committed)
        sweep = RetentionSweep(
            datamap,
            environ=environ,
            pool=pool,
            now=NOW,
            batch_size=batch_size,
            pseudonymise=None,
        )
        counted: list[float] = []
        start = time.perf_counter()
        run = sweep.run(
            "web", confirm=True, on_table=lambda _plan: counted.append(time.perf_counter())
        )
        elapsed = time.perf_counter() - start
    finally:
        pool.close()
    (outcome,) = run.outcomes
    assert outcome.status is TableStatus.COMPLETED, outcome.message
    assert outcome.progress is not None
    changed = outcome.progress.deleted + outcome.progress.anonymised
    return elapsed, counted[0] - start, changed, transactions


def measure(
    url: str,
    kind: str,
    action: str,
    rows: int,
    due: int,
    batch_size: int,
    *,
    sweep_first: bool = False,
) -> Pair:
    """The hand-written statement and the sweep, each on a fresh copy of the source.

    ``sweep_first``: the sweep is measured first. Whatever the first one leaves the
    server to do afterwards (InnoDB's purge of a million deleted rows, dirty pages to
    write) falls into the second one's time, so pairs alternate the order.
    """
    engine = sa.create_engine(url)
    left: dict[str, tuple[Any, ...]] = {}

    def by_hand() -> float:
        _copy(engine, kind)
        seconds = _hand(engine, kind, action)
        left["hand"] = _fingerprint(engine)
        return seconds

    def by_sweep() -> tuple[float, float, int, list[float]]:
        _copy(engine, kind)
        swept = _sweep(url, kind, action, batch_size)
        left["sweep"] = _fingerprint(engine)
        return swept

    try:
        if sweep_first:
            swept, counting, changed, transactions = by_sweep()
            hand = by_hand()
        else:
            hand = by_hand()
            swept, counting, changed, transactions = by_sweep()
    finally:
        engine.dispose()
    same = left["hand"] == left["sweep"]
    return Pair(
        name=action,
        hand_seconds=hand,
        sweep_seconds=swept,
        count_seconds=counting,
        rows=due,
        swept_rows=changed,
        batches=len(transactions),
        longest_transaction=max(transactions, default=0.0),
        same_result=same,
        transactions=transactions,
        sweep_first=sweep_first,
    )


def run(
    *,
    rows: int,
    dbs: list[str],
    urls: dict[str, str],
    batch_size: int = 10_000,
    due_share: float = 0.2,
    actions: tuple[str, ...] = ("delete", "anonymise"),
    pairs: int = 3,
) -> list[tuple[str, Pair]]:
    """Print, per database and action, ``pairs`` measured pairs and their median ratio."""
    due = round(rows * due_share)
    load = os.getloadavg()
    print(
        f"\nretention sweeps: {rows:,} web events, {due:,} past the rule, batches of "
        f"{batch_size:,}, {pairs} pair(s) per action in alternating order; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    results: list[tuple[str, Pair]] = []
    for kind in dbs:
        with fresh_database(urls[kind], kind) as url:
            engine = sa.create_engine(url)
            try:
                start = time.perf_counter()
                _generate(engine, kind, rows, due)
                generated = time.perf_counter() - start
            finally:
                engine.dispose()
            print(f"{kind}: {rows:,} rows generated in {generated:.1f} s")
            print(
                f"{'':<12}{'first':>6}{'hand s':>9}{'sweep s':>9}{'ratio':>7}{'count s':>9}"
                f"{'batches ratio':>15}{'rows':>11}{'batches':>9}{'longest tx s':>14}  same rows"
            )
            for action in actions:
                measured = [
                    measure(url, kind, action, rows, due, batch_size, sweep_first=n % 2 == 1)
                    for n in range(pairs)
                ]
                for pair in measured:
                    results.append((kind, pair))
                    print(
                        f"{action:<12}{'sweep' if pair.sweep_first else 'hand':>6}"
                        f"{pair.hand_seconds:>9.2f}{pair.sweep_seconds:>9.2f}"
                        f"{pair.ratio:>7.2f}{pair.count_seconds:>9.2f}{pair.batch_ratio:>15.2f}"
                        f"{pair.swept_rows:>11,}"
                        f"{pair.batches:>9}"
                        f"{pair.longest_transaction:>14.3f}  {'yes' if pair.same_result else 'NO'}"
                    )
                if pairs > 1:
                    ratios = [pair.ratio for pair in measured]
                    longest = max(pair.longest_transaction for pair in measured)
                    print(
                        f"{action:<12}median ratio {statistics.median(ratios):.2f} "
                        f"(range {min(ratios):.2f}-{max(ratios):.2f}), longest transaction "
                        f"{longest:.3f} s"
                    )
    print("targets: ratio <= 1.5 (the median of the pairs), longest batch transaction <= 1 s")
    return results
