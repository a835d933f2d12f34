"""The command line: start-up, and what a cold `personvern request run` pays for tables.

Three parts, all against the demo company (personvern's own generator):

``startup``
    `personvern --version`, `--help` and `request --help` as subprocesses against a
    bare interpreter (`python -c pass`), medians in seconds (target: under 0.3 s).
``layouts``
    Per SQL system of the data map, in this process on a fresh connector each time:
    reflecting the tables (what every cold process paid before), the fingerprint query
    alone, and the fingerprint plus rebuilding the tables from the kept layout, with
    the statements each asks. On SQLite, and on PostgreSQL and MariaDB when reachable.
``request run``
    `personvern request run ID --dry-run` (search every system and plan; repeatable,
    changes nothing) and `personvern request run ID --yes` of fresh access requests,
    as subprocesses on an embedded store, with the layouts kept and with the
    ``table_layouts`` table emptied before each run, alternating.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from personvern.domain.datamap import System

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workspace-company"
SCRIPT = str(Path(sys.executable).parent / "personvern")
#: The start-up target of issue 9.
STARTUP_TARGET_S = 0.3


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def startup(repeat: int) -> None:
    """`personvern --help` and `--version` against `python -c pass`, medians in seconds."""

    def run(*command: str) -> Callable[[], object]:
        return lambda: subprocess.run(command, capture_output=True, check=True)

    bare = _median_s(run(sys.executable, "-c", "pass"), repeat)
    rows = [
        ("python -c pass", bare),
        ("personvern --version", _median_s(run(SCRIPT, "--version"), repeat)),
        ("personvern --help", _median_s(run(SCRIPT, "--help"), repeat)),
        ("personvern request --help", _median_s(run(SCRIPT, "request", "--help"), repeat)),
    ]
    print(f"\ncommand line start-up, median of {repeat}")
    print(f"{'command':<28}{'seconds':>10}{'x bare':>9}{'target':>12}")
    for name, seconds in rows:
        target = (
            ""
            if name.startswith("python")
            else (f"< {STARTUP_TARGET_S} s " + ("ok" if seconds < STARTUP_TARGET_S else "MISSED"))
        )
        print(f"{name:<28}{seconds:>10.3f}{seconds / bare:>9.1f}{target:>12}")


# -- layouts in process ----------------------------------------------------------------


@contextmanager
def _company(kind: str, server_url: str | None, customers: int) -> Iterator[str | None]:
    """The demo company's URL on ``kind`` (None when the server cannot be reached)."""
    from personvern.demo import seed_demo_company, targets_from_urls

    with tempfile.TemporaryDirectory() as home:
        if kind == "sqlite":
            url = f"sqlite:///{Path(home) / 'company.sqlite'}"
            seed_demo_company(
                targets_from_urls(Path(home), company_db_url=url), customers=customers
            )
            yield url
            return
        assert server_url is not None
        admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        name = f"pv_bench_layouts_{uuid.uuid4().hex[:8]}"
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {name}"))
        except sa.exc.OperationalError:
            admin.dispose()
            yield None
            return
        try:
            url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
            seed_demo_company(
                targets_from_urls(Path(home), company_db_url=url), customers=customers
            )
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE {name}"))
            admin.dispose()


def layouts(repeat: int, servers: dict[str, str]) -> None:
    """Per system: reflecting, the fingerprint alone, and fingerprint + rebuild (ms, statements)."""
    from personvern.datamap.loader import load_datamap

    datamap = load_datamap(EXAMPLE).datamap
    systems = [s for s in datamap.systems if s.kind.value in {"sqlite", "postgresql", "mysql"}]
    print(f"\ntable layouts on an open connection, median ms of {repeat} (statements)")
    print(f"{'database':<12}{'system':<16}{'reflect':>16}{'fingerprint':>16}{'kept layout':>16}")
    for kind in ("sqlite", "postgresql", "mariadb"):
        with _company(kind, servers.get(kind), customers=200) as url:
            if url is None:
                print(f"{kind:<12}(server not reachable: skipped)")
                continue
            totals = [0.0, 0.0, 0.0]
            for system in systems:
                figures = _system_figures(system, url, repeat)
                for i, (ms, _) in enumerate(figures):
                    totals[i] += ms
                print(
                    f"{kind:<12}{system.key:<16}"
                    + "".join(f"{ms:>10.1f} ({n:>2})" for ms, n in figures)
                )
            print(
                f"{kind:<12}{'all systems':<16}"
                + "".join(f"{ms:>10.1f}     " for ms in totals)
                + f"  x{totals[0] / totals[2]:.1f} faster kept"
            )


