"""Data subject requests end to end: access and erasure through the HTTP API, timed.

For each database kind and size, the demo company is seeded into its own database
(bench.company_sql; reused when already there) and personvern's real app
(``create_app``) is served by uvicorn on 127.0.0.1 in a thread of this process. A
privacy officer's token files each request with a staff verification method, so it is
verified at once; the clock runs from ``POST /api/v1/requests/{id}/run`` until
``GET /api/v1/requests/{id}`` (polled every ``--poll-ms``) shows a final state. The
server's own account, from the request's events (``run started`` to the final one),
is printed beside it to separate polling from work.

Statements on the company's databases are counted by the SQL connectors themselves
(``SqlConnector.statements_issued``, a ``before_cursor_execute`` listener on each
connector's engine), read from the app's connector pool before and after each run. In
Celery mode the run happens in a worker process, so the worker is started through
``bench.worker``, which is ``personvern worker`` with a listener on every engine that
writes the counts per task to a file.

The e-mail system (a webhook) and the two file stores are connected to empty stores:
an empty demo mailbox served in this process, and empty folders, so every connector of
the unchanged data map takes part while the data lives in the SQL systems. Erasures
still end ``partially_completed``: telling the data map's recipients (Art. 19) is left
to staff as tasks.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import company_sql

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workspace-company"

FINAL = {"completed", "partially_completed", "rejected", "needs_review", "waiting_for_system"}
SECRET_KEY = "bench-secret-key-" + "0" * 32
MAILBOX_SECRET = "bench-mailbox-secret-0123456789abcdef"
#: Where the bench remembers whom it erased, so later runs pick someone else.
ERASED_TABLE = "pv_bench_erased"
#: Fides 2.78 on this machine, from the issue: per request, and statements per request.
FIDES = {"access_ms": (700, 800), "erasure_ms": (1300, 1600), "statements": (72, 213)}
#: The issue's targets at 1M customers, and the largest allowed 1M/10k ratio.
TARGETS = {"access_ms": 100.0, "erasure_ms": 150.0, "ratio": 1.5}
#: The purpose staff read a request for, as the API asks (the example map declares it).
PURPOSE = "legal_compliance"
RUN_TIMEOUT = 300.0
#: Polling interval of the quiet samples: in embedded mode every poll is served by the
#: same process (and GIL) as the run, so tight polling slows the run it measures.
QUIET_POLL = 0.05


# -- results ------------------------------------------------------------------------------


@dataclass
class Sample:
    """One request: how long it took, seen by the client and by the server, and its cost."""

    kind: str
    customer_id: int
    state: str
    wall_ms: float
    server_ms: float
    statements: int | None
    #: POST sent until the run's first event; final event until the client saw it.
    before_ms: float = 0.0
    after_ms: float = 0.0
    accepted_ms: float = 0.0
    polls: int = 0
    #: Followed with slow polling, so that the run has the process to itself.
    quiet: bool = False
    store_statements: int | None = None
    pdf_ms: float | None = None
    found: int = 0
    #: Time the company's databases took on the run's statements (embedded mode only).
    statement_ms: float | None = None


@dataclass
class Series:
    """Every request of one mode, database and size."""

    mode: str
    db: str
    customers: int
    rows: int
    seed_seconds: float
    reused: bool
    warmup: list[Sample] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    #: Reads (GET right after a 201 filing) that did not find the filed request yet.
    unseen_filings: int = 0

    def of(self, kind: str, *, quiet: bool = False) -> list[Sample]:
        """The timed samples of one request type (polled tightly, or quietly)."""
        return [s for s in self.samples if s.kind == kind and s.quiet == quiet]


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


def summary(samples: Sequence[Sample], attribute: str = "wall_ms") -> tuple[float, float]:
    """Median and p95 of one attribute of the samples (NaN when there are none)."""
    values = [float(getattr(s, attribute)) for s in samples if getattr(s, attribute) is not None]
    if not values:
        return float("nan"), float("nan")
    return statistics.median(values), percentile(values, 0.95)


# -- the company's other systems, and the environment ---------------------------------------


@contextlib.contextmanager
def company_environment(company_url: str, home: Path) -> Iterator[dict[str, str]]:
    """The data map's connection variables: SQL systems at the bench database, the rest empty."""
    from personvern.demo import mailbox
    from personvern.demo.targets import demo_environment, targets_from_urls

    demo = home / "company"
    targets = targets_from_urls(
        demo,
        company_db_url=company_url,
        recordings_dir=demo / "telephony",
        identity_documents_dir=demo / "identity_documents",
        mailbox_path=demo / "mailbox.sqlite",
    )
    targets.recordings_dir.mkdir(parents=True, exist_ok=True)
    targets.identity_documents_dir.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{targets.mailbox_path}")
    with engine.begin() as conn:
        mailbox.create_tables(conn)
    engine.dispose()
    with mailbox.serve_mailbox(targets.mailbox_path, MAILBOX_SECRET) as url:
        yield demo_environment(targets, EXAMPLE, url, MAILBOX_SECRET)


