"""`personvern request resolve`: the way out of needs_review from the command line.

A request naming two customers stops for review; staff see the records to decide on
in `request show`, decide each with a reason, and the run goes on.
"""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.demo import schema
from personvern.demo.seed import seed_demo_company
from personvern.demo.targets import demo_environment, targets_from_urls
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.command import personvern


@pytest.fixture(scope="module")
def company(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """A small demo company in SQLite: its environment, and two customers' ids and e-mails."""
    home = tmp_path_factory.mktemp("company")
    targets = targets_from_urls(home)
    seed_demo_company(targets, customers=30, reference_date=date(2026, 11, 1))
    engine = sa.create_engine(targets.url("crm"))
    with engine.connect() as conn:
        customers = [
            (int(row[0]), str(row[1]))
            for row in conn.execute(
                sa.select(schema.customers.c.id, schema.customers.c.email)
                .order_by(schema.customers.c.id)
                .limit(2)
            )
        ]
    engine.dispose()
    return demo_environment(targets, EXAMPLE_DATAMAP), customers


def _cli(cli: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return personvern(cli, env, "request", *args)


def test_resolve_decides_every_record_with_a_reason_and_runs_the_request(
    personvern_cli: list[str],
    company: tuple[dict[str, str], list[tuple[int, str]]],
    tmp_path: Path,
) -> None:
    environ, [(first, email), (second, _)] = company
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env = (
        clean
        | environ
        | {
            "PERSONVERN_HOME": str(tmp_path / "home"),
            "PERSONVERN_DATAMAP": str(EXAMPLE_DATAMAP),
            "PERSONVERN_SECRET_KEY": "cli-review-secret-0123456789abcdef0123",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )
    created = _cli(
        personvern_cli,
        env,
        "create",
        "--type",
        "access",
        "--identity",
        f"email={email}",
        "--identity",
        f"customer_id={second}",
        "--verified-by",
        "staff_known_contact",
        "--note",
        "called back on the contract's number",
    )
    assert 0 == created.returncode, created.stderr
    request_id = created.stdout.strip()
    stopped = _cli(personvern_cli, env, "run", request_id)
    assert 1 == stopped.returncode, stopped.stderr
    assert f"{request_id}: needs_review" in stopped.stdout
    shown = _cli(personvern_cli, env, "show", request_id)
    line = next(x for x in shown.stdout.splitlines() if x.startswith("to decide: "))
    records = line.removeprefix("to decide: ").split(": `")[0].split(", ")
    mine = f"crm.customers:{first}"
    assert {mine, f"crm.customers:{second}"} <= set(records)
    others = [arg for record in records if record != mine for arg in ("--exclude", record)]

    unknown = _cli(
        personvern_cli,
        env,
        "resolve",
        request_id,
        "--attach",
        "crm.customers:999999",
        "--reason",
        "typo",
    )
    undecided = _cli(
        personvern_cli, env, "resolve", request_id, "--attach", mine, "--reason", "typo"
    )
    no_reason = _cli(
        personvern_cli, env, "resolve", request_id, "--attach", mine, *others, "--reason", " "
    )
    resolved = _cli(
        personvern_cli,
        env,
        "resolve",
        request_id,
        "--attach",
        mine,
        *others,
        "--reason",
        "the customer number was a typo on the form",
    )
    again = _cli(
        personvern_cli, env, "resolve", request_id, "--attach", mine, *others, "--reason", "x"
    )

    assert "personvern: error: crm.customers:999999 is not a record this review asks about" in (
        unknown.stderr
    )
    assert "every record of the review must be decided; not decided:" in undecided.stderr
    assert "a review decision needs a reason" in no_reason.stderr
    assert [2, 2, 2] == [unknown.returncode, undecided.returncode, no_reason.returncode]
    assert 0 == resolved.returncode, resolved.stderr
    assert f"{request_id}: review: crm.customers:{second} excluded: not the subject's" in (
        resolved.stdout
    )
    # The e-mail system is not connected here: the answer is partial, with a task.
    assert f"{request_id}: partially_completed" in resolved.stdout
    assert (2, f"request {request_id} is partially_completed, not needs_review") == (
        again.returncode,
        again.stderr.removeprefix("personvern: error: ").split(":")[0],
    )
    after = _cli(personvern_cli, env, "show", request_id)
    assert "the customer number was a typo on the form" in after.stdout
    assert "to decide: " not in after.stdout
