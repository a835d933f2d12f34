"""The retention API on a real app: dry run, a run as a job, 409 while a system is held,
progress and counts per table, failed runs listed, upcoming expiries; and the server's
in-process scheduler starting a run the data map's schedule makes due.

The shop is SQLite here (the sweeps themselves are tested on PostgreSQL and MariaDB in
test_sweep.py); its rows are aged relative to today, far from every boundary.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.domain.retention.own_records import own_record_rules
from personvern.domain.roles import Role
from personvern.jobs.queue import InProcessJobs
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from personvern.store.retention_locks import RetentionLocks
from personvern.store.retention_runs import RetentionRecords
from tests.integration.retention import sweepco

RUNS = "/api/v1/retention/runs"


def _app(
    tmp_path: Path,
    *,
    schedule: str | None = None,
    interval: int = 0,
    max_share: float = 0.2,
    own_schedule: str = "",
) -> FastAPI:
    datamap = sweepco.write_datamap(tmp_path / "map", "sqlite")
    if schedule is not None:
        text = datamap.read_text(encoding="utf-8")
        text = text.replace(
            "    connection_env: SWEEPCO_SHOP_URL\n",
            f'    connection_env: SWEEPCO_SHOP_URL\n    schedule: "{schedule}"\n',
            1,
        )
        datamap.write_text(text, encoding="utf-8")
    settings = Settings(
        home=tmp_path / "home",
        database_url=None,
        datamap=None,
        retention_batch_size=2,
        retention_schedule_interval_seconds=interval,
        retention_max_share=max_share,
        retention_own_schedule=own_schedule,
    )
    return create_app(settings, datamap)


def _tokens(app: FastAPI) -> dict[Role, str]:
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        return {
            role: issue_token(uow.session, name=f"retention {role}", role=role).token
            for role in Role
        }


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, sweepco.Expected]:
    """The shop's database, aged relative to today, reachable through SWEEPCO_SHOP_URL."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    expected = sweepco.populate_aged(url, datetime.now(UTC).date())
    monkeypatch.setenv("SWEEPCO_SHOP_URL", url)
    return url, expected


def _wait(app: FastAPI, run_id: str) -> None:
    jobs = app.state.context.application.jobs()
    assert isinstance(jobs, InProcessJobs)
    jobs.wait_retention(run_id, 60)


