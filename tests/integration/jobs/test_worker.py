"""Requests run by `personvern worker` through a real Redis broker."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from personvern.demo import schema
from personvern.demo.seed import seed_demo_company
from personvern.demo.targets import demo_environment, targets_from_urls
from personvern.jobs.celery_app import CeleryJobs
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.encryption.setup import open_vault
from personvern.store.migrate import upgrade_to_head
from tests.integration.jobs.company import (
    customers,
    datamap_without_email,
    stored,
    verified_erasure,
)
from tests.integration.jobs.conftest import Workers, wait_for, worker_environment

CUSTOMERS = 40


def test_worker_runs_an_erasure_to_completion(
    tmp_path: Path, redis_url: str, queue: str, workers: Workers
) -> None:
    home = tmp_path / "home"
    targets = targets_from_urls(home)
    seed_demo_company(targets, customers=CUSTOMERS)
    datamap = datamap_without_email(tmp_path)
    store = make_engine(Settings(home=home))
    upgrade_to_head(store)
    # With the vault the workers use: they seal the plan under the subject's key.
    session_factory = make_session_factory(store, open_vault(Settings(home=home)))
    _customer_id, email = customers(targets, 1)[0]
    request_id = verified_erasure(session_factory, email)

    workers.start(
        worker_environment(
            PERSONVERN_HOME=str(home),
            PERSONVERN_DATAMAP=str(datamap),
            PERSONVERN_BROKER_URL=redis_url,
            **demo_environment(targets, datamap),
        )
    )
    job = CeleryJobs(Settings(home=home, broker_url=redis_url), queue=queue).submit_run(request_id)

    done = wait_for(
        lambda: stored(session_factory, request_id).state == "completed",
        40,
        f"request {request_id} (job {job}) to complete",
        workers.logs,
    )
    assert done
    result = stored(session_factory, request_id)
    assert 1 == result.attempts
    assert result.receipt is not None
    assert sorted(result.receipt["outcomes"]) == sorted(
        step.removeprefix("erase:") for step in result.steps
    )
    crm = sa.create_engine(targets.url("crm"))
    with crm.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.customers)
            .where(schema.customers.c.email == email)
        ).scalar_one()
    crm.dispose()
    assert 0 == left
    store.dispose()


def test_request_waiting_for_a_system_is_retried_until_it_is_back(
    tmp_path: Path, redis_url: str, queue: str, workers: Workers
) -> None:
    home = tmp_path / "home"
    targets = targets_from_urls(home)
    seed_demo_company(targets, customers=CUSTOMERS)
    datamap = datamap_without_email(tmp_path)
    store = make_engine(Settings(home=home))
    upgrade_to_head(store)
    # With the vault the workers use: they seal the plan under the subject's key.
    session_factory = make_session_factory(store, open_vault(Settings(home=home)))
    _customer_id, email = customers(targets, 1)[0]
    request_id = verified_erasure(session_factory, email)
    # The support database lives in a folder that does not exist yet: SQLite cannot
    # open it, as if its server were down, until the test creates and fills it.
    late = home / "late" / "support.sqlite"
    late_targets = targets_from_urls(home, system_urls={"support": f"sqlite:///{late}"})

    workers.start(
        worker_environment(
            PERSONVERN_HOME=str(home),
            PERSONVERN_DATAMAP=str(datamap),
            PERSONVERN_BROKER_URL=redis_url,
            **demo_environment(late_targets, datamap),
        )
    )
    CeleryJobs(Settings(home=home, broker_url=redis_url), queue=queue).submit_run(request_id)

    wait_for(
        lambda: stored(session_factory, request_id).state == "waiting_for_system",
        30,
        "the request to wait for the support system",
        workers.logs,
    )
    waiting = stored(session_factory, request_id)
    assert waiting.next_attempt_at is not None
    assert waiting.last_error is not None
    assert "support" in waiting.last_error.lower()

    # The system comes back: the seed skips the systems already there and fills support.
    seed_demo_company(late_targets, customers=CUSTOMERS)

    wait_for(
        lambda: stored(session_factory, request_id).state == "completed",
        40,
        "the retried request to complete",
        workers.logs,
    )
    result = stored(session_factory, request_id)
    assert 2 == result.attempts
    assert result.last_error is None
    assert result.next_attempt_at is None
    # The second in_progress step is the run deciding who answers (language, company).
    assert [
        "verified",
        "in_progress",
        "waiting_for_system",
        "in_progress",
        "in_progress",
        "completed",
    ] == [state for state, _message in result.events][1:]
    store.dispose()