@contextlib.contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration (the connectors read os.environ)."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- the server ---------------------------------------------------------------------------


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1 in a thread; yield its URL."""
    import uvicorn

    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose protocol
    # says TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="bench-api", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()


class StoreCounter:
    """Statements the request runs send to personvern's own store (job threads only)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        self._engine = engine
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        # The API's own reads (the polling) run on other threads and are not counted.
        if threading.current_thread().name.startswith("personvern-job"):
            self.count += 1

    def close(self) -> None:
        """Stop counting."""
        sa.event.remove(self._engine, "before_cursor_execute", self._seen)


# -- the Celery worker --------------------------------------------------------------------


class Worker:
    """A `personvern worker` process (through bench.worker, which counts statements)."""

    def __init__(self, env: Mapping[str, str], queue: str, folder: Path, company_db: str) -> None:
        self.counts = folder / "worker-counts.jsonl"
        self.log = folder / "worker.log"
        variables = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
        variables.update(env)
        variables["PV_BENCH_COUNTS"] = str(self.counts)
        variables["PV_BENCH_COMPANY_DB"] = company_db
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.worker",
                    "worker",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "warning",
                    "--queue",
                    queue,
                ],
                cwd=ROOT,
                env=variables,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own process group, so stopping it reaches its pool process too.
                start_new_session=True,
            )

    def statements(self, request_id: str, timeout: float = 10.0) -> dict[str, int] | None:
        """The statements the worker counted for the request's last task run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.counts.exists():
                found = None
                for line in self.counts.read_text(encoding="utf-8").splitlines():
                    entry = json.loads(line)
                    if entry["request_id"] == request_id:
                        found = entry
                if found is not None:
                    return {"company": int(found["company"]), "store": int(found["store"])}
            time.sleep(0.01)
        return None

    def tail(self) -> str:
        """The end of the worker's log, for error messages."""
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


# -- one request --------------------------------------------------------------------------


