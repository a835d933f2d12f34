"""The mention search in free text, with personvern's mention index and without it.

    python -m bench.mention_index [--rows 100000] [--dbs postgresql,mariadb]
                                  [--subjects 20] [--changed 1000]

Per server: a ``tickets`` table of ROWS support texts (a third of them mention a
customer's e-mail address or phone number, written as people write them) with an
``updated_at`` column and an index on it, in a database of its own
(``pv_bench_mentions_<rows>``, kept between runs). The index is built into a fresh
SQLite store; then, for SUBJECTS customers, the connector's search for their needles
is timed reading every text (LIKE) and through the index (the store's look-up
included), and the answers are compared. Then CHANGED tickets are added after the
build, which the indexed search reads directly until the next refresh, and the
refresh is timed. Figures are wall-clock on the machine at hand: compare ratios.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

DEFAULT_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/mysql",
}
SECRET = "bench-mention-index-secret-0123456789abcdef"
BASE = datetime(2020, 1, 1)
_MAP = """\
organization:
  name: Bench AS
  languages: [en]
  controllers:
    - {{key: b, name: Bench AS, organization_number: '923456783', address: Oslo, country: NO}}
  contact: {{name: Privacy, email: privacy@bench.example}}
  supervisory_authority: {{name: Datatilsynet, country: NO, url: https://www.datatilsynet.no}}
subjects:
  - {{key: customer, name: {{en: Customer}}}}
purposes:
  - {{key: support, name: {{en: Support}}, description: {{en: Support}},
     data_use: essential.service, legal_basis: contract}}
retention:
  - {{key: all, category: user, trigger: contract_end, period: P3Y,
     description: {{en: Three years}}}}
systems:
  - key: support
    name: Support
    description: {{en: Tickets}}
    kind: {kind}
    connection_env: BENCH_SUPPORT
    datasets:
      - name: tickets
        subjects: [customer]
        change_marker: updated_at
        fields:
          - {{name: id, primary_key: true}}
          - {{name: updated_at}}
          - {{name: body, category: user.content, purposes: [support], free_text: true}}
"""
_TEXT = (
    "kunden ringte om faktura for møterommet i tredje etasje og ba om ny kopi "
    "the customer asked about the invoice for the meeting room and a new card "
    "nøkkelkortet virker ikke etter ferien vennligst send et nytt kort snarest"
)
_WORDS = _TEXT.split()


def _address(person: int) -> str:
    return f"kunde{person}@example.no"


def _phone(person: int) -> str:
    return f"+479{person:07d}"


def _mention(rng: random.Random, person: int) -> str:
    digits = f"9{person:07d}"
    return rng.choice(
        [
            _address(person),
            _address(person).upper(),
            f"https://kunde.example/skjema?epost=kunde{person}%40example.no&steg=2",
            f"+47 {digits[:3]} {digits[3:5]} {digits[5:]}",
            f"{digits[:3]} {digits[3:5]} {digits[5:]}",
            " ".join(digits[i : i + 2] for i in range(0, 8, 2)),
        ]
    )


def _rows(rows: int, start: int, people: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(seed)
    batch: list[dict[str, Any]] = []
    for i in range(start, start + rows):
        words = rng.choices(_WORDS, k=rng.randint(12, 40))
        if rng.random() < 0.35:
            words.insert(rng.randrange(len(words)), _mention(rng, rng.randrange(people)))
        batch.append({"id": i, "updated_at": BASE + timedelta(minutes=i), "body": " ".join(words)})
        if len(batch) == 10_000:
            yield batch
            batch = []
    if batch:
        yield batch


_metadata = sa.MetaData()
_tickets = sa.Table(
    "tickets",
    _metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
    sa.Column("body", sa.Text),
)


def _database(kind: str, admin: str, rows: int) -> str:
    """The bench database for ``rows`` tickets, created and filled unless it is there."""
    name = f"pv_bench_mentions_{rows}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if kind == "postgresql":
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"))
    engine.dispose()
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    db = sa.create_engine(url)
    try:
        _metadata.create_all(db)
        with db.begin() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(_tickets)).scalar_one()
        if count != rows:
            with db.begin() as conn:
                conn.execute(_tickets.delete())
            print(f"  filling {name} with {rows:,} tickets ...", flush=True)
            for batch in _rows(rows, 1, rows // 3, seed=rows):
                with db.begin() as conn:
                    conn.execute(_tickets.insert(), batch)
            if kind == "postgresql":
                with db.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                        sa.text("VACUUM ANALYZE tickets")
                    )
    finally:
        db.dispose()
    return url


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):>9,.1f} ms   p95 {p95:>9,.1f} ms"


def _needles(person: int) -> frozenset[str]:
    """What a request searches free text for, knowing the person's address and number."""
    from personvern.domain.identities import email, phone

    found = email.text_needles(_address(person), "NO") | phone.text_needles(_phone(person), "NO")
    return frozenset(n for n in found if len(n) >= 6)


def _compare(
    search: Callable[[frozenset[str], bool], set[Any]], needles: list[frozenset[str]]
) -> None:
    """Time each person's search reading every text and through the index; same answers?"""
    scan: list[float] = []
    fast: list[float] = []
    same = True
    found = 0
    for wanted in needles:
        start = time.perf_counter()
        read = search(wanted, False)
        scan.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        indexed = search(wanted, True)
        fast.append((time.perf_counter() - start) * 1000)
        same = same and read == indexed
        found += len(read)
    print(f"    LIKE over every text      {_summary(scan)}")
    print(f"    through the mention index {_summary(fast)}")
    print(f"    tickets found: {found:,} for {len(needles)} people, the same both ways: {same}")


def _build(builder: Any, what: str) -> None:
    start = time.perf_counter()
    done = builder.build()[0]
    print(
        f"  {what}: {time.perf_counter() - start:,.1f} s, {done.records:,} tickets read, "
        f"{done.entries:,} mentions kept"
    )


def bench(kind: str, admin: str, rows: int, subjects: int, changed: int) -> None:
    """One server: build, search with and without the index, add rows, search, refresh."""
    from personvern.connectors.port import Criteria
    from personvern.connectors.sql import SqlConnector
    from personvern.datamap.loader import load_datamap
    from personvern.engine.mention_index import MentionIndexBuilder, StoredMentionIndex
    from personvern.store.db import make_engine, make_session_factory
    from personvern.store.migrate import upgrade_to_head
    from personvern.store.unit_of_work import unit_of_work_factory

    print(f"\n{kind}, {rows:,} tickets")
    url = _database(kind, admin, rows)
    company = sa.create_engine(url)
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "map.yaml").write_text(
            _MAP.format(kind="postgresql" if kind == "postgresql" else "mysql"), encoding="utf-8"
        )
        datamap = load_datamap(Path(home) / "map.yaml").datamap
        system = datamap.system("support")
        assert system is not None
        store = make_engine(f"sqlite:///{Path(home) / 'store' / 'personvern.db'}")
        upgrade_to_head(store)
        sessions = make_session_factory(store)
        builder = MentionIndexBuilder(
            datamap, {"BENCH_SUPPORT": url}, unit_of_work_factory(sessions), SECRET
        )
        _build(builder, "index build")
        rng = random.Random(7)
        needles = [_needles(rng.randrange(rows // 3)) for _ in range(subjects)]
        connector = SqlConnector(system, url)

        def search(wanted: frozenset[str], indexed: bool) -> set[Any]:
            restriction = {}
            if indexed:
                index = StoredMentionIndex(unit_of_work_factory(sessions), SECRET, datamap)
                found = index.restriction("support", "tickets", "body", wanted)
                assert found is not None
                restriction = {"body": found}
            criteria = Criteria(mentions={"body": wanted}, indexed=restriction)
            return {r.key for r in connector.locate("tickets", criteria)}

        try:
            search(needles[0], True)  # the connector reads the table's layout once
            print("  after the build:")
            _compare(search, needles)
            for batch in _rows(changed, rows + 1, rows // 3, seed=rows + 1):
                with company.begin() as conn:
                    conn.execute(_tickets.insert(), batch)
            print(f"  {changed:,} tickets added since, not yet refreshed:")
            _compare(search, needles)
            _build(builder, "index build again (a refresh)")
        finally:
            with company.begin() as conn:
                conn.execute(_tickets.delete().where(_tickets.c.id > rows))
            connector.close()
            store.dispose()
            company.dispose()


def main() -> None:
    """Parse arguments and run the benchmark on each server."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.mention_index",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dbs", default="postgresql,mariadb")
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--changed", type=int, default=1000)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--mariadb-url", default=None)
    args = parser.parse_args()
    import os

    urls = {
        "postgresql": args.pg_url
        or os.environ.get("PERSONVERN_BENCH_POSTGRES_URL", DEFAULT_URLS["postgresql"]),
        "mariadb": args.mariadb_url
        or os.environ.get("PERSONVERN_BENCH_MARIADB_URL", DEFAULT_URLS["mariadb"]),
    }
    for kind in [k.strip() for k in args.dbs.split(",") if k.strip()]:
        bench(kind, urls[kind], args.rows, args.subjects, args.changed)


if __name__ == "__main__":
    main()
