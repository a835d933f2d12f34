"""Intake under load: N filings from C concurrent clients against `personvern serve`, embedded.

The server runs as its own process on the embedded SQLite store (as `make demo` and a
small installation run it) with the example data map, mailing its codes to a local
SMTP sink. Each client is a thread with a keep-alive connection filing public access
requests for addresses of its own, as fast as the server answers. Printed: how many
filings failed (anything but 201) and why, the latency percentiles, throughput and the
codes the mail server received. Under 20 concurrent clients about 2 % of filings used
to fail with 503 "database is locked"; the target is 0 failures at 50 and 200 clients.

    python -m bench --only intake [--filings 200] [--clients 50]
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workspace-company"


class _Sink:
    """An SMTP server that counts what it is sent."""

    def __init__(self) -> None:
        self.received = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.received += 1
        return "250 OK"


@contextmanager
def _smtp_sink() -> Iterator[tuple[_Sink, int]]:
    from aiosmtpd.controller import Controller

    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, server_hostname="sink.local")
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the server at ``base`` answers /healthz; RuntimeError with its log if not."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not start: " + log.read_text())
        time.sleep(0.2)


@contextmanager
def _server(home: Path, smtp_port: int, filings: int) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {
        "PERSONVERN_HOME": str(home),
        "PERSONVERN_DATAMAP": str(EXAMPLE),
        "PERSONVERN_SMTP_HOST": "127.0.0.1",
        "PERSONVERN_SMTP_PORT": str(smtp_port),
        # Every client here is 127.0.0.1: the per-network limit would stop the run at 20.
        "PERSONVERN_INTAKE_CODES_PER_CLIENT": str(filings * 2),
    }
    script = Path(sys.executable).parent / "personvern"
    log = (home.parent / "server.log").open("w")
    process = subprocess.Popen(
        [str(script), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, home.parent / "server.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            print("the server did not stop within 30 s of SIGTERM; its log ends:")
            print("\n".join((home.parent / "server.log").read_text().splitlines()[-15:]))
        log.close()


def run(*, filings: int = 200, clients: int = 50) -> dict[str, Any]:
    """File ``filings`` requests from ``clients`` concurrent clients; print and return figures."""
    with (
        tempfile.TemporaryDirectory() as folder,
        _smtp_sink() as (sink, smtp_port),
        _server(Path(folder) / "home", smtp_port, filings) as base,
    ):
        outcomes: list[tuple[int, float, str]] = []
        lock = threading.Lock()
        counter = iter(range(filings))
        barrier = threading.Barrier(clients)

        def client(number: int) -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                barrier.wait()
                while True:
                    with lock:
                        n = next(counter, None)
                    if n is None:
                        return
                    body = {
                        "type": "access",
                        "identities": [{"kind": "email", "value": f"load{n}@example.no"}],
                    }
                    start = time.perf_counter()
                    try:
                        response = http.post("/api/v1/requests", json=body)
                        status, detail = response.status_code, response.text[:120]
                    except httpx.HTTPError as exc:
                        status, detail = 0, type(exc).__name__
                    elapsed = (time.perf_counter() - start) * 1000
                    with lock:
                        outcomes.append((status, elapsed, detail))

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(client, range(clients)))
        wall = time.perf_counter() - started
        time.sleep(0.5)  # the last codes are still on their way to the sink
        received = sink.received
    latencies = sorted(ms for _, ms, _ in outcomes)
    failures = Counter(f"{status} {detail}" for status, _, detail in outcomes if status != 201)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, round(p * (len(latencies) - 1)))]

    figures = {
        "filings": len(outcomes),
        "clients": clients,
        "failures": sum(failures.values()),
        "p50_ms": statistics.median(latencies),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1],
        "per_second": len(outcomes) / wall,
        "codes_mailed": received,
    }
    print(
        f"\nintake load, embedded store, {figures['filings']} filings from {clients} clients: "
        f"{figures['failures']} failed; p50 {figures['p50_ms']:.0f} ms, p95 "
        f"{figures['p95_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms, max "
        f"{figures['max_ms']:.0f} ms; {figures['per_second']:.0f} filings/s; "
        f"{received} codes mailed"
    )
    for reason, count in failures.most_common(5):
        print(f"  {count} x {reason}")
    return figures