class Client:
    """Files, runs and follows requests through the API as a privacy officer."""

    def __init__(self, base_url: str, token: str, poll_ms: float) -> None:
        import httpx

        self.http = httpx.Client(
            base_url=base_url,
            # Reading a request shows personal data: the API asks why (a data map purpose).
            headers={"Authorization": f"Bearer {token}", "X-Personvern-Purpose": PURPOSE},
            timeout=60,
        )
        self.poll = poll_ms / 1000
        #: Reads that did not yet see a request whose filing had been answered 201.
        self.unseen_filings = 0

    def file(self, kind: str, email: str) -> str:
        """A verified request of ``kind`` for the customer with ``email``."""
        response = self.http.post(
            "/api/v1/requests",
            json={
                "type": kind,
                "identities": [{"kind": "email", "value": email}],
                "verification_method": "staff_known_contact",
                "verification_note": "benchmark",
            },
        )
        response.raise_for_status()
        body = response.json()
        if body["state"] != "verified":
            raise RuntimeError(f"request filed as {body['state']}: {body['message']}")
        request_id = str(body["id"])
        # The 201 can arrive before the filing is committed (the store session is a
        # FastAPI dependency whose commit runs after the response is sent), so a run
        # posted at once may get 404. Wait until the request is visible, and count it.
        deadline = time.monotonic() + 10
        while self.http.get(f"/api/v1/requests/{request_id}").status_code == 404:
            self.unseen_filings += 1
            if time.monotonic() > deadline:
                raise RuntimeError(f"filed request {request_id} never became visible")
            time.sleep(0.001)
        return request_id

    def run(self, request_id: str, poll: float | None = None) -> Run:
        """POST the run and poll (every ``poll`` seconds) until a final state.

        A poll of 0 waits instead: ``GET /requests/{id}/state?wait=10`` answers when the
        run has ended, as a client that does not want to poll would ask.
        """
        interval = self.poll if poll is None else poll
        if not interval:
            return self._waited(request_id)
        get = self.http.get
        url = f"/api/v1/requests/{request_id}"
        posted_at, started, accepted_ms = self._post_run(url)
        deadline = started + RUN_TIMEOUT
        polls = 0
        while True:
            body: dict[str, Any] = get(url).json()
            polls += 1
            if body["state"] in FINAL:
                wall = (time.perf_counter() - started) * 1000
                return Run(wall, accepted_ms, posted_at, time.time(), polls, body)
            if time.perf_counter() > deadline:
                raise TimeoutError(f"request {request_id} still {body['state']}")
            time.sleep(interval)

    def _post_run(self, url: str) -> tuple[float, float, float]:
        """POST the run: wall-clock time sent, perf_counter at sending, ms until accepted."""
        posted_at = time.time()
        started = time.perf_counter()
        accepted = self.http.post(f"{url}/run")
        if accepted.status_code != 202:
            raise RuntimeError(f"run refused: {accepted.status_code} {accepted.text}")
        return posted_at, started, (time.perf_counter() - started) * 1000

    def _waited(self, request_id: str) -> Run:
        url = f"/api/v1/requests/{request_id}"
        posted_at, started, accepted_ms = self._post_run(url)
        deadline = started + RUN_TIMEOUT
        asked = 0
        while True:
            state = self.http.get(f"{url}/state", params={"wait": 10}).json()
            asked += 1
            if not state["run_under_way"]:
                wall = (time.perf_counter() - started) * 1000
                seen_at = time.time()
                body: dict[str, Any] = self.http.get(url).json()
                return Run(wall, accepted_ms, posted_at, seen_at, asked, body)
            if time.perf_counter() > deadline:
                raise TimeoutError(f"request {request_id} still {state['state']}")

    def wait_for_pdf(self, request_id: str) -> float:
        """Milliseconds until the PDF report (rendered after completion) is listed."""
        started = time.perf_counter()
        url = f"/api/v1/requests/{request_id}"
        while time.perf_counter() - started < RUN_TIMEOUT:
            body = self.http.get(url).json()
            if any(a["name"].endswith(".pdf") for a in body["artifacts"]):
                return (time.perf_counter() - started) * 1000
            time.sleep(max(self.poll, 0.005))
        raise TimeoutError(f"no PDF for request {request_id}")

    def close(self) -> None:
        """Close the connection."""
        self.http.close()


@dataclass(frozen=True)
class Run:
    """One run as the client saw it, with the request in its final state."""

    wall_ms: float
    #: Until the 202 of POST /run came back.
    accepted_ms: float
    #: Wall-clock times (time.time()) of sending the POST and of seeing the final state.
    posted_at: float
    seen_at: float
    polls: int
    body: dict[str, Any]

    def server_times(self) -> tuple[float, float, float]:
        """(run ms, ms before the run started, ms after it ended until seen), from events.

        The run: from its first in_progress event to its final event, as recorded by
        the server; the other two against the client's clock (same machine).
        """
        events = self.body["events"]
        start = datetime.fromisoformat(
            next(e["at"] for e in events if e["state"] == "in_progress")
        ).timestamp()
        end = datetime.fromisoformat(events[-1]["at"]).timestamp()
        return (
            (end - start) * 1000,
            (start - self.posted_at) * 1000,
            (self.seen_at - end) * 1000,
        )


# -- customers ----------------------------------------------------------------------------


class Customers:
    """Random customers of a bench database, never one a previous run erased."""

    def __init__(self, url: str, count: int, seed: str) -> None:
        self.engine = sa.create_engine(url)
        self.count = count
        # A reproducible choice, not a secret.
        self.rng = random.Random(seed)
        erased = sa.Table(ERASED_TABLE, sa.MetaData(), sa.Column("customer_id", sa.Integer))
        self.erased_table = erased
        with self.engine.begin() as conn:
            erased.create(conn, checkfirst=True)
            self.erased = set(conn.execute(sa.select(erased.c.customer_id)).scalars())
        self.taken: set[int] = set()

    def pick(self) -> tuple[int, str]:
        """A customer not picked before in this run and never erased: (id, e-mail)."""
        while True:
            candidate = self.rng.randint(1, self.count)
            if candidate not in self.taken and candidate not in self.erased:
                self.taken.add(candidate)
                break
        customers = sa.table("customers", sa.column("id"), sa.column("email"))
        with self.engine.connect() as conn:
            email = conn.execute(
                sa.select(customers.c.email).where(customers.c.id == candidate)
            ).scalar_one()
        return candidate, str(email)

    def mark_erased(self, customer_id: int) -> None:
        """Remember an erased customer so that no later run picks them."""
        with self.engine.begin() as conn:
            conn.execute(sa.insert(self.erased_table).values(customer_id=customer_id))
        self.erased.add(customer_id)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


