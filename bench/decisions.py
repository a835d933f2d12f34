"""Marketing decisions under load, and bulk decisions on a million addresses.

Two parts (issue 11's benchmark):

- **throughput**: `GET /api/v1/decisions/marketing` against the same app's empty
  endpoint, `GET /livez` (and a static file for reference), on one server with 2
  uvicorn workers on loopback (as `personvern serve` runs, on httptools and uvloop;
  `--http h11` for uvicorn's pure-Python stack), the store holding a ledger of
  ``--ledger`` consents and 10 erasures under way. wrk (or, without it, Python
  threads) calls each endpoint for ``--seconds``, the decisions for a different
  person each call; printed: requests per second, median and p99 latency, the
  server's processor time per request, and the decision's throughput as a ratio of
  the empty endpoint's (target: at least 0.7, p99 under 20 ms).
- **in process**: processor time per call of the empty route and of a decision, through
  the app in the bench's own process (no server, no network): the app's own cost, steady
  on a busy machine; one caller at a time, and 8 at once (as a worker under load, where
  decisions' reads go together in one statement).
- **bulk**: `bulk_marketing` (what `POST /api/v1/decisions/marketing/bulk` runs) on
  ``--bulk`` generated addresses against the same ledger (target: 1 million under 5 s).

    python -m bench --only decisions [--seconds 10] [--threads 16] [--bulk 1000000] [--http h11]
"""

from __future__ import annotations

import itertools
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.intake_load import _free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workspace-company"
#: The issue's empty endpoint: an API route of the same app that answers a constant
#: (the liveness probe), through the same middleware, routing and serialisation.
EMPTY = "/livez"
#: The app's cheapest answer of all, a static file (no API routing), for reference.
STATIC = "/staff/static/console.css"
#: Verified erasures not yet run, in the store while the decisions are asked.
ERASURES_UNDER_WAY = 10
#: Callers at once in the in-process measurement's second part: about what each of the
#: two workers serves under wrk's 16 connections, so decisions' reads go together.
TOGETHER = 8


