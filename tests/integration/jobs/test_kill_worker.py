"""A worker killed with SIGKILL in the middle of an erasure; the next worker completes it.

The demo company lives in PostgreSQL, personvern's store in another PostgreSQL
database, the broker is Redis. The first worker runs with the test hook of
personvern.jobs.celery_app, which holds the run at a chosen erasure step and writes
a marker file; the test waits for the marker, kills the worker's whole process group
with SIGKILL (as when its machine dies), checks that the erasure really is half done,
and starts a second worker without the hook. Redis delivers the unacknowledged message
again once its visibility timeout has passed, and the second worker must complete the
request with every planned row erased, the kept rows untouched, each system recorded
once, and every other customer's rows and files exactly as they were.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from personvern.datamap.loader import load_datamap
from personvern.demo.seed import seed_demo_company
from personvern.demo.targets import DemoTargets, demo_environment, targets_from_urls
from personvern.demo.truth import ground_truth
from personvern.domain.requests.request_plan import RequestPlan
from personvern.engine.runner import RequestEngine
from personvern.jobs.celery_app import (
    PAUSE_AFTER_STEP_ENV,
    PAUSE_BEFORE_RECORDING_ENV,
    PAUSE_MARKER_ENV,
    CeleryJobs,
)
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.encryption.setup import open_vault
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.integration.jobs.company import (
    Snapshot,
    customers,
    datamap_without_email,
    snapshot,
    stored,
    subject_paths,
    verified_erasure,
    without,
)
from tests.integration.jobs.conftest import Workers, wait_for, worker_environment
from tests.support.servers import fresh_database

CUSTOMERS = 150
SECRET = "kill-test-secret-key-0123456789abcdef"
#: Short, so that the second worker gets the killed run's message within the test;
#: production keeps the default hour (see personvern.jobs.celery_app).
VISIBILITY_TIMEOUT = 2


def _keys(values: Any) -> set[str]:
    return {str(v) for v in values}


def _subject_customer(targets: DemoTargets, datasets: set[str]) -> tuple[str, dict[str, set[str]]]:
    """The e-mail and ground truth (in ``datasets``) of an early customer found in most."""
    best: tuple[int, str, dict[str, set[str]]] | None = None
    for customer_id, email in customers(targets, 10):
        truth = {
            name: _keys(keys)
            for name, keys in ground_truth(targets, customer_id).items()
            if name in datasets
        }
        spread = sum(1 for keys in truth.values() if keys)
        if best is None or spread > best[0]:
            best = (spread, email, truth)
    assert best is not None
    return best[1], best[2]


def _planned(plan: RequestPlan) -> dict[str, set[str]]:
    """Every key the plan found, per dataset, whatever it does with it."""
    return {
        part.name: _keys(part.delete + part.erase_fields + part.redact + part.keep)
        for part in plan.datasets
    }


@pytest.fixture
def store_url() -> Iterator[str]:
    """personvern's own store: a fresh PostgreSQL database, migrated, dropped afterwards."""
    with fresh_database("postgresql") as url:
        upgrade_to_head(url)
        yield url


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("hook", "whole_worker"),
    [
        pytest.param(PAUSE_AFTER_STEP_ENV, True, id="worker-killed-after-a-system-was-recorded"),
        pytest.param(
            PAUSE_BEFORE_RECORDING_ENV, True, id="worker-killed-before-a-done-system-was-recorded"
        ),
        # Only the pool process running the task dies (the kernel's OOM killer does this):
        # the worker itself sees it lost and, with task_reject_on_worker_lost, requeues.
        pytest.param(PAUSE_AFTER_STEP_ENV, False, id="pool-process-killed"),
    ],
)
def test_killed_worker_leaves_an_erasure_the_next_worker_completes_exactly(
    tmp_path: Path,
    postgres_url: str,
    store_url: str,
    redis_url: str,
    queue: str,
    workers: Workers,
    hook: str,
    whole_worker: bool,
) -> None:
    home = tmp_path / "home"
    targets = targets_from_urls(home, company_db_url=postgres_url)
    seed_demo_company(targets, customers=CUSTOMERS)
    datamap_path = datamap_without_email(tmp_path)
    datamap = load_datamap(datamap_path).datamap
    environ = demo_environment(targets, datamap_path)
    # The datasets the request covers: the ground truth also lists the demo mailbox,
    # which the data map used here leaves out (see datamap_without_email).
    covered = {f"{s.key}.{d.name}" for s in datamap.systems for d in s.datasets}
    email, truth = _subject_customer(targets, covered)
    store = make_engine(store_url)
    settings = Settings(home=home, database_url=store_url, secret_key=SECRET, broker_url=redis_url)
    # With the vault the workers use: they seal the plan under the subject's key.
    session_factory = make_session_factory(store, open_vault(settings))
    request_id = verified_erasure(session_factory, email)
    engine = RequestEngine(
        settings=settings,
        datamap=datamap,
        unit_of_work=unit_of_work_factory(session_factory),
        environ=environ,
    )
    preview = engine.dry_run(request_id)
    # The systems the erasure changes, in the order the engine works through them.
    changing = {d.system for d in preview.datasets if d.changes}
    systems = [s for s in engine.erasure_order(preview) if s in changing]
    assert len(systems) >= 3, f"the subject's records span too few systems: {systems}"
    assert {name: keys for name, keys in truth.items() if keys} == {
        name: keys for name, keys in _planned(preview).items() if keys
    }
    # Pause in a system that also keeps rows with fields erased or mentions redacted,
    # where running a step twice could do harm, and never in the last one.
    rewriting = {d.system for d in preview.datasets if d.erase_fields or d.redact}
    pause_at = next((s for s in systems[:-1] if s in rewriting), systems[1])
    done_before_kill = systems[: systems.index(pause_at) + 1]
    before = snapshot(targets)

    env = worker_environment(
        PERSONVERN_HOME=str(home),
        PERSONVERN_DATABASE_URL=store_url,
        PERSONVERN_DATAMAP=str(datamap_path),
        PERSONVERN_BROKER_URL=redis_url,
        PERSONVERN_SECRET_KEY=SECRET,
        **environ,
    )
    marker = tmp_path / "paused.json"
    first = workers.start(
        env,
        visibility_timeout=VISIBILITY_TIMEOUT,
        extra_env={hook: f"erase:{pause_at}", PAUSE_MARKER_ENV: str(marker)},
    )
    CeleryJobs(settings, queue=queue).submit_run(request_id)
    wait_for(marker.exists, 40, f"the run to pause at erase:{pause_at}", workers.logs)
    paused_at = time.monotonic()
    paused = json.loads(marker.read_text(encoding="utf-8"))
    assert (request_id, f"erase:{pause_at}") == (paused["request_id"], paused["step"])
    if whole_worker:
        workers.kill(first)
        halfway = snapshot(targets)
        _check_half_done(preview, halfway, done_before_kill)
        # The store says the same: the steps done before the kill, and no more.
        recorded = done_before_kill if hook == PAUSE_AFTER_STEP_ENV else done_before_kill[:-1]
        middle = stored(session_factory, request_id)
        assert ("in_progress", [f"erase:{s}" for s in recorded]) == (middle.state, middle.steps)
        # Redis hands an unacknowledged message on once its visibility timeout has passed
        # since delivery (before the marker); a worker looks for such messages as it starts.
        time.sleep(max(0.0, paused_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
        workers.start(env, visibility_timeout=VISIBILITY_TIMEOUT)
    else:
        assert first.pid != paused["pid"]
        os.kill(paused["pid"], signal.SIGKILL)
    wait_for(
        lambda: stored(session_factory, request_id).state == "completed",
        40,
        "the request to be completed after the kill",
        workers.logs,
    )

    result = stored(session_factory, request_id)
    after = snapshot(targets)
    store.dispose()
    assert result.plan is not None
    assert result.receipt is not None
    plan = RequestPlan.from_json(result.plan)
    assert preview.to_json()["datasets"] == plan.to_json()["datasets"]
    # Each system erased and recorded once, in the plan's order.
    assert [f"erase:{s}" for s in systems] == result.steps
    assert sorted(systems) == sorted(result.receipt["outcomes"])
    _check_rows(plan, before, after)
    redone = pause_at if hook == PAUSE_BEFORE_RECORDING_ENV else None
    _check_exactly_once(plan, result.receipt["outcomes"], redone)
    if whole_worker:
        # What the killed worker had committed stayed exactly as it was: erasing again
        # (the system done but not recorded) changed nothing the second time.
        for part in plan.datasets:
            if part.system in done_before_kill and part.name in halfway.rows:
                assert halfway.rows[part.name] == after.rows[part.name], part.name
    # Nothing about anyone else changed, in any table or file store.
    paths = subject_paths(before, truth)
    assert without(before, truth, paths) == without(after, truth, paths)


def _check_half_done(plan: RequestPlan, halfway: Snapshot, done: list[str]) -> None:
    """The systems up to the pause have lost the subject's records, the others not yet."""
    for part in plan.datasets:
        if not part.delete:
            continue
        present = _keys(part.delete) & _present(halfway, part.name)
        if part.system in done:
            assert set() == present, f"{part.name} was not erased before the kill"
        else:
            assert _keys(part.delete) == present, f"{part.name} was erased before the kill"


def _present(snap: Snapshot, name: str) -> set[str]:
    return set(snap.rows.get(name, {})) | set(snap.file_records.get(name, {}))


def _check_rows(plan: RequestPlan, before: Snapshot, after: Snapshot) -> None:
    """Deleted records are gone, kept ones unchanged, field-erased and redacted ones there."""
    for part in plan.datasets:
        assert set() == _keys(part.delete) & _present(after, part.name), part.name
        assert _keys(part.erase_fields + part.redact) <= _present(after, part.name), part.name
        kept = _keys(part.keep)
        assert kept <= _present(after, part.name), part.name
        if part.name in before.rows:
            assert {k: before.rows[part.name][k] for k in kept} == {
                k: after.rows[part.name][k] for k in kept
            }, f"{part.name}: a record under legal hold changed"
        for key in _keys(part.erase_fields):
            assert before.rows[part.name][key] != after.rows[part.name][key], part.name


def _check_exactly_once(
    plan: RequestPlan, outcomes: dict[str, dict[str, dict[str, int]]], redone: str | None
) -> None:
    """Each system's recorded outcome deleted exactly the planned records.

    A system committed by the killed worker but not recorded is run again by the next
    one; that second run must find nothing left to delete or redact.
    """
    for part in plan.datasets:
        if not part.changes:
            continue
        outcome = outcomes[part.system][part.dataset]
        if part.system == redone:
            assert (0, 0) == (outcome["deleted"], outcome["redacted"]), part.name
        else:
            assert (len(part.delete), len(part.redact)) == (
                outcome["deleted"],
                outcome["redacted"],
            ), part.name