# -- a series -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Everything a series needs to know besides the database."""

    requests: int
    poll_ms: float
    seed: int
    redis_url: str
    store_admin_url: str


class Measurer:
    """Runs requests against one served app and turns each into a Sample."""

    def __init__(
        self,
        client: Client,
        customers: Customers,
        company_statements: Any,
        store: StoreCounter | None = None,
        worker: Worker | None = None,
        company_seconds: Any = None,
    ) -> None:
        self.client = client
        self.customers = customers
        self.company_statements = company_statements
        self.company_seconds = company_seconds
        self.store = store
        self.worker = worker

    def one(self, kind: str, *, quiet: bool = False) -> Sample:
        """File, run and follow one request for a random customer (quiet: slow polling)."""
        customer_id, email = self.customers.pick()
        request_id = self.client.file(kind, email)
        before = self.company_statements()
        seconds_before = self.company_seconds() if self.company_seconds else 0.0
        store_before = self.store.count if self.store else 0
        run = self.client.run(request_id, QUIET_POLL if quiet else None)
        body = run.body
        pdf = None
        if kind == "access" and body["state"] in ("completed", "partially_completed"):
            # The PDF is rendered after completion by the same job; the next run would
            # queue behind it, so it is awaited (and timed) here, outside the timed part.
            pdf = self.client.wait_for_pdf(request_id)
        statements: int | None = None
        store_statements: int | None = None
        statement_ms = (
            (self.company_seconds() - seconds_before) * 1000 if self.company_seconds else None
        )
        if self.worker is not None:
            counted = self.worker.statements(request_id)
            if counted is not None:
                statements, store_statements = counted["company"], counted["store"]
        else:
            statements = self.company_statements() - before
            if self.store is not None:
                store_statements = self.store.count - store_before
        if kind == "erasure" and body["state"] in ("completed", "partially_completed"):
            self.customers.mark_erased(customer_id)
        receipt = body.get("receipt") or {}
        server, before_ms, after_ms = run.server_times()
        return Sample(
            kind=kind,
            customer_id=customer_id,
            state=body["state"],
            wall_ms=run.wall_ms,
            server_ms=server,
            before_ms=before_ms,
            after_ms=after_ms,
            accepted_ms=run.accepted_ms,
            polls=run.polls,
            quiet=quiet,
            statements=statements,
            store_statements=store_statements,
            pdf_ms=pdf,
            found=sum(int(v) for v in (receipt.get("found") or {}).values()),
            statement_ms=statement_ms,
        )

    def series(self, series: Series, requests: int) -> None:
        """A warm-up access and erasure, then ``requests`` of each, polled tightly and quietly."""
        for kind in ("access", "erasure"):
            series.warmup.append(self.one(kind))
        for kind in ("access", "erasure"):
            for quiet in (False, True):
                for _ in range(requests):
                    series.samples.append(self.one(kind, quiet=quiet))


def _issue_token(app: Any) -> str:
    from personvern.domain.roles import Role
    from personvern.security.tokens import issue_token

    with app.state.context.application.unit_of_work() as uow:
        return issue_token(uow.session, name="bench", role=Role.PRIVACY_OFFICER).token


def _pool_statements(app: Any, attribute: str = "statements_issued") -> Any:
    """Sum ``attribute`` (statements, or their seconds) over the app's SQL connectors."""
    from personvern.domain.datamap import SystemKind

    context = app.state.context
    systems = [
        s
        for s in context.application.datamap.require().systems
        if s.kind in (SystemKind.POSTGRESQL, SystemKind.MYSQL, SystemKind.SQLITE)
    ]

    def total() -> int:
        # get() returns the very connector the engine uses (one per system and address).
        return sum(
            getattr(context.application.connectors.get(s, os.environ), attribute, 0)
            for s in systems
        )

    return total