def _environment(home: Path, store_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    if store_url is not None:
        env["PERSONVERN_DATABASE_URL"] = store_url
    return env | {
        "PERSONVERN_HOME": str(home),
        "PERSONVERN_DATAMAP": str(EXAMPLE),
        "PERSONVERN_SECRET_KEY": "bench-decisions-secret-0123456789abcdef",
        "PERSONVERN_AUTO_MIGRATE": "false",
        "PERSONVERN_HOUSEKEEPING_INTERVAL_SECONDS": "0",
        # One client network calls everything here.
        "PERSONVERN_AUTH_FAILURES_PER_CLIENT": "1000000",
    }


def _prepare(home: Path, ledger: int, store_url: str | None = None) -> tuple[str, list[str]]:
    """Migrate the store, fill the ledger, make a marketing_system token; token, addresses."""
    os.environ.pop("PERSONVERN_DATABASE_URL", None)
    os.environ.update(_environment(home, store_url))
    from personvern.datamap.loader import load_datamap
    from personvern.domain.audit.event import AuditActor
    from personvern.domain.roles import Role
    from personvern.intake import Channel, file_request
    from personvern.intake.consents import record_consent
    from personvern.security.tokens import issue_token
    from personvern.settings import load_settings
    from personvern.store.db import make_engine, make_session_factory
    from personvern.store.encryption.setup import open_vault
    from personvern.store.migrate import upgrade_to_head

    settings = load_settings()
    upgrade_to_head(settings)
    datamap = load_datamap(EXAMPLE).datamap
    addresses = [f"kunde{n}@example.no" for n in range(ledger)]
    sessions = make_session_factory(make_engine(settings), open_vault(settings))
    actor = AuditActor("bench", via="cli")
    with sessions() as session:
        for n, address in enumerate(addresses):
            record_consent(
                session,
                settings,
                datamap,
                identity=("email", address),
                purpose="marketing_newsletter",
                action="granted" if n % 3 else "withdrawn",
                source="api",
                actor=actor,
                channel="email",
                language="nb",
            )
        # A few erasures under way, as a company has: each decision must weigh them.
        for n in range(ERASURES_UNDER_WAY):
            file_request(
                session,
                settings,
                datamap,
                type="erasure",
                identities=[("email", f"sletting{n}@example.no")],
                language="nb",
                channel=Channel.STAFF,
                actor="bench",
                verification_method="staff_in_person",
                verification_note="bench",
            )
        token = issue_token(session, name="bench", role=Role.MARKETING_SYSTEM).token
        session.commit()
    return token, addresses


@contextmanager
def _server(
    home: Path, store_url: str | None, http: str = "auto"
) -> Iterator[tuple[str, list[int]]]:
    """Two uvicorn worker processes on one port, the kernel sharing connections out.

    ``uvicorn --workers 2`` shares one listening socket, and the worker that accepts
    first often takes every one of a load generator's connections at once: the empty
    route measured 2,450 or 5,370 requests a second from one run to the next, as one
    worker or both served. Each process here listens on a socket of its own bound with
    SO_REUSEPORT, so the kernel spreads the connections over both.
    """
    port = _free_port()
    log = (home.parent / "server.log").open("w")
    sockets = [_reuse_port_socket(port) for _ in range(2)]
    command = [sys.executable, "-m", "uvicorn", "bench.decisions_app:app", "--factory"]
    if http == "h11":
        command += ["--http", "h11", "--loop", "asyncio"]
    processes = [
        subprocess.Popen(
            [*command, "--fd", str(sock.fileno()), "--log-level", "warning"],
            env=_environment(home, store_url),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(),),
        )
        for sock in sockets
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        for process in processes:
            wait_until_up(base, process, home.parent / "server.log")
        # Both must serve before the load begins: a connection the kernel hands to a
        # process still starting waits for it.
        time.sleep(1.0)
        yield base, [process.pid for process in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        for sock in sockets:
            sock.close()
        log.close()


def _reuse_port_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # uvicorn takes a socket by descriptor as a Unix one and leaves Nagle's algorithm on
    # (40 ms per answer); Linux gives accepted connections the listener's TCP_NODELAY.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _load(
    base: str, path: str | list[str], headers: dict[str, str], seconds: float, threads: int
) -> dict[str, Any]:
    """Call ``path`` (or each of a list in turn) from ``threads`` keep-alive clients; figures.

    With wrk installed (`apt-get install wrk`), wrk makes the calls: a Python client on
    the same two cores takes CPU from the server and adds its own tail latency (the
    empty route's p99 was 30 ms through it).
    """
    paths = [path] if isinstance(path, str) else path
    if shutil.which("wrk"):
        return _wrk(base, paths, headers, seconds, threads)
    return _python_load(base, paths, headers, seconds, threads)


def _wrk(
    base: str, paths: list[str], headers: dict[str, str], seconds: float, connections: int
) -> dict[str, Any]:
    """Figures of one wrk run: 1 thread (the server needs the cores), ``connections``.

    More than one path: a Lua script asks for each in turn (a different person per call).
    """
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory() as folder:
        if len(paths) > 1:
            script = Path(folder) / "paths.lua"
            script.write_text(_rotating_script(paths))
            command += ["-s", str(script)]
        output = subprocess.run(
            [*command, base + paths[0]],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    percentiles = {
        share: _milliseconds(value, unit)
        for share, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if rps is None or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"wrk printed what the bench cannot read:\n{output}")
    return {
        "rps": float(rps.group(1)),
        "median_ms": percentiles["50"],
        "p99_ms": percentiles["99"],
        "failures": int(failed.group(1)) if failed else 0,
        "socket_errors": errors.group(0) if errors else "",
        "client": "wrk",
    }


def _measured(pids: list[int], load: Any, *args: Any) -> dict[str, Any]:
    """``load(*args)``'s figures, with the server processes' processor time per request.

    Beside the throughput, which the load generator on the same cores shares: what each
    request cost the server itself (user and system time of both workers, from /proc).
    """
    before = _processor_seconds(pids)
    figures: dict[str, Any] = load(*args)
    spent = _processor_seconds(pids) - before
    requests = figures["rps"] * args[-2]
    figures["server_cpu_ms"] = spent / requests * 1000 if requests else float("nan")
    return figures


def _processor_seconds(pids: list[int]) -> float:
    """User and system time of ``pids`` so far, in seconds (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _decision_paths(addresses: list[str]) -> list[str]:
    """A decision per person in turn: the ledger's (given or withdrawn), strangers, erasures.

    As a marketing system asks, one recipient after another, never the same person twice
    in a row; some addresses spelled with capitals, as lists hold them.
    """
    people = [
        *addresses,
        *(f"ukjent{n}@example.no" for n in range(len(addresses))),
        *(f"sletting{n}@example.no" for n in range(ERASURES_UNDER_WAY)),
    ]
    random.Random(11).shuffle(people)
    return [
        f"/api/v1/decisions/marketing?email={p.upper() if n % 5 == 0 else p}&channel=email"
        for n, p in enumerate(people)
    ]


def _rotating_script(paths: list[str]) -> str:
    """A wrk script that asks for ``paths`` in turn, with the headers given by -H."""
    quoted = ",\n".join(f"  [[{path}]]" for path in paths)
    return (
        f"local paths = {{\n{quoted}\n}}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n % #paths + 1\n"
        '  return wrk.format("GET", paths[n])\n'
        "end\n"
    )


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _python_load(
    base: str, paths: list[str], headers: dict[str, str], seconds: float, threads: int
) -> dict[str, Any]:
    """Call ``paths`` in turn from ``threads`` Python keep-alive clients for ``seconds``."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        mine: list[float] = []
        bad: list[int] = []
        turn = itertools.cycle(paths)
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            while time.monotonic() < stop:
                start = time.perf_counter()
                status = http.get(next(turn)).status_code
                mine.append((time.perf_counter() - start) * 1000)
                if status != 200:
                    bad.append(status)
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    started = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "failures": len(failures),
        "client": "python",
    }


def _bulk(home: Path, count: int) -> float:
    """Seconds for one bulk decision over ``count`` addresses (some in the ledger)."""
    from personvern.datamap.loader import load_datamap
    from personvern.intake.consents import bulk_marketing
    from personvern.settings import load_settings
    from personvern.store.db import make_engine, make_session_factory
    from personvern.store.encryption.setup import open_vault

    settings = load_settings()
    datamap = load_datamap(EXAMPLE).datamap
    addresses = [f"kunde{n}@example.no" for n in range(count)]
    sessions = make_session_factory(make_engine(settings), open_vault(settings))
    with sessions() as session:
        start = time.perf_counter()
        outcome = bulk_marketing(session, settings, datamap, addresses=addresses, channel="email")
        elapsed = time.perf_counter() - start
    print(f"bulk: {count:,} addresses in {elapsed:.2f} s, {len(outcome.contactable):,} contactable")
    return elapsed


def run(
    *,
    seconds: float = 5,
    threads: int = 16,
    ledger: int = 1000,
    bulk: int = 1_000_000,
    pg_url: str | None = None,
    http: str = "auto",
) -> None:
    """Print the throughput ratio (embedded store, and on PostgreSQL if given) and the bulk time.

    ``http``: ``auto`` serves as `personvern serve` does (httptools and uvloop, installed
    with uvicorn[standard]); ``h11`` on uvicorn's pure-Python parser and asyncio's loop.
    """
    _throughput("embedded SQLite store", None, seconds, threads, ledger, bulk, http)
    if pg_url:
        import sqlalchemy as sa

        from bench.requests import store_database

        try:
            with store_database(pg_url) as url:
                _throughput("PostgreSQL store", url, seconds, threads, ledger, 0, http)
        except sa.exc.OperationalError as exc:
            print(f"decisions on a PostgreSQL store skipped: the server did not answer ({exc})")


def _in_process(token: str, addresses: list[str], calls: int = 3000) -> dict[str, float]:
    """Processor time per call of the empty route and of a decision, through the app here.

    No server and no network: what the app itself costs a call, and steady on a busy
    machine (processor time of the whole process, the thread pool included, not wall
    time). On uvloop, as the server runs (asyncio's own loop without it). The
    environment is the one _prepare set.
    """
    import asyncio

    from personvern.api.app import create_app
    from personvern.settings import load_settings

    app = create_app(load_settings())
    authorization = f"Bearer {token}".encode()

    async def call(path: str, query: str) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"localhost"), (b"authorization", authorization)],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        return status[0]

    async def caller(path: str, queries: list[str], first: int, step: int) -> None:
        for n in range(first, calls, step):
            await call(path, queries[n % len(queries)])

    async def cost(path: str, queries: list[str], callers: int) -> float:
        for query in queries[:100]:
            if await call(path, query) != 200:
                raise RuntimeError(f"{path} did not answer 200 in process")
        started = time.process_time()
        await asyncio.gather(*(caller(path, queries, k, callers) for k in range(callers)))
        return (time.process_time() - started) / calls * 1000

    async def measure() -> dict[str, float]:
        decisions = [f"email={address}&channel=email" for address in addresses]
        async with app.router.lifespan_context(app):
            return {
                "empty": await cost(EMPTY, [""], 1),
                "decision": await cost("/api/v1/decisions/marketing", decisions, 1),
                "empty together": await cost(EMPTY, [""], TOGETHER),
                "decision together": await cost("/api/v1/decisions/marketing", decisions, TOGETHER),
            }

    return asyncio.run(measure())