def test_dry_run_job_progress_conflict_and_upcoming(
    tmp_path: Path, shop: tuple[str, sweepco.Expected], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, expected = shop
    app = _app(tmp_path)
    with TestClient(app) as client:
        tokens = _tokens(app)
        dpo = {"Authorization": f"Bearer {tokens[Role.PRIVACY_OFFICER]}"}
        auditor = {"Authorization": f"Bearer {tokens[Role.AUDITOR]}"}

        dry = client.post(RUNS, json={"dry_run": True}, headers=dpo)
        assert 200 == dry.status_code, dry.text
        plan = {t["rule"]: t for t in dry.json()["tables"]}
        assert (3, 4, True) == (
            plan["web-events"]["due"],
            plan["web-events"]["total"],
            plan["web-events"]["needs_confirm"],
        )
        assert 1 == plan["invoices"]["held_by_law"]
        assert [] == client.get(RUNS, headers=auditor).json(), "a dry run leaves no run"
        # The auditor reads but may not start a run.
        assert 403 == client.post(RUNS, json={"dry_run": True}, headers=auditor).status_code

        # Another run (the command line, say) holds the shop: the API refuses at once.
        context: AppContext = app.state.context
        with context.application.unit_of_work() as uow:
            assert RetentionLocks(uow.session).take(
                "shop", "cli-run", "cli:kari", now=datetime.now(UTC), lease=timedelta(minutes=10)
            )
        held = client.post(RUNS, json={"system": "shop", "confirm": True}, headers=dpo)
        assert 409 == held.status_code, held.text
        problem = held.json()
        assert ("Retention run in progress", "application/problem+json") == (
            problem["title"],
            held.headers["content-type"],
        )
        assert "a retention run on system 'shop' is in progress by cli:kari" in problem["detail"]
        with context.application.unit_of_work() as uow:
            RetentionLocks(uow.session).release("shop", "cli-run")

        # A run whose system cannot be reached fails, and is listed as failed.
        monkeypatch.setenv("SWEEPCO_SHOP_URL", f"sqlite:///{tmp_path / 'absent' / 'shop.db'}")
        bad = client.post(RUNS, json={"system": "shop", "confirm": True}, headers=dpo)
        assert 202 == bad.status_code, bad.text
        _wait(app, bad.json()["run_id"])
        monkeypatch.setenv("SWEEPCO_SHOP_URL", url)
        failed = client.get(RUNS, params={"status": "failed"}, headers=auditor).json()
        assert [bad.json()["run_id"]] == [r["run_id"] for r in failed]
        assert all(t["status"] == "failed" for t in failed[0]["tables"])

        started = client.post(RUNS, json={"system": "shop", "confirm": True}, headers=dpo)
        assert 202 == started.status_code, started.text
        accepted = started.json()
        assert (["shop"], "queued") == (accepted["systems"], accepted["status"])
        assert accepted["run"] == f"{RUNS}/{accepted['run_id']}"
        _wait(app, accepted["run_id"])
        run = client.get(accepted["run"], headers=auditor)
        assert 200 == run.status_code, run.text
        body: dict[str, Any] = run.json()
        assert ("done", None, "api:") == (
            body["status"],
            body["current"],
            body["requested_by"][:4],
        )
        tables = {t["rule"]: t for t in body["tables"]}
        assert ("completed", 3, "1000", "1002") == (
            tables["web-events"]["status"],
            tables["web-events"]["deleted"],
            tables["web-events"]["first_key"],
            tables["web-events"]["last_key"],
        )
        assert tables["visits"]["anonymised"] > 0
        assert body["deleted"] == sum(t["deleted"] for t in body["tables"])
        for name, table in sweepco.TABLES.items():
            # Invoice 10 is kept only by the staff hold the command-line test places.
            kept = expected.kept[name] - ({10} if name == "invoices" else set())
            assert kept == sweepco.ids(url, table), name
        # The lock is free again, and the run is listed with the failed one.
        listed = client.get(RUNS, headers=auditor).json()
        assert {"done", "failed"} == {r["status"] for r in listed}
        assert 404 == client.get(f"{RUNS}/no-such-run", headers=auditor).status_code

        upcoming = client.get("/api/v1/retention/upcoming", params={"days": 90}, headers=auditor)
        assert 200 == upcoming.status_code, upcoming.text
        page = upcoming.json()
        assert 90 == page["days"]
        coming = {t["rule"]: t for t in page["tables"]}
        # Every row due today went, or was anonymised: an anonymised row stays, past its
        # period, and is recognised as done.
        assert all(t["due_now"] == 0 for t in page["tables"]), page
        assert all(t["coming_due"] == t["due_by_then"] - t["due_now"] for t in page["tables"])
        assert set(coming) >= {"web-events", "invoices", "payments", "prospects", "visits"}
        unknown = client.get(
            "/api/v1/retention/upcoming", params={"system": "nope"}, headers=auditor
        )
        assert 404 == unknown.status_code


def test_upcoming_counts_what_comes_due(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Web events (P13M) aged 13 months minus 10, 40 and 100 days: 1 comes due in 30
    # days, 2 in 90.
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    today = datetime.now(UTC).date()
    sweepco.populate_aged(url, today)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.delete(sweepco.web_events))
            for key, days in ((1, 10), (2, 40), (3, 100)):
                when = datetime.now(UTC) - timedelta(days=396 - days)
                conn.execute(
                    sweepco.web_events.insert().values(
                        id=key, occurred_ms=int(when.timestamp() * 1000), url="/"
                    )
                )
    finally:
        engine.dispose()
    monkeypatch.setenv("SWEEPCO_SHOP_URL", url)
    app = _app(tmp_path)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {_tokens(app)[Role.AUDITOR]}"}
        counts = {}
        for days in (30, 90):
            page = client.get(
                "/api/v1/retention/upcoming",
                params={"days": days, "system": "shop"},
                headers=headers,
            ).json()
            events = next(t for t in page["tables"] if t["rule"] == "web-events")
            counts[days] = (events["due_now"], events["coming_due"])
    assert {30: (0, 1), 90: (0, 2)} == counts


def _scheduled_jobs(context: AppContext, timeout: float = 60) -> list[tuple[str, str]]:
    """The runs (status, who started them) once the newest has finished, or at the timeout."""
    deadline = time.monotonic() + timeout
    jobs: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        with context.application.unit_of_work() as uow:
            jobs = [(j.status, j.requested_by) for j in RetentionRecords(uow.session).jobs()]
        if jobs and jobs[0][0] not in {"queued", "running"}:
            break
        time.sleep(0.2)
    return jobs


def test_the_in_process_scheduler_starts_a_due_run(
    tmp_path: Path, shop: tuple[str, sweepco.Expected], caplog: pytest.LogCaptureFixture
) -> None:
    url, _expected = shop
    # Every minute, looked for every 30 s over the last minute: due at the first tick.
    app = _app(tmp_path, schedule="* * * * *", interval=30, max_share=0.5)
    context: AppContext = app.state.context
    with caplog.at_level(logging.WARNING, "personvern"), TestClient(app) as client:
        jobs = _scheduled_jobs(context)
        auditor = {"Authorization": f"Bearer {_tokens(app)[Role.AUDITOR]}"}
        refused = client.get(RUNS, params={"status": "refused"}, headers=auditor).json()
    # Scheduled runs never confirm: web events (75 % of the table, over the 50 % allowed
    # here) stop at the safety stop; the rest is swept.
    assert [("refused", "scheduler")] == jobs
    # The refusal is listed with its reason and the command that confirms it...
    assert [("refused", "scheduler")] == [(r["status"], r["requested_by"]) for r in refused]
    assert (
        "refused by the safety stop: check the rule, then run `personvern retention run "
        '--system shop --confirm` (or POST /api/v1/retention/runs with "confirm": true); '
        "web-events on shop.web_events: would delete 3 of 4 rows (75%), more than the 50% "
        "allowed without confirmation"
    ) == refused[0]["message"]
    # ... and logged once, at WARNING, with rules, tables and counts only.
    warnings = [r for r in caplog.records if "safety stop" in r.getMessage()]
    assert 1 == len(warnings), [r.getMessage() for r in warnings]
    assert logging.WARNING == warnings[0].levelno
    assert warnings[0].getMessage() == (
        f"retention run {refused[0]['run_id']} (asked for by scheduler) refused by the "
        "safety stop on web-events (shop.web_events); it stays refused on every run until "
        "confirmed: check the rule, then run `personvern retention run --system shop --confirm`"
    )
    with context.application.unit_of_work() as uow:
        records = RetentionRecords(uow.session)
        job = records.jobs()[0]
        evidence = {r.rule: r.status for r in records.runs(job.run_id)}
    assert "refused" == evidence["web-events"]
    assert "completed" == evidence["prospects"]
    assert {1000, 1001, 1002, 1100} == sweepco.ids(url, sweepco.web_events)
    assert 1 not in sweepco.ids(url, sweepco.customers)


def test_the_server_catches_up_a_time_missed_while_it_was_down(
    tmp_path: Path, shop: tuple[str, sweepco.Expected]
) -> None:
    from personvern.store.migrate import upgrade_to_head
    from personvern.store.retention_runs import RetentionJobRow

    url, _expected = shop
    # Once a year, at midnight on 1 January: no tick's window sees it today.
    app = _app(tmp_path, schedule="0 0 1 1 *", interval=30, max_share=1.0)
    context: AppContext = app.state.context
    latest = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    upgrade_to_head(context.application.store)
    with context.application.unit_of_work() as uow:
        # The shop was last swept (by hand) before this year's time; the server was down.
        swept = latest - timedelta(days=17)
        RetentionRecords(uow.session).add_job(
            RetentionJobRow(
                run_id="swept-last-year",
                system="shop",
                confirm=True,
                status="done",
                requested_by="cli:kari",
                requested_at=swept,
                started_at=swept,
                finished_at=swept,
            )
        )
    with TestClient(app):
        deadline = time.monotonic() + 60
        jobs = _scheduled_jobs(context)
        while len(jobs) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            jobs = _scheduled_jobs(context)
    # Started by the server's first tick, without waiting for next 1 January.
    assert [("done", "scheduler"), ("done", "cli:kari")] == jobs
    assert {1100} == sweepco.ids(url, sweepco.web_events)


def test_a_run_accepted_but_never_executed_is_queued_again_on_start(
    tmp_path: Path, shop: tuple[str, sweepco.Expected]
) -> None:
    url, _expected = shop
    first = _app(tmp_path)
    with TestClient(first):
        # Accepted (locked, recorded queued), then the server stopped before its job ran.
        started = first.state.context.application.retention_runs().start(
            "shop", requested_by="api:ops", confirm=True
        )
    second = _app(tmp_path)
    with TestClient(second) as client:
        _wait(second, started.run_id)
        headers = {"Authorization": f"Bearer {_tokens(second)[Role.AUDITOR]}"}
        run = client.get(f"{RUNS}/{started.run_id}", headers=headers).json()
    assert ("done", "api:ops") == (run["status"], run["requested_by"])
    assert {1100} == sweepco.ids(url, sweepco.web_events)


def test_a_run_the_broker_cannot_take_is_withdrawn(
    tmp_path: Path, shop: tuple[str, sweepco.Expected]
) -> None:
    url, _expected = shop
    datamap = sweepco.write_datamap(tmp_path / "map", "sqlite")
    # Nothing listens on port 1: the broker is down.
    settings = Settings(
        home=tmp_path / "home", database_url=None, datamap=None, broker_url="redis://127.0.0.1:1/0"
    )
    app = create_app(settings, datamap)
    with TestClient(app) as client:
        tokens = _tokens(app)
        dpo = {"Authorization": f"Bearer {tokens[Role.PRIVACY_OFFICER]}"}
        refused = client.post(RUNS, json={"system": "shop", "confirm": True}, headers=dpo)
        assert 503 == refused.status_code, refused.text
        assert "Job broker unavailable" == refused.json()["title"]
        runs = client.get(RUNS, params={"status": "failed"}, headers=dpo).json()
        assert ["not queued: Job broker unavailable"] == [r["message"] for r in runs]
        with app.state.context.application.unit_of_work() as uow:
            lock = RetentionLocks(uow.session).holder("shop")
            assert lock is not None
            assert lock.run_id is None, "the shop is free for the next run"
    assert {1000, 1001, 1002, 1100} == sweepco.ids(url, sweepco.web_events)


def test_a_queued_run_never_picked_up_is_listed_failed_with_its_reason(
    tmp_path: Path, shop: tuple[str, sweepco.Expected]
) -> None:
    from personvern.engine.retention.runs import RetentionRuns

    app = _app(tmp_path)
    application = app.state.context.application
    with TestClient(app) as client:
        # Accepted and sent to a broker that lost the message (queued, never executed).
        started = application.retention_runs().start("shop", requested_by="api:ops")
        # Beat's tick after the lease (10 minutes) has run out.
        later = RetentionRuns(
            application.unit_of_work,
            application.retention_sweep,
            lease=timedelta(minutes=10),
            clock=lambda: datetime.now(UTC) + timedelta(minutes=11),
        )
        assert [started.run_id] == later.fail_unstarted()
        headers = {"Authorization": f"Bearer {_tokens(app)[Role.AUDITOR]}"}
        failed = client.get(RUNS, params={"status": "failed"}, headers=headers).json()
    assert [(started.run_id, "failed", None)] == [
        (r["run_id"], r["status"], r["started_at"]) for r in failed
    ]
    assert "never started: no worker picked it up within 10 minute(s)" in failed[0]["message"]
    assert "`personvern retention run --system shop`" in failed[0]["message"]


def test_the_in_process_scheduler_sweeps_personverns_own_records_on_their_schedule(
    tmp_path: Path, shop: tuple[str, sweepco.Expected]
) -> None:
    app = _app(tmp_path, interval=30, own_schedule="* * * * *")
    context: AppContext = app.state.context
    with TestClient(app):
        jobs = _scheduled_jobs(context)
        assert [("done", "scheduler")] == jobs
        with context.application.unit_of_work() as uow:
            records = RetentionRecords(uow.session)
            evidence = {(r.system, r.rule) for r in records.runs(records.jobs()[0].run_id)}
    # Only personvern's own records: the shop's rules have no schedule.
    assert {system for system, _ in evidence} == {"personvern"}
    assert {rule for _, rule in evidence} == {rule.key for rule in own_record_rules()}


def test_a_schedule_of_personverns_own_records_that_is_no_cron_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="fields where cron takes five"):
        Settings(home=tmp_path, retention_own_schedule="30 3 * *")
    assert "" == Settings(home=tmp_path, retention_own_schedule="  ").retention_own_schedule