def build_mention_index(app: Any) -> float:
    """Build the app's mention index of the company's free text (`personvern index build`)."""
    from personvern.engine.mention_index import MentionIndexBuilder

    application = app.state.context.application
    started = time.perf_counter()
    builder = MentionIndexBuilder(
        application.datamap.require(),
        os.environ,
        application.unit_of_work,
        application.settings.secret(),
    )
    for item in builder.build(None, full=True):
        print(
            f"    {item.name}: {item.outcome}, {item.records:,} records, {item.entries:,} mentions"
            + (f" ({item.note})" if item.note else ""),
            flush=True,
        )
    return time.perf_counter() - started


def embedded_series(seeded: company_sql.Seeded, setup: Setup, series: Series) -> None:
    """The app with in-process jobs and its SQLite store in a temporary home."""
    from personvern.api.app import create_app
    from personvern.settings import Settings
    from personvern.store.migrate import upgrade_to_head

    with (
        tempfile.TemporaryDirectory(prefix="pv-bench-") as folder,
        company_environment(seeded.url, Path(folder)) as env,
        environment(env),
    ):
        home = Path(folder) / "home"
        # Four eyes off: a second person's approval is a click, not the engine's work.
        settings = Settings(home=home, secret_key=SECRET_KEY, four_eyes="off")
        app = create_app(settings, EXAMPLE)
        if series.mode == MENTION_MODE:
            upgrade_to_head(app.state.context.application.store)  # as serving would
            built = build_mention_index(app)
            print(f"  built the mention index in {built:.1f} s", flush=True)
        store = StoreCounter(app.state.context.application.store)
        customers = Customers(seeded.url, seeded.customers, f"{setup.seed}-{series.db}")
        try:
            with serve(app) as base_url:
                client = Client(base_url, _issue_token(app), setup.poll_ms)
                try:
                    measurer = Measurer(
                        client,
                        customers,
                        _pool_statements(app),
                        store=store,
                        company_seconds=_pool_statements(app, "statement_seconds"),
                    )
                    measurer.series(series, setup.requests)
                finally:
                    series.unseen_filings = client.unseen_filings
                    client.close()
        finally:
            store.close()
            customers.close()


@contextlib.contextmanager
def store_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for personvern's store, migrated; dropped afterwards."""
    from sqlalchemy.engine import make_url

    from personvern.store.db import make_engine
    from personvern.store.migrate import upgrade_to_head

    name = f"pv_bench_store_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade_to_head(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _remove_queue(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        client.close()


def celery_series(seeded: company_sql.Seeded, setup: Setup, series: Series) -> None:
    """The app queueing runs through Redis to a `personvern worker`; store in PostgreSQL."""
    from sqlalchemy.engine import make_url

    from personvern.api.app import create_app
    from personvern.jobs.celery_app import CeleryJobs
    from personvern.settings import Settings

    queue = f"pv-bench-{uuid.uuid4().hex[:8]}"
    with (
        tempfile.TemporaryDirectory(prefix="pv-bench-") as folder,
        company_environment(seeded.url, Path(folder)) as env,
        environment(env),
        store_database(setup.store_admin_url) as store_url,
    ):
        home = Path(folder) / "home"
        settings = Settings(
            home=home,
            secret_key=SECRET_KEY,
            database_url=store_url,
            broker_url=setup.redis_url,
            auto_migrate=False,
            four_eyes="off",
        )
        app = create_app(settings, EXAMPLE)
        # The production job queue on a queue of the bench's own, so that no other
        # worker on this Redis takes the runs.
        app.state.context.application.use_job_queue(CeleryJobs(settings, queue=queue))
        worker = Worker(
            {
                **env,
                "PERSONVERN_HOME": str(home),
                "PERSONVERN_DATABASE_URL": store_url,
                "PERSONVERN_BROKER_URL": setup.redis_url,
                "PERSONVERN_SECRET_KEY": SECRET_KEY,
                "PERSONVERN_DATAMAP": str(EXAMPLE),
                "PERSONVERN_FOUR_EYES": "off",
            },
            queue,
            Path(folder),
            str(make_url(seeded.url).database),
        )
        customers = Customers(seeded.url, seeded.customers, f"{setup.seed}-{series.db}")
        try:
            with serve(app) as base_url:
                client = Client(base_url, _issue_token(app), setup.poll_ms)
                try:
                    measurer = Measurer(client, customers, lambda: 0, worker=worker)
                    try:
                        measurer.series(series, setup.requests)
                    except (TimeoutError, RuntimeError) as exc:
                        raise RuntimeError(f"{exc}\n--- worker log ---\n{worker.tail()}") from exc
                finally:
                    series.unseen_filings = client.unseen_filings
                    client.close()
        finally:
            worker.stop()
            customers.close()
            _remove_queue(setup.redis_url, queue)


