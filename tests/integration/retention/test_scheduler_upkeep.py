"""What the scheduler looks after besides due times, on SQLite, PostgreSQL and MariaDB:
scheduled times missed while no scheduler ran are caught up once when one starts, and a
queued run no worker picked up before its lease ran out is marked failed with a reason
a DPO can act on (and does nothing if its message turns up after all).

The clock is the runs' own (``RetentionRuns(clock=...)``); the shop is a real SQLite
database, aged relative to today.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import load_datamap
from personvern.domain.audit.event import AuditActor
from personvern.domain.datamap import DataMap
from personvern.domain.retention.catch_up import PastRun
from personvern.engine.retention.runs import RetentionRuns
from personvern.engine.retention.scheduler import RetentionScheduler
from personvern.engine.retention.sweep import RetentionSweep
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.retention_locks import RetentionLocks
from personvern.store.retention_runs import RetentionJobRow, RetentionRecords
from personvern.store.unit_of_work import UnitOfWorkFactory, unit_of_work_factory
from tests.integration.retention import sweepco

LEASE = timedelta(minutes=10)
SHOP_RULES = frozenset({"invoices", "payments", "prospects", "visits", "web-events"})


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def own_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    """personvern's store, migrated, on each database it runs on."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'home' / 'personvern.db'}"
    else:
        url = request.getfixturevalue(f"{request.param.replace('postgresql', 'postgres')}_url")
    upgrade_to_head(url)
    engine: Engine = make_engine(url)
    yield unit_of_work_factory(make_session_factory(engine), engine.url)
    engine.dispose()


class Shop:
    """The shop with a daily 03:00 schedule, and runs on a clock the test moves."""

    def __init__(self, tmp_path: Path, unit_of_work: UnitOfWorkFactory, pool: ConnectorPool):
        self.url = f"sqlite:///{tmp_path / 'shop.db'}"
        sweepco.populate_aged(self.url, datetime.now(UTC).date())
        path = sweepco.write_datamap(tmp_path / "map", "sqlite")
        text = path.read_text(encoding="utf-8").replace(
            "    connection_env: SWEEPCO_SHOP_URL\n",
            '    connection_env: SWEEPCO_SHOP_URL\n    schedule: "0 3 * * *"\n',
            1,
        )
        path.write_text(text, encoding="utf-8")
        self.datamap: DataMap = load_datamap(path).datamap
        self.unit_of_work = unit_of_work
        self.pool = pool
        self.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
        self.submitted: list[str] = []
        # Run ids the log detector cannot mistake for a phone number (about 1 % of
        # random UUIDs hold eight digits libphonenumber accepts as a Norwegian number).
        self.numbered = itertools.count(1)

    def runs(self) -> RetentionRuns:
        """Runs on the test's clock."""
        return RetentionRuns(
            self.unit_of_work,
            lambda: RetentionSweep(
                self.datamap, environ={"SWEEPCO_SHOP_URL": self.url}, pool=self.pool, max_share=1.0
            ),
            lease=LEASE,
            clock=lambda: self.now,
            new_run_id=lambda: f"run-{next(self.numbered)}",
        )

    def scheduler(self, *, fail_unstarted: bool = False) -> RetentionScheduler:
        """A scheduler as one starts (the server, or beat's first tick)."""
        return RetentionScheduler(
            lambda: self.datamap,
            self.runs,
            self.submitted.append,
            interval=timedelta(minutes=1),
            fail_unstarted=fail_unstarted,
        )

    def job(self, run_id: str) -> RetentionJobRow:
        """The run's row, read afresh."""
        with self.unit_of_work() as uow:
            job = RetentionRecords(uow.session).job(run_id)
            assert job is not None
            uow.session.expunge(job)
            return job


@pytest.fixture
def shop(tmp_path: Path, own_store: UnitOfWorkFactory) -> Iterator[Shop]:
    pool = ConnectorPool()
    try:
        yield Shop(tmp_path, own_store, pool)
    finally:
        pool.close()


def _at(shop: Shop, text: str) -> datetime:
    shop.now = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return shop.now


def test_a_time_missed_while_no_scheduler_ran_is_caught_up_once(shop: Shop) -> None:
    # A fresh install, started at 02:00 on 1 December: no run ever, so nothing was
    # missed (30 November's 03:00 predates it); the first run is at 03:00.
    server = shop.scheduler()
    assert [] == server.tick(_at(shop, "2026-12-01T02:00"))
    first = server.tick(_at(shop, "2026-12-01T03:00:05"))
    assert 1 == len(first)
    assert shop.runs().execute(first[0]) is not None
    assert "done" == shop.job(first[0]).status

    # The server is down from 04:00 on 1 December until noon on the 5th: four 03:00s
    # missed. The server starts: one run catches them up, due at the latest.
    restarted = shop.scheduler()
    caught = restarted.tick(_at(shop, "2026-12-05T12:00"))
    assert 1 == len(caught)
    job = shop.job(caught[0])
    assert ("shop", "scheduler", "queued") == (job.system, job.requested_by, job.status)
    assert SHOP_RULES == frozenset((job.rules or "").split(","))
    assert [first[0], caught[0]] == shop.submitted

    # A second scheduler starting (another beat) finds it caught up; so does the
    # restarted one's next tick, and the next start after the run is done.
    assert [] == shop.scheduler().tick(_at(shop, "2026-12-05T12:00:30"))
    assert [] == restarted.tick(_at(shop, "2026-12-05T12:01"))
    assert shop.runs().execute(caught[0]) is not None
    assert [] == shop.scheduler().tick(_at(shop, "2026-12-05T18:00"))
    assert 2 == len(shop.submitted)