def _throughput(
    label: str,
    store_url: str | None,
    seconds: float,
    threads: int,
    ledger: int,
    bulk: int,
    http: str,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        token, addresses = _prepare(home, ledger, store_url)
        headers = {"Authorization": f"Bearer {token}"}
        with _server(home, store_url, http) as (base, pids):
            static = _measured(pids, _load, base, STATIC, {}, seconds, threads)
            empty = _measured(pids, _load, base, EMPTY, {}, seconds, threads)
            decision = _measured(
                pids,
                _load,
                base,
                _decision_paths(addresses),
                headers,
                seconds,
                threads,
            )
        print(
            f"decisions, {label}, 2 uvicorn workers ({http}), {threads} clients "
            f"({empty['client']}), "
            f"{seconds:g} s each:"
        )
        print(
            f"{'endpoint':<34}{'req/s':>10}{'median ms':>12}{'p99 ms':>10}{'failed':>8}"
            f"{'server cpu ms/req':>19}"
        )
        rows = (
            (f"GET {STATIC} (static)", static),
            (f"GET {EMPTY} (empty)", empty),
            ("GET /decisions/marketing", decision),
        )
        for name, row in rows:
            print(
                f"{name:<34}{row['rps']:>10.0f}{row['median_ms']:>12.2f}"
                f"{row['p99_ms']:>10.2f}{row['failures']:>8}{row['server_cpu_ms']:>19.3f}"
            )
        print(
            f"decision/empty throughput ratio: {decision['rps'] / empty['rps']:.2f} "
            f"(target >= 0.7); decision p99 {decision['p99_ms']:.1f} ms (target < 20 ms); "
            f"decision/static {decision['rps'] / static['rps']:.2f}"
        )
        cost = _in_process(token, addresses)
        for callers, suffix in (("one caller", ""), (f"{TOGETHER} callers at once", " together")):
            empty_ms, decision_ms = cost[f"empty{suffix}"], cost[f"decision{suffix}"]
            print(
                f"in process, {callers}, processor time per call: {EMPTY} {empty_ms:.3f} ms, "
                f"decision {decision_ms:.3f} ms ({decision_ms / empty_ms:.1f}x)"
            )
        if bulk:
            _bulk(home, bulk)
