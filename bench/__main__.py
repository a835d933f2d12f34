"""Run the benchmarks and print their figures.

    python -m bench [--only cli|documents|seed|requests|intake|decisions|retention]
                    [--customers 10000] [--repeat 20]
                    [--cli-runs 5]
                    [--sizes 10000,100000,1000000] [--dbs postgresql,mariadb]
                    [--requests 20] [--celery] [--no-embedded] [--trgm] [--poll-ms 0]

``cli`` times the command line's start-up, and a cold `personvern request run` with the
table layouts kept in the store and without (bench/cli_runs.py).
``intake`` files 200 public requests from 50 concurrent clients against `personvern
serve` on the embedded store (bench/intake_load.py) and reports failures and the p99.
``requests`` runs access and erasure requests end to end against the demo company in
PostgreSQL and MariaDB (bench/requests.py; bench/README.md has the recorded figures).
``retention`` times retention sweeps of ``--rows`` web events against one hand-written
DELETE and UPDATE of the same rows on PostgreSQL and MariaDB (bench/retention_sweep.py).
It and ``requests`` need the servers: --pg-url, --mariadb-url and, with --celery, --redis-url, or
their PERSONVERN_BENCH_* variables. Figures are wall-clock on the machine at hand;
compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workspace-company"
BENCHMARKS = ("cli", "documents", "seed", "intake", "requests", "decisions", "retention")
DATABASES = ("postgresql", "mariadb")


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 wall time in milliseconds over ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def bench_documents(repeat: int) -> None:
    """Loading and checking the example map, and rendering each document from it."""
    from personvern.datamap.cookies import render_cookie_declaration
    from personvern.datamap.loader import check_datamap, load_datamap
    from personvern.datamap.notice import render_notice
    from personvern.datamap.ropa import render_ropa

    datamap = load_datamap(EXAMPLE).datamap
    rows = [
        ("check example data map", timed(lambda: check_datamap(EXAMPLE), repeat)),
        ("notice nb html", timed(lambda: render_notice(datamap, "nb", "html"), repeat)),
        ("notice en txt", timed(lambda: render_notice(datamap, "en", "txt"), repeat)),
        ("ropa csv", timed(lambda: render_ropa(datamap, "csv"), repeat)),
        ("ropa json", timed(lambda: render_ropa(datamap, "json"), repeat)),
        (
            "cookies nb html",
            timed(lambda: render_cookie_declaration(datamap, "nb", "html"), repeat),
        ),
    ]
    print(f"{'documents':<28}{'median ms':>12}{'p95 ms':>12}")
    for name, (median, p95) in rows:
        print(f"{name:<28}{median:>12.2f}{p95:>12.2f}")


def bench_demo_seed(customers: int) -> None:
    """Seeding the demo company into SQLite: wall time and rows per second."""
    from personvern.demo import default_targets, seed_demo_company

    with tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        summary = seed_demo_company(default_targets(Path(home)), customers=customers)
        elapsed = time.perf_counter() - start
    files = sum(v for k, v in summary.rows.items() if k.startswith(("telephony.", "identity_")))
    rows = sum(summary.rows.values()) - files
    print(
        f"\ndemo seed, SQLite, {customers} customers: {elapsed:.1f} s, {rows} rows, "
        f"{rows / elapsed:,.0f} rows/s, {files} files"
    )


def _sizes(text: str) -> list[int]:
    """--sizes 10000,100000,1000000"""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected numbers of customers: 10000,100000") from None
    if not sizes or min(sizes) < 3:
        raise argparse.ArgumentTypeError("expected numbers of customers (at least 3)")
    return sizes


def _dbs(text: str) -> list[str]:
    """--dbs postgresql,mariadb"""
    dbs = [part.strip() for part in text.split(",") if part.strip()]
    if not dbs or set(dbs) - set(DATABASES):
        raise argparse.ArgumentTypeError(f"expected some of {','.join(DATABASES)}")
    return dbs


def _add_decision_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=10, help="decisions: load per endpoint")
    parser.add_argument("--threads", type=int, default=16, help="decisions: concurrent clients")
    parser.add_argument("--bulk", type=int, default=1_000_000, help="decisions: bulk addresses")
    parser.add_argument(
        "--http",
        choices=("auto", "h11"),
        default="auto",
        help="decisions: uvicorn as served (httptools, uvloop) or pure Python (h11, asyncio)",
    )


def _add_retention_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rows", type=int, default=5_000_000, help="retention: web events (a fifth past the rule)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=10_000, help="retention: keys per batch transaction"
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="retention: hand-written/sweep pairs per action, in alternating order (median)",
    )


def main() -> None:
    """Parse arguments and run the chosen benchmarks (all by default)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", action="append", choices=BENCHMARKS, help="run only these (repeatable)"
    )
    parser.add_argument("--customers", type=int, default=10_000, help="demo seed (SQLite)")
    parser.add_argument("--repeat", type=int, default=20, help="document renderings")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[10_000, 100_000, 1_000_000],
        help="customers per request benchmark database",
    )
    parser.add_argument("--dbs", type=_dbs, default=list(DATABASES))
    parser.add_argument("--requests", type=int, default=20, help="timed requests of each type")
    parser.add_argument("--celery", action="store_true", help="also through Redis and a worker")
    parser.add_argument(
        "--no-embedded", dest="embedded", action="store_false", help="only the Celery mode"
    )
    parser.add_argument(
        "--trgm",
        action="store_true",
        help="also on PostgreSQL with trigram indexes on the free-text fields (experiment)",
    )
    parser.add_argument(
        "--mention-index",
        action="store_true",
        help="also with personvern's mention index of the free text built first",
    )
    parser.add_argument(
        "--poll-ms",
        type=float,
        default=0.0,
        help="requests: poll the request every this many ms (0: wait on GET /state?wait=)",
    )
    parser.add_argument("--seed", type=int, default=1, help="which random customers")
    parser.add_argument(
        "--cli-runs", type=int, default=5, help="cli: `request run` processes of each kind"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "PERSONVERN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="PostgreSQL server (any database; the bench creates its own)",
    )
    parser.add_argument(
        "--mariadb-url",
        default=os.environ.get(
            "PERSONVERN_BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
        ),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("PERSONVERN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    parser.add_argument("--filings", type=int, default=200, help="intake: filings in all")
    parser.add_argument("--clients", type=int, default=50, help="intake: concurrent clients")
    _add_decision_arguments(parser)
    _add_retention_arguments(parser)
    parser.add_argument("--json", type=Path, help="also write the request samples here")
    parser.add_argument(
        "--from-json", type=Path, help="print the request tables of an earlier --json file"
    )
    args = parser.parse_args()
    if args.from_json:
        from bench import requests

        requests.print_report(requests.load_json(args.from_json), args.poll_ms)
        return
    only = set(args.only or BENCHMARKS)
    if "cli" in only:
        from bench import cli_runs

        cli_runs.run(
            min(args.repeat, 10),
            servers={"postgresql": args.pg_url, "mariadb": args.mariadb_url},
            runs=args.cli_runs,
        )
    if "documents" in only:
        bench_documents(args.repeat)
    if "seed" in only:
        bench_demo_seed(args.customers)
    if "intake" in only:
        from bench import intake_load

        intake_load.run(filings=args.filings, clients=args.clients)
    if "decisions" in only:
        from bench import decisions

        decisions.run(
            seconds=args.seconds,
            threads=args.threads,
            bulk=args.bulk,
            pg_url=args.pg_url,
            http=args.http,
        )
    if "retention" in only:
        from bench import retention_sweep

        retention_sweep.run(
            rows=args.rows,
            dbs=args.dbs,
            urls={"postgresql": args.pg_url, "mariadb": args.mariadb_url},
            batch_size=args.batch_size,
            pairs=args.pairs,
        )
    if "requests" in only:
        from bench import requests

        requests.run(
            sizes=args.sizes,
            dbs=args.dbs,
            requests=args.requests,
            celery=args.celery,
            embedded=args.embedded,
            trgm=args.trgm,
            mention_index=args.mention_index,
            poll_ms=args.poll_ms,
            seed=args.seed,
            urls={"postgresql": args.pg_url, "mariadb": args.mariadb_url},
            redis_url=args.redis_url,
            json_out=args.json,
        )


if __name__ == "__main__":
    main()