def test_past_runs_are_grouped_per_scope_and_runs_that_never_started_left_out(
    own_store: UnitOfWorkFactory,
) -> None:
    def add(run_id: str, at: str, status: str, *, started: bool, **scope: str | None) -> None:
        when = datetime.fromisoformat(at).replace(tzinfo=UTC)
        with own_store() as uow:
            RetentionRecords(uow.session).add_job(
                RetentionJobRow(
                    run_id=run_id,
                    system=scope.get("system"),
                    rules=scope.get("rules"),
                    confirm=False,
                    status=status,
                    requested_by="scheduler",
                    requested_at=when,
                    started_at=when if started else None,
                )
            )

    add("a", "2026-12-01T03:00:01", "done", started=True, system="shop", rules="a,b")
    add("b", "2026-12-02T03:00:01", "refused", started=True, system="shop", rules="a,b")
    # Queued, then no worker picked it up: no run, its time is still missed.
    add("c", "2026-12-03T03:00:01", "failed", started=False, system="shop", rules="a,b")
    add("d", "2026-12-03T09:00", "failed", started=True, system="shop")
    add("e", "2026-12-03T10:00", "queued", started=False)
    with own_store() as uow:
        past = RetentionRecords(uow.session).past_runs()
    expected = [
        PastRun(None, None, datetime(2026, 12, 3, 10, 0, tzinfo=UTC)),
        PastRun("shop", None, datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),
        PastRun("shop", frozenset({"a", "b"}), datetime(2026, 12, 2, 3, 0, 1, tzinfo=UTC)),
    ]
    assert expected == sorted(past, key=lambda p: (p.system or "", p.rules or frozenset()))


def test_a_queued_run_no_worker_picked_up_is_failed_with_its_reason(shop: Shop) -> None:
    beat = shop.scheduler(fail_unstarted=True)
    # Started at 03:00 and sent to the broker; the message was lost.
    lost = beat.tick(_at(shop, "2026-12-01T03:00:05"))
    assert 1 == len(lost)
    # Within its lease it may still be picked up: left queued.
    beat.tick(_at(shop, "2026-12-01T03:09"))
    assert "queued" == shop.job(lost[0]).status
    # Its lease ran out at 03:10:05 without it starting: failed, and says why.
    beat.tick(_at(shop, "2026-12-01T03:11"))
    job = shop.job(lost[0])
    assert ("failed", None) == (job.status, job.started_at)
    assert job.finished_at == shop.now
    assert (
        "queued at 2026-12-01 03:00 UTC and never started: no worker picked it up within "
        "10 minute(s), so its lease ran out and it will not run; check that `personvern "
        "worker` is running and reaches the broker (embedded: that the server's job thread "
        "is not held up by a long run), then start it again (`personvern "
        "retention run --system shop`, or the next scheduled time)"
    ) == job.message
    with shop.unit_of_work() as uow:
        failed = [j.run_id for j in RetentionRecords(uow.session).jobs("failed")]
    assert [lost[0]] == failed
    # The message turns up after all: the run is no longer queued, and nothing is swept.
    assert shop.runs().execute(lost[0]) is None
    assert "failed" == shop.job(lost[0]).status
    assert {1000, 1001, 1002, 1100} == sweepco.ids(shop.url, sweepco.web_events)


def test_a_queued_run_taken_over_by_the_next_run_says_it_never_started(shop: Shop) -> None:
    runs = shop.runs()
    _at(shop, "2026-12-01T03:00")
    queued = runs.start("shop", requested_by="api:ops", confirm=True)
    # Embedded or not, the next run on the shop after the lease takes over its lock.
    _at(shop, "2026-12-01T03:15")
    done = shop.runs().run_now("shop", AuditActor("cli:kari", via="cli"), confirm=True)
    assert done is not None
    job = shop.job(queued.run_id)
    assert "failed" == job.status
    assert (job.message or "").startswith(
        "queued at 2026-12-01 03:00 UTC and never started: no worker picked it up within "
        "10 minute(s)"
    )
    with shop.unit_of_work() as uow:
        lock = RetentionLocks(uow.session).holder("shop")
        assert lock is not None
        assert lock.run_id is None