# -- printing -----------------------------------------------------------------------------

DB_NAMES = {"postgresql": "PostgreSQL", "mariadb": "MariaDB"}


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.1f}"


def _states(samples: Sequence[Sample]) -> str:
    counts: dict[str, int] = {}
    for sample in samples:
        counts[sample.state] = counts.get(sample.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))


def print_series_table(all_series: Sequence[Series], mode: str, db: str) -> None:
    """One table per mode and database: a row per size, then the ratios and targets."""
    rows = sorted(
        (s for s in all_series if s.mode == mode and s.db == db), key=lambda s: s.customers
    )
    if not rows:
        return
    count = len(rows[0].of("access"))
    print(f"\n{DB_NAMES[db]}, {mode}: {count} requests of each type per size and polling")
    header = (
        f"{'customers':>10} {'rows':>11} |"
        f" {'access wall':>11} {'p95':>8} {'run':>8} {'quiet':>8} {'p95':>8} |"
        f" {'erasure wall':>12} {'p95':>8} {'run':>8} {'quiet':>8} {'p95':>8} |"
        f" {'stmts a/e':>9} | {'store a/e':>9} | {'pdf':>5} | {'cold a/e':>13}"
    )
    print(header)
    print("-" * len(header))
    for s in rows:
        cells = []
        for kind in ("access", "erasure"):
            polled, quiet = s.of(kind), s.of(kind, quiet=True)
            wall, wall95 = summary(polled)
            run, _ = summary(polled, "server_ms")
            calm, calm95 = summary(quiet, "server_ms")
            width = 11 if kind == "access" else 12
            cells.append(
                f" {_ms(wall):>{width}} {_ms(wall95):>8} {_ms(run):>8}"
                f" {_ms(calm):>8} {_ms(calm95):>8}"
            )
        statements = [summary(s.of(k), "statements")[0] for k in ("access", "erasure")]
        store = [summary(s.of(k), "store_statements")[0] for k in ("access", "erasure")]
        pdf, _ = summary(s.of("access") + s.of("access", quiet=True), "pdf_ms")
        cold = "/".join(f"{w.wall_ms:,.0f}" for w in s.warmup)
        print(
            f"{s.customers:>10,} {s.rows:>11,} |{cells[0]} |{cells[1]} |"
            f" {_count(statements[0]):>4}/{_count(statements[1]):<4} |"
            f" {_count(store[0]):>4}/{_count(store[1]):<4} | {pdf:>5.0f} | {cold:>13}"
        )
    for s in rows:
        if any(x.state != "completed" for x in s.samples):
            print(f"  note: {s.customers:,} customers: {_states(s.samples)}")
        if s.unseen_filings:
            filed = len(s.samples) + len(s.warmup)
            print(
                f"  note: {s.customers:,} customers: {s.unseen_filings} reads right after "
                f"a 201 did not yet find the filed request ({filed} filings)"
            )
    for s in rows:
        parts = []
        for kind in ("access", "erasure"):
            quiet = [x for x in s.of(kind, quiet=True) if x.statement_ms is not None]
            if quiet:
                run, _ = summary(quiet, "server_ms")
                data, _ = summary(quiet, "statement_ms")
                parts.append(
                    f"{kind} run {run:,.1f} ms / statements {data:,.1f} ms = "
                    f"{run / data if data else float('inf'):.1f}x"
                )
        if parts:
            print(
                f"  engine vs its data statements at {s.customers:,} (quiet medians): "
                + "; ".join(parts)
            )
    small, large = rows[0], rows[-1]
    medians = {
        (s.customers, kind): summary(s.of(kind))[0] for s in rows for kind in ("access", "erasure")
    }
    if large.customers > small.customers:
        ratios = [
            medians[large.customers, k] / medians[small.customers, k] for k in ("access", "erasure")
        ]
        print(
            f"ratio {large.customers:,} vs {small.customers:,} customers (wall medians): "
            f"access {ratios[0]:.2f}x, erasure {ratios[1]:.2f}x (target <= {TARGETS['ratio']}x)"
        )
    access, erasure = medians[large.customers, "access"], medians[large.customers, "erasure"]
    print(
        f"at {large.customers:,}: access median {access:,.1f} ms "
        f"(target < {TARGETS['access_ms']:.0f} ms: {_verdict(access, TARGETS['access_ms'])}), "
        f"erasure median {erasure:,.1f} ms "
        f"(target < {TARGETS['erasure_ms']:.0f} ms: {_verdict(erasure, TARGETS['erasure_ms'])})"
    )
    statements = [summary(large.of(k), "statements")[0] for k in ("access", "erasure")]
    fa, fe, fs = FIDES["access_ms"], FIDES["erasure_ms"], FIDES["statements"]
    print(
        f"Fides 2.78 on this machine: access {fa[0]}-{fa[1]} ms, erasure {fe[0]}-{fe[1]} ms, "
        f"{fs[0]}/{fs[1]} statements; here {_count(statements[0])}/{_count(statements[1])} "
        f"statements, access {_versus(statistics.mean(fa), access)} and erasure "
        f"{_versus(statistics.mean(fe), erasure)} than Fides' midpoint"
    )


