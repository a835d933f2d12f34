"""`personvern retention report` through the installed command, on each shop database.

The shop is filled at known ages (sweepco.populate_aged) plus two web events that come
due within 30 and within 90 days (13 months less 15 and less 55 days old). After a
confirmed run the report shows, per rule and table, what was deleted in the period
and what comes due; a period before the run shows no runs. Bad options change nothing
and exit 2.
"""

from __future__ import annotations

import csv
import io
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


def _csv(text: str) -> dict[str, dict[str, str]]:
    return {row["rule"]: row for row in csv.DictReader(io.StringIO(text))}


def test_report_shows_what_went_and_what_comes_due(
    personvern_cli: list[str], shop_database: ShopDatabase, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    sweepco.populate_aged(shop_database.url, today)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    shop = sa.create_engine(shop_database.url)
    try:
        with shop.begin() as conn:
            conn.execute(
                sweepco.web_events.insert(),
                [
                    {"id": 1200, "occurred_ms": sweepco._ms(now - timedelta(days=380))},
                    {"id": 1201, "occurred_ms": sweepco._ms(now - timedelta(days=340))},
                ],
            )
    finally:
        shop.dispose()
    datamap = sweepco.write_datamap(tmp_path / "map", shop_database.kind)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env = clean | {
        "PERSONVERN_HOME": str(tmp_path / "home"),
        "PERSONVERN_DATAMAP": str(datamap),
        "PERSONVERN_SECRET_KEY": "retention-report-secret-0123456789abcdef",
        "SWEEPCO_SHOP_URL": shop_database.url,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    run = _cli(personvern_cli, env, "run", "--confirm")
    assert 0 == run.returncode, run.stderr

    out = tmp_path / "report.csv"
    written = _cli(personvern_cli, env, "report", "--format", "csv", "--output", str(out))
    assert 0 == written.returncode, written.stderr
    rows = _csv(out.read_text(encoding="utf-8"))
    events = rows["web-events"]
    assert ("shop", "web_events", "delete") == (events["system"], events["table"], events["action"])
    assert ("1", "3", "0", "0") == (
        events["runs"],
        events["deleted"],
        events["failed_runs"],
        events["refused_runs"],
    )
    # 380 days old: due within 30 days; 340 days: within 90; 100 days: later.
    assert ("0", "1", "2") == (
        events["due_now"],
        events["due_within_30_days"],
        events["due_within_90_days"],
    )
    assert (today - timedelta(days=364)).isoformat() == events["period_start"]
    assert today.isoformat() == events["period_end"]
    assert "1" == rows["visits"]["anonymised"]
    # personvern's own records are in the same report, as system personvern.
    own = rows["own-audit-events"]
    assert ("personvern", "audit_events", "1") == (own["system"], own["table"], own["runs"])

    text = _cli(personvern_cli, env, "report")
    assert 0 == text.returncode, text.stderr
    assert "  web-events: shop.web_events: 3 deleted, 0 anonymised" in text.stdout
    assert "  web-events: shop.web_events: 0 due now, 1 within 30 days, 2 within 90 days" in (
        text.stdout
    )

    html = _cli(personvern_cli, env, "report", "--format", "html", "--lang", "nb")
    assert 0 == html.returncode, html.stderr
    assert "<h1>Sletterapport</h1>" in html.stdout
    assert "<td>shop.web_events</td>" in html.stdout

    before = (today - timedelta(days=30)).isoformat()
    earlier = _cli(personvern_cli, env, "report", "--format", "csv", "--until", before)
    assert 0 == earlier.returncode, earlier.stderr
    assert "0" == _csv(earlier.stdout)["web-events"]["runs"]

    for bad in (
        ("--since", "2026-13-01"),
        ("--since", today.isoformat(), "--until", before),
        ("--format", "pdf"),
        ("--lang", "de"),
    ):
        refused = _cli(personvern_cli, env, "report", *bad)
        assert (2, "") == (refused.returncode, refused.stdout), bad
        assert refused.stderr.startswith("personvern: error: "), refused.stderr
        assert "Traceback" not in refused.stderr
