"""One retention run per system: the lock in personvern's store, raced for real.

Two takers on their own connections start together (a barrier) many times over, for a
system whose lock row does not exist yet (both insert) and for one whose row is free
(both update): exactly one wins each time, on SQLite, PostgreSQL and MariaDB. A lock
left by a run that died is taken over once its lease has run out.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.retention_locks import RetentionLocks
from personvern.store.unit_of_work import UnitOfWorkFactory, unit_of_work_factory
from tests.support.command import personvern

LEASE = timedelta(minutes=10)
ROUNDS = 12


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def lock_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """personvern's store, migrated, on each database the lock must hold on."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'home' / 'personvern.db'}"
    else:
        url = request.getfixturevalue(f"{request.param.replace('postgresql', 'postgres')}_url")
    upgrade_to_head(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _unit_of_work(engine: Engine) -> UnitOfWorkFactory:
    return unit_of_work_factory(make_session_factory(engine), engine.url)


def _race(unit_of_work: UnitOfWorkFactory, system: str, now: datetime) -> list[str]:
    """Two takers at once; the run ids that won."""
    barrier = threading.Barrier(2)
    won: list[str] = []
    errors: list[BaseException] = []

    def take(run_id: str) -> None:
        try:
            barrier.wait(timeout=10)
            with unit_of_work() as uow:
                if RetentionLocks(uow.session).take(
                    system, run_id, f"taker {run_id[:4]}", now=now, lease=LEASE
                ):
                    won.append(run_id)
        except BaseException as exc:  # collected, so a failing thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(str(uuid.uuid4()),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [] == errors
    return won


def test_two_concurrent_takers_exactly_one_wins(lock_store: Engine) -> None:
    unit_of_work = _unit_of_work(lock_store)
    now = datetime.now(UTC)
    winners = []
    for round_ in range(ROUNDS):
        # A system no run ever took: both insert its row, then both update it.
        system = f"fresh-{round_}"
        won = _race(unit_of_work, system, now)
        assert 1 == len(won), f"round {round_}: {won}"
        with unit_of_work() as uow:
            row = RetentionLocks(uow.session).holder(system)
            assert row is not None
            assert won[0] == row.run_id
            RetentionLocks(uow.session).release(system, won[0])
        # The same system, its row now free: both update it.
        again = _race(unit_of_work, system, now)
        assert 1 == len(again), f"round {round_} (free row): {again}"
        winners.append(again[0])
    assert len(set(winners)) == ROUNDS


def test_a_held_lock_refuses_until_released_or_its_lease_runs_out(lock_store: Engine) -> None:
    unit_of_work = _unit_of_work(lock_store)
    t0 = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    killed, next_run, third = "run-killed", "run-next", "run-third"
    with unit_of_work() as uow:
        assert RetentionLocks(uow.session).take("crm", killed, "scheduler", now=t0, lease=LEASE)
    with unit_of_work() as uow:
        locks = RetentionLocks(uow.session)
        assert not locks.take(
            "crm", next_run, "cli:kari", now=t0 + timedelta(minutes=5), lease=LEASE
        )
        # A heartbeat keeps it: renewed at 00:09, it holds until 00:19.
        assert locks.renew("crm", killed, now=t0 + timedelta(minutes=9), lease=LEASE)
    with unit_of_work() as uow:
        locks = RetentionLocks(uow.session)
        assert not locks.take(
            "crm", next_run, "cli:kari", now=t0 + timedelta(minutes=15), lease=LEASE
        )
        # The run was killed after that heartbeat: at 00:20 its lease has run out.
        assert locks.take("crm", next_run, "cli:kari", now=t0 + timedelta(minutes=20), lease=LEASE)
    with unit_of_work() as uow:
        locks = RetentionLocks(uow.session)
        # The killed run's late heartbeat learns it lost the lock.
        assert not locks.renew("crm", killed, now=t0 + timedelta(minutes=21), lease=LEASE)
        row = locks.holder("crm")
        assert row is not None
        assert (next_run, "cli:kari") == (row.run_id, row.holder)
        locks.release("crm", next_run)
    with unit_of_work() as uow:
        locks = RetentionLocks(uow.session)
        assert locks.take("crm", third, "api:ops", now=t0 + timedelta(minutes=22), lease=LEASE)
        # Other systems are not affected by crm's lock.
        assert locks.take(
            "billing", next_run, "cli:kari", now=t0 + timedelta(minutes=22), lease=LEASE
        )


def test_a_scheduled_time_already_started_is_not_started_again(lock_store: Engine) -> None:
    unit_of_work = _unit_of_work(lock_store)
    due = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    with unit_of_work() as uow:
        locks = RetentionLocks(uow.session)
        assert locks.take("crm", "first", "scheduler", now=due, lease=LEASE, started_before=due)
        locks.release("crm", "first")
    with unit_of_work() as uow:
        locks = RetentionLocks(uow.session)
        # A second scheduler that saw the same 03:00 a minute later: free, but started.
        later = due + timedelta(minutes=1)
        assert not locks.take(
            "crm", "second", "scheduler", now=later, lease=LEASE, started_before=due
        )
        # The next day's time starts.
        tomorrow = due + timedelta(days=1)
        assert locks.take(
            "crm", "third", "scheduler", now=tomorrow, lease=LEASE, started_before=tomorrow
        )


def test_the_command_line_refuses_a_second_run_in_one_line(
    personvern_cli: list[str], tmp_path: Path
) -> None:
    import os
    import subprocess

    from tests.integration.retention import sweepco

    shop = f"sqlite:///{tmp_path / 'shop.db'}"
    sweepco.populate_aged(shop, datetime.now(UTC).date())
    home = tmp_path / "home"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env = clean | {
        "PERSONVERN_HOME": str(home),
        "PERSONVERN_DATAMAP": str(sweepco.write_datamap(tmp_path / "map", "sqlite")),
        "PERSONVERN_SECRET_KEY": "retention-lock-secret-0123456789abcdef",
        "SWEEPCO_SHOP_URL": shop,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return personvern(personvern_cli, env, "retention", *args)

    assert 0 == run("holds").returncode  # creates and migrates the store
    engine = make_engine(f"sqlite:///{home / 'personvern.db'}")
    unit_of_work = _unit_of_work(engine)
    try:
        with unit_of_work() as uow:
            assert RetentionLocks(uow.session).take(
                "shop", "scheduled-run", "scheduler", now=datetime.now(UTC), lease=LEASE
            )
        refused = run("run", "--confirm")
        assert (1, "") == (refused.returncode, refused.stdout.strip())
        lines = refused.stderr.strip().splitlines()
        assert 1 == len(lines), refused.stderr
        assert lines[0].startswith(
            "personvern: error: a retention run on system 'shop' is in progress by scheduler"
        )
        assert sweepco.ids(shop, sweepco.web_events) == {1000, 1001, 1002, 1100}
        with unit_of_work() as uow:
            RetentionLocks(uow.session).release("shop", "scheduled-run")
        done = run("run", "--confirm")
        assert 0 == done.returncode, done.stderr
        assert {1100} == sweepco.ids(shop, sweepco.web_events)
    finally:
        engine.dispose()


def test_a_killed_run_frees_its_system_when_its_lease_runs_out(
    lock_store: Engine, tmp_path: Path
) -> None:
    from personvern.connectors.registry import ConnectorPool
    from personvern.datamap.loader import load_datamap
    from personvern.domain.audit.event import AuditActor
    from personvern.domain.retention.run_status import RunInProgressError
    from personvern.engine.retention.runs import RetentionRuns
    from personvern.engine.retention.sweep import RetentionSweep
    from personvern.store.retention_runs import RetentionRecords
    from tests.integration.retention import sweepco

    shop = f"sqlite:///{tmp_path / 'shop.db'}"
    sweepco.populate_aged(shop, datetime.now(UTC).date())
    datamap = load_datamap(sweepco.write_datamap(tmp_path / "map", "sqlite")).datamap
    unit_of_work = _unit_of_work(lock_store)
    pool = ConnectorPool()
    clock = [datetime.now(UTC)]

    def runs() -> RetentionRuns:
        return RetentionRuns(
            unit_of_work,
            lambda: RetentionSweep(
                datamap, environ={"SWEEPCO_SHOP_URL": shop}, pool=pool, max_share=1.0
            ),
            lease=LEASE,
            clock=lambda: clock[0],
        )

    try:
        # A run that took the shop and was killed mid-sweep: its lock and its row stay.
        killed = runs().start("shop", requested_by="scheduler")
        runs().update_job(killed.run_id, status="running", current_table="shop.web_events")
        actor = AuditActor("cli:kari", via="cli")
        clock[0] += timedelta(minutes=5)
        with pytest.raises(RunInProgressError, match="in progress by scheduler"):
            runs().run_now("shop", actor)
        clock[0] += timedelta(minutes=6)
        run = runs().run_now("shop", actor)
        assert run is not None
        assert {1100} == sweepco.ids(shop, sweepco.web_events)
        with unit_of_work() as uow:
            records = RetentionRecords(uow.session)
            dead, done = records.job(killed.run_id), records.job(run.run_id)
            assert dead is not None
            assert done is not None
            assert ("failed", None) == (dead.status, dead.current_table)
            assert "lease ran out" in (dead.message or "")
            assert "done" == done.status
            lock = RetentionLocks(uow.session).holder("shop")
            assert lock is not None
            assert lock.run_id is None, "the finished run freed the shop"
    finally:
        pool.close()


def test_a_queued_run_is_claimed_by_one_executor(lock_store: Engine) -> None:
    from personvern.store.retention_runs import RetentionJobRow, RetentionRecords

    unit_of_work = _unit_of_work(lock_store)
    now = datetime.now(UTC)
    for round_ in range(ROUNDS):
        run_id = f"run-{round_}"
        with unit_of_work() as uow:
            RetentionRecords(uow.session).add_job(
                RetentionJobRow(
                    run_id=run_id,
                    system="shop",
                    confirm=False,
                    status="queued",
                    requested_by="api:ops",
                    requested_at=now,
                )
            )
        barrier = threading.Barrier(2)
        claims: list[bool] = []

        def claim(
            run_id: str = run_id, barrier: threading.Barrier = barrier, claims: list[bool] = claims
        ) -> None:
            barrier.wait(timeout=10)
            with unit_of_work() as uow:
                claims.append(RetentionRecords(uow.session).claim_job(run_id, now))

        threads = [threading.Thread(target=claim) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        # A message delivered twice (a worker died before acknowledging it) runs once.
        assert [False, True] == sorted(claims), f"round {round_}"