def _versus(reference: float, measured: float) -> str:
    if measured <= reference:
        return f"{reference / measured:.1f}x faster"
    return f"{measured / reference:.1f}x slower"


def _count(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}"


def _verdict(value: float, target: float) -> str:
    return "met" if value < target else "missed"


def print_overhead(all_series: Sequence[Series]) -> None:
    """What the queue adds: Celery medians minus embedded medians, per database and size."""
    pairs = [
        (e, c)
        for e in all_series
        if e.mode == "embedded"
        for c in all_series
        if c.mode == "celery" and (c.db, c.customers) == (e.db, e.customers)
    ]
    if not pairs:
        return
    print("\nqueue overhead: Celery + Redis minus embedded (wall medians; quiet run medians)")
    for e, c in pairs:
        deltas = []
        for kind in ("access", "erasure"):
            wall = summary(c.of(kind))[0] - summary(e.of(kind))[0]
            quiet = (
                summary(c.of(kind, quiet=True), "server_ms")[0]
                - summary(e.of(kind, quiet=True), "server_ms")[0]
            )
            deltas.append(f"{kind} {wall:+,.0f} ms; {quiet:+,.0f} ms")
        print(f"  {DB_NAMES[e.db]:<10} {e.customers:>10,} customers: {' | '.join(deltas)}")


# -- the command --------------------------------------------------------------------------


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def server_version(url: str) -> str:
    """The server's version string."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT version()")).scalar_one()).split(" on ")[0]
    finally:
        engine.dispose()


#: The experiment of ``--trgm``: trigram indexes serving the free-text searches
#: (``lower(column) LIKE '%needle%'``) on PostgreSQL. Not part of the demo's schema.
TRIGRAM_INDEXES = (("tickets", "subject"), ("tickets", "body"), ("prospects", "notes"))


def trigram_indexes(url: str, *, present: bool) -> float:
    """Create (or drop) the experiment's trigram indexes; returns the seconds it took."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            if present:
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
                conn.execute(sa.text("SET maintenance_work_mem = '512MB'"))
            for table, column in TRIGRAM_INDEXES:
                name = f"pv_bench_trgm_{table}_{column}"
                if present:
                    conn.execute(
                        sa.text(
                            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                            f"USING gin (lower({column}) gin_trgm_ops)"
                        )
                    )
                else:
                    conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
            if present:
                conn.execute(sa.text("ANALYZE tickets"))
                conn.execute(sa.text("ANALYZE prospects"))
    finally:
        engine.dispose()
    return time.perf_counter() - started


def _modes(db: str, *, embedded: bool, celery: bool, trgm: bool, mention_index: bool) -> list[str]:
    modes = [m for m, on in (("embedded", embedded), ("celery", celery)) if on]
    if mention_index:
        modes.append(MENTION_MODE)
    if trgm and db == "postgresql":
        modes.append(TRGM_MODE)
    return modes


TRGM_MODE = "embedded + pg_trgm indexes"
#: The app as a company runs it with `personvern index build` done: personvern's own
#: index of the free text answers the mention searches.
MENTION_MODE = "embedded + mention index"


