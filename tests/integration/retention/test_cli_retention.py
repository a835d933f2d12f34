"""`personvern retention hold | run --dry-run | run [--confirm] | runs` through the command.

On the real clock, with rows aged far from every boundary (sweepco.populate_aged): the
dry run shows the plan, the first real run stops at the safety stop (exit 1), the
confirmed run deletes exactly the due rows, and the evidence is in the store and the
audit trail.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.integration.retention import sweepco
from tests.integration.retention.conftest import ShopDatabase
from tests.support.command import personvern


def _cli(cli: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return personvern(cli, env, "retention", *args)


def test_hold_dry_run_safety_stop_and_confirmed_run(
    personvern_cli: list[str], shop_database: ShopDatabase, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    expected = sweepco.populate_aged(shop_database.url, today)
    datamap = sweepco.write_datamap(tmp_path / "map", shop_database.kind)
    home = tmp_path / "home"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env = clean | {
        "PERSONVERN_HOME": str(home),
        "PERSONVERN_DATAMAP": str(datamap),
        "PERSONVERN_SECRET_KEY": "retention-cli-secret-0123456789abcdef",
        "PERSONVERN_RETENTION_BATCH_SIZE": "2",
        "SWEEPCO_SHOP_URL": shop_database.url,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    until = (today + timedelta(days=30)).isoformat()

    held = _cli(
        personvern_cli, env, "hold", "shop.invoices", "10", "--reason", "dispute", "--until", until
    )
    assert 0 == held.returncode, held.stderr
    bad = _cli(personvern_cli, env, "hold", "shop.nope", "10", "--reason", "x")
    assert (2, "") == (bad.returncode, bad.stdout)
    assert bad.stderr.startswith("personvern: error: shop.nope is no dataset of the data map")

    dry = _cli(personvern_cli, env, "run", "--dry-run")
    assert 0 == dry.returncode, dry.stderr
    lines = dry.stdout.splitlines()
    assert any(
        line.startswith("invoices: shop.invoices: 1 of 4 rows due to delete (25%), 2 held")
        for line in lines
    ), dry.stdout
    assert "    1 held by law (bokføringsloven § 13)" in lines
    assert "    1 held by staff (`personvern retention hold`)" in lines
    prospects = lines.index(next(line for line in lines if line.startswith("prospects:")))
    assert lines[prospects].startswith("prospects: shop.customers: 1 of 4 rows due")
    assert "    1 held as rows of invoices refer to them" == lines[prospects + 1]
    assert any(line.startswith("web-events: shop.web_events: 3 of 4 rows due") for line in lines)
    assert "    more than 20% of the table: a real run needs --confirm" in lines
    assert {1000, 1001, 1002, 1100} == sweepco.ids(shop_database.url, sweepco.web_events)

    stopped = _cli(personvern_cli, env, "run")
    assert 1 == stopped.returncode
    assert "web-events: shop.web_events: refused: would delete 3 of 4 rows (75%)" in (
        stopped.stderr
    )
    assert stopped.stderr.rstrip().endswith(
        "rule(s) stopped by the safety stop; check them, then run again with --confirm"
    )
    assert "Traceback" not in stopped.stderr
    assert "stays refused" not in stopped.stderr, "the log's warning is for jobs, not here"
    # The refused run is listed with the command that confirms it.
    refused = _cli(personvern_cli, env, "runs", "--status", "refused")
    assert 0 == refused.returncode, refused.stderr
    first, reason = refused.stdout.splitlines()
    assert " refused  shop run " not in first, "a run of every system names none"
    assert " refused  all run " in first
    assert reason.startswith(
        "    refused by the safety stop: check the rule, then run `personvern retention run "
        "--system shop --confirm`"
    )
    # Every rule is over 20 % of its table here: the first (in sweep order) in detail.
    assert reason.endswith(
        "payments on shop.payments: would delete 1 of 2 rows (50%), more than the 20% allowed "
        "without confirmation; also refused: web-events, visits, invoices, prospects"
    )
    bad_status = _cli(personvern_cli, env, "runs", "--status", "stuck")
    assert (2, "") == (bad_status.returncode, bad_status.stdout)
    assert "--status 'stuck' is not one of queued, running, done, failed, refused" in (
        bad_status.stderr
    )

    confirmed = _cli(personvern_cli, env, "run", "--confirm")
    assert 0 == confirmed.returncode, confirmed.stderr
    assert "web-events: shop.web_events: 3 deleted, 0 anonymised, 0 held" in confirmed.stdout
    for name, table in sweepco.TABLES.items():
        assert expected.kept[name] == sweepco.ids(shop_database.url, table), name
    visits = sweepco.rows(shop_database.url, sweepco.visits)
    assert "198.51.100.0" == visits[1][2]
    assert "::1" == visits[2][2]

    store = sa.create_engine(f"sqlite:///{home / 'personvern.db'}")
    try:
        with store.connect() as conn:
            evidence = conn.execute(
                sa.text(
                    "SELECT rule, status, deleted, anonymised, first_key, last_key, started_by "
                    "FROM retention_runs ORDER BY id"
                )
            ).all()
            audited = conn.execute(
                sa.text("SELECT count(*) FROM audit_events WHERE action = 'retention.swept'")
            ).scalar_one()
    finally:
        store.dispose()
    assert len(evidence) == audited
    events = [row for row in evidence if row[0] == "web-events"]
    assert [("refused", 0), ("completed", 3)] == [(row[1], row[2]) for row in events]
    assert ("1000", "1002") == (events[1][4], events[1][5])
    assert all(str(row[6]).startswith("cli:") for row in evidence)
    listed = _cli(personvern_cli, env, "holds")
    assert listed.stdout.startswith(f"1: shop.invoices 10 until {until}: dispute (cli:")
    lifted = _cli(personvern_cli, env, "lift", "1")
    assert (0, "hold 1 lifted\n") == (lifted.returncode, lifted.stdout)
    again = _cli(personvern_cli, env, "lift", "1")
    assert 2 == again.returncode
    assert "no hold 1 is in force" in again.stderr
    released = _cli(personvern_cli, env, "run", "--confirm", "--system", "shop")
    assert 0 == released.returncode, released.stderr
    assert {12, 14} == sweepco.ids(shop_database.url, sweepco.invoices)

    verified = subprocess.run(
        [*personvern_cli, "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == verified.returncode, verified.stderr
