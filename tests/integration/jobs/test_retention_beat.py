"""Retention runs on real Celery workers through Redis: beat's tick starts a scheduled run,
and a run started elsewhere (the API's, say) is executed by a worker; beat's start
catches up a time missed while it was down, and its tick fails a run whose message was
lost.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from personvern.bootstrap import Application, bootstrap
from personvern.domain.retention.run_status import RunInProgressError
from personvern.engine.retention.runs import StartedRun
from personvern.jobs.celery_app import CeleryJobs
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.retention_runs import RetentionJobRow, RetentionRecords
from personvern.store.unit_of_work import UnitOfWorkFactory, unit_of_work_factory
from tests.integration.jobs.conftest import Workers, wait_for, worker_environment
from tests.integration.retention import sweepco


def _scheduled_shop(
    tmp_path: Path, schedule: str
) -> tuple[str, Path, Path, Engine, UnitOfWorkFactory]:
    """The aged shop, its data map with ``schedule`` on the system, and a migrated store."""
    shop = f"sqlite:///{tmp_path / 'shop.db'}"
    sweepco.populate_aged(shop, datetime.now(UTC).date())
    datamap = sweepco.write_datamap(tmp_path / "map", "sqlite")
    text = datamap.read_text(encoding="utf-8").replace(
        "    connection_env: SWEEPCO_SHOP_URL\n",
        f'    connection_env: SWEEPCO_SHOP_URL\n    schedule: "{schedule}"\n',
        1,
    )
    datamap.write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    store = make_engine(Settings(home=home))
    upgrade_to_head(store)
    return shop, datamap, home, store, unit_of_work_factory(make_session_factory(store), store.url)


def test_beat_starts_a_scheduled_run_and_a_worker_executes_a_queued_one(
    tmp_path: Path, redis_url: str, queue: str, workers: Workers
) -> None:
    shop, datamap, home, store, unit_of_work = _scheduled_shop(tmp_path, "* * * * *")
    variables = {
        "PERSONVERN_HOME": str(home),
        "PERSONVERN_DATAMAP": str(datamap),
        "PERSONVERN_BROKER_URL": redis_url,
        "PERSONVERN_SECRET_KEY": "retention-beat-secret-0123456789abcdef",
        # A tick every 5 s looks back 10 s: each minute's time is seen by a tick or two.
        "PERSONVERN_RETENTION_SCHEDULE_INTERVAL_SECONDS": "5",
        "PERSONVERN_RETENTION_MAX_SHARE": "0.5",
        "PERSONVERN_RETENTION_LOCK_SECONDS": "30",
        "SWEEPCO_SHOP_URL": shop,
    }
    # Two workers with beat: two schedulers tick, and each scheduled time starts once.
    beats = [
        workers.start(worker_environment(**variables), extra_args=("--beat",)) for _ in range(2)
    ]

    def finished() -> list[tuple[str, str, str]]:
        with unit_of_work() as uow:
            jobs = RetentionRecords(uow.session).jobs()
            return [
                (j.run_id, j.status, j.requested_by)
                for j in jobs
                if j.status not in {"queued", "running"}
            ]

    done = wait_for(finished, 100, "a scheduled retention run", workers.logs)
    assert isinstance(done, list)
    run_id, status, requested_by = done[0]
    # Web events (75 % of their table) stop at the safety stop; the prospects go.
    assert ("refused", "scheduler") == (status, requested_by)
    with unit_of_work() as uow:
        evidence = {r.rule: r.status for r in RetentionRecords(uow.session).runs(run_id)}
    assert ("refused", "completed") == (evidence["web-events"], evidence["prospects"])
    assert 1 not in sweepco.ids(shop, sweepco.customers)

    # Beat off; a confirmed run started here (as the API starts one), executed by a worker.
    for beat in beats:
        workers.kill(beat)
    with unit_of_work() as uow:
        scheduled = [
            j.requested_at.replace(second=0, microsecond=0)
            for j in RetentionRecords(uow.session).jobs()
            if j.requested_by == "scheduler"
        ]
    # Two beats saw each minute's time; each started once.
    assert sorted(set(scheduled)) == sorted(scheduled)
    workers.start(worker_environment(**variables))
    settings = Settings(
        home=home,
        datamap=datamap,
        broker_url=redis_url,
        secret_key="retention-beat-secret-0123456789abcdef",
    )
    application = bootstrap(settings, environ={"SWEEPCO_SHOP_URL": shop})
    try:
        # A run beat started for a later minute may still hold the shop: it finishes on the
        # worker, or its lease (30 s) runs out if a beat took it when it was stopped.
        started = wait_for(lambda: _start(application), 60, "the shop to be free", workers.logs)
    finally:
        application.close()
    assert isinstance(started, StartedRun)
    CeleryJobs(settings, queue=queue).submit_retention(started.run_id)

    def confirmed() -> str | None:
        with unit_of_work() as uow:
            job = RetentionRecords(uow.session).job(started.run_id)
            return job.status if job and job.status not in {"queued", "running"} else None

    assert "done" == wait_for(confirmed, 60, "the confirmed run", workers.logs)
    assert {1100} == sweepco.ids(shop, sweepco.web_events)
    store.dispose()


def _start(application: Application) -> StartedRun | None:
    try:
        return application.retention_runs().start("shop", requested_by="api:test", confirm=True)
    except RunInProgressError:
        return None


def test_beat_catches_up_a_missed_time_when_it_starts_and_fails_a_lost_run(
    tmp_path: Path, redis_url: str, queue: str, workers: Workers
) -> None:
    # Once a year, at midnight on 1 January: no tick's window sees it today, so only
    # catching up can start it.
    shop, datamap, home, store, unit_of_work = _scheduled_shop(tmp_path, "0 0 1 1 *")
    now = datetime.now(UTC)
    latest = datetime(now.year, 1, 1, tzinfo=UTC)
    with unit_of_work() as uow:
        records = RetentionRecords(uow.session)
        # The shop was last swept before this year's time; beat was down at midnight.
        before = latest - timedelta(days=17)
        records.add_job(
            RetentionJobRow(
                run_id="swept-last-year",
                system="shop",
                confirm=True,
                status="done",
                requested_by="cli:kari",
                requested_at=before,
                started_at=before,
                finished_at=before,
            )
        )
        # A run queued an hour ago whose message the broker lost: its lease ran out.
        records.add_job(
            RetentionJobRow(
                run_id="lost-message",
                system="shop",
                confirm=False,
                status="queued",
                requested_by="api:ops",
                requested_at=now - timedelta(hours=1),
            )
        )
    variables = {
        "PERSONVERN_HOME": str(home),
        "PERSONVERN_DATAMAP": str(datamap),
        "PERSONVERN_BROKER_URL": redis_url,
        "PERSONVERN_SECRET_KEY": "retention-beat-secret-0123456789abcdef",
        "PERSONVERN_RETENTION_SCHEDULE_INTERVAL_SECONDS": "5",
        "PERSONVERN_RETENTION_MAX_SHARE": "1.0",
        "PERSONVERN_RETENTION_LOCK_SECONDS": "30",
        "SWEEPCO_SHOP_URL": shop,
    }
    workers.start(worker_environment(**variables), extra_args=("--beat",))

    def scheduled() -> list[tuple[str, str | None]]:
        with unit_of_work() as uow:
            return [
                (j.status, j.rules)
                for j in RetentionRecords(uow.session).jobs()
                if j.requested_by == "scheduler" and j.status not in {"queued", "running"}
            ]

    wait_for(scheduled, 60, "the run catching up 1 January", workers.logs)
    # A few more ticks: the time was caught up once.
    time.sleep(12)
    assert [("done", "invoices,payments,prospects,visits,web-events")] == scheduled()
    assert {1100} == sweepco.ids(shop, sweepco.web_events)
    with unit_of_work() as uow:
        lost = RetentionRecords(uow.session).job("lost-message")
        assert lost is not None
        assert ("failed", None) == (lost.status, lost.started_at)
        assert "never started: no worker picked it up within 1 minute(s)" in (lost.message or "")
    store.dispose()