def run(
    *,
    sizes: Sequence[int],
    dbs: Sequence[str],
    requests: int,
    celery: bool,
    embedded: bool,
    trgm: bool,
    poll_ms: float,
    seed: int,
    mention_index: bool = False,
    urls: Mapping[str, str],
    redis_url: str,
    json_out: Path | None,
) -> list[Series]:
    """Seed (or reuse) each database, measure each mode, print the tables."""
    setup = Setup(requests, poll_ms, seed, redis_url, urls["postgresql"])
    print(
        "\nrequest benchmark: the SQL systems hold the data; the e-mail webhook and the "
        "two file stores are connected to empty stores"
    )
    results: list[Series] = []
    if celery and not _redis_answers(redis_url):
        print(f"\nCelery mode skipped: no Redis answers at {redis_url} (--redis-url)")
        celery = False
    for db in dbs:
        try:
            version = server_version(urls[db])
        except sa.exc.OperationalError as exc:
            print(f"\n{DB_NAMES[db]} skipped: the server does not answer ({exc.orig})")
            continue
        print(f"\n{DB_NAMES[db]}: {version}")
        for size in sizes:
            seeded = _seed(urls[db], db, size)
            if db == "postgresql":
                # The demo's schema unless the experiment asks for more (a run that was
                # interrupted may have left the experiment's indexes behind).
                trigram_indexes(seeded.url, present=False)
            modes = _modes(
                db, embedded=embedded, celery=celery, trgm=trgm, mention_index=mention_index
            )
            for mode in modes:
                series = Series(mode, db, size, seeded.total_rows, seeded.seconds, seeded.reused)
                if mode == TRGM_MODE:
                    built = trigram_indexes(seeded.url, present=True)
                    print(f"  built the trigram indexes in {built:.1f} s", flush=True)
                print(f"  {mode}: {requests} access + {requests} erasure requests ...", flush=True)
                started = time.perf_counter()
                try:
                    measure = celery_series if mode == "celery" else embedded_series
                    measure(seeded, setup, series)
                finally:
                    if mode == TRGM_MODE:
                        trigram_indexes(seeded.url, present=False)
                print(f"  {mode}: done in {time.perf_counter() - started:.0f} s", flush=True)
                results.append(series)
                if json_out is not None:
                    _write_json(json_out, results)
    if results:
        print_report(results, poll_ms)
    return results


def print_report(results: Sequence[Series], poll_ms: float) -> None:
    """Every table, the queue's overhead, and what the columns mean."""
    for mode in ("embedded", "celery", MENTION_MODE, TRGM_MODE):
        for db in DB_NAMES:
            print_series_table(results, mode, db)
    print_overhead(results)
    print(
        "\nwall: POST /run until the API says the run has ended ("
        + (f"polling every {poll_ms:g} ms" if poll_ms else "GET /state?wait=10")
        + ") "
        "(client clock, medians in ms); run: the server's account of the same requests, "
        "first in_progress event to final event; quiet: the server's account of requests "
        f"polled every {QUIET_POLL * 1000:.0f} ms, which leave the run the process to itself; "
        "stmts: statements on the company's databases per request; store: statements on "
        "personvern's store per run; pdf: ms from completion until the PDF report is "
        "listed; cold: wall ms of the first access and erasure after start (reflection, "
        "first connections)"
    )


def load_json(path: Path) -> list[Series]:
    """Series written by ``--json``, to print their tables again."""
    loaded = []
    for raw in json.loads(path.read_text(encoding="utf-8")):
        warmup = [Sample(**x) for x in raw.pop("warmup")]
        samples = [Sample(**x) for x in raw.pop("samples")]
        loaded.append(Series(**raw, warmup=warmup, samples=samples))
    return loaded


def _seed(admin_url: str, db: str, size: int) -> company_sql.Seeded:
    name = company_sql.database_name(db, size)
    print(f"  {size:,} customers: database {name}", flush=True)
    seeded = company_sql.seed(admin_url, size, progress=lambda line: print(line, flush=True))
    if seeded.reused:
        print(
            f"  reused {name} (seed version {company_sql.SEED_VERSION}, "
            f"{seeded.total_rows:,} rows, seeded in {seeded.seconds:,.0f} s earlier)"
        )
    else:
        print(
            f"  seeded {seeded.total_rows:,} rows in {seeded.seconds:,.1f} s "
            f"({seeded.total_rows / seeded.seconds:,.0f} rows/s)"
        )
    return seeded


def _write_json(path: Path, results: Sequence[Series]) -> None:
    path.write_text(json.dumps([asdict(s) for s in results], indent=1), encoding="utf-8")