def _system_figures(system: System, url: str, repeat: int) -> list[tuple[float, int]]:
    """Reflecting, the fingerprint alone, and the kept layout: median ms and statements.

    On one open connection, so the figures are the describing alone: every cold
    process also pays for connecting, with or without a kept layout.
    """
    from personvern.connectors import table_layouts

    wanted = sorted(d.name for d in system.datasets)
    engine = sa.create_engine(url)
    issued = [0]
    sa.event.listen(
        engine, "before_cursor_execute", lambda *_: issued.__setitem__(0, issued[0] + 1)
    )
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore")

            def reflect() -> sa.MetaData:
                metadata = sa.MetaData()
                metadata.reflect(conn, only=lambda name, _: name in wanted, resolve_fks=False)
                return metadata

            layout = table_layouts.describe_exactly(list(reflect().tables.values()), engine.dialect)
            assert layout is not None, f"{system.key}: a type cannot be kept"

            def kept() -> None:
                table_layouts.fingerprint(conn, wanted)
                table_layouts.rebuild(layout, engine.dialect)

            figures = []
            for fn in (reflect, lambda: table_layouts.fingerprint(conn, wanted), kept):
                before = issued[0]
                ms = _median_ms(fn, repeat)
                figures.append((ms, (issued[0] - before) // repeat))
            return figures
    finally:
        engine.dispose()


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


# -- request run, cold -----------------------------------------------------------------


def request_runs(repeat: int, customers: int = 200) -> None:
    """`personvern request run` as a new process, with the kept layouts and without."""
    from personvern.demo import schema
    from personvern.demo.seed import seed_demo_company
    from personvern.demo.targets import demo_environment, targets_from_urls

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        targets = targets_from_urls(home / "company")
        seed_demo_company(targets, customers=customers, reference_date=date(2026, 11, 1))
        crm = sa.create_engine(targets.url("crm"))
        with crm.connect() as conn:
            emails = list(
                conn.execute(sa.select(schema.customers.c.email).limit(repeat * 2 + 1)).scalars()
            )
        crm.dispose()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
        env = (
            clean
            | demo_environment(targets, EXAMPLE)
            | {
                "PERSONVERN_HOME": str(home / "home"),
                "PERSONVERN_DATAMAP": str(EXAMPLE),
                "PERSONVERN_SECRET_KEY": "bench-cli-secret-0123456789abcdef0123",
                "NO_COLOR": "1",
                "COLUMNS": "200",
            }
        )
        ids = [_create(env, email) for email in emails]
        store = sa.create_engine(f"sqlite:///{home / 'home' / 'personvern.db'}")

        def forget() -> None:
            with store.begin() as conn:
                conn.execute(sa.text("DELETE FROM table_layouts"))

        def run(*args: str) -> float:
            start = time.perf_counter()
            done = subprocess.run(
                [SCRIPT, "request", "run", *args], env=env, capture_output=True, check=False
            )
            elapsed = time.perf_counter() - start
            # Exit 1: the e-mail system (a webhook) is not served here; the rest runs.
            if done.returncode not in {0, 1} or b"crm.customers" not in done.stdout:
                raise RuntimeError(f"request run failed: {done.stderr.decode()[-500:]}")
            return elapsed

        run(ids[0], "--dry-run")  # keeps the layouts, warms the page cache
        dry_kept, dry_without, full_kept, full_without = [], [], [], []
        for n in range(repeat):
            dry_kept.append(run(ids[0], "--dry-run"))
            forget()
            dry_without.append(run(ids[0], "--dry-run"))
            full_kept.append(run(ids[1 + 2 * n], "--yes"))
            forget()
            full_without.append(run(ids[2 + 2 * n], "--yes"))
        store.dispose()
    print(f"\npersonvern request run, a new process each, SQLite demo company, median of {repeat}")
    print(f"{'command':<34}{'kept layouts s':>16}{'reflecting s':>14}{'ratio':>8}")
    for name, kept, without in (
        ("request run ID --dry-run", dry_kept, dry_without),
        ("request run ID --yes (access)", full_kept, full_without),
    ):
        k, w = statistics.median(kept), statistics.median(without)
        print(f"{name:<34}{k:>16.3f}{w:>14.3f}{w / k:>8.2f}")


def _create(env: dict[str, str], email: str) -> str:
    done = subprocess.run(
        [SCRIPT, "request", "create", "--type", "access", "--identity", f"email={email}",
         "--verified-by", "staff_known_contact", "--note", "bench"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def run(repeat: int, servers: dict[str, str], runs: int) -> None:
    """Every part: start-up, layouts in process, request runs as processes."""
    startup(repeat)
    layouts(repeat, servers)
    request_runs(runs)
