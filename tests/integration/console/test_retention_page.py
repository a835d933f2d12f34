"""`/staff/retention`: failed runs on top, the latest runs with counts per rule, what comes
due in 30 and 90 days, the report to download; and refused to roles without retention:read.

The runs are real: started through the API on the small shop (SQLite) the retention
tests use, one against an unreachable database (it fails), one that sweeps.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.jobs.queue import InProcessJobs
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from tests.integration.retention import sweepco
from tests.support.console import signed_in

RUNS = "/api/v1/retention/runs"
HTML = {"Accept": "text/html"}
ENGLISH = {"Accept-Language": "en", **HTML}


def section(page: str, heading_id: str) -> str:
    """The HTML of the section labelled by ``heading_id``."""
    match = re.search(
        rf'<section aria-labelledby="{heading_id}".*?</section>', page, flags=re.DOTALL
    )
    assert match, heading_id
    return match.group(0)


@pytest.fixture
def retention_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The shop's app with two runs: one failed (shop unreachable), one that swept."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    sweepco.populate_aged(url, datetime.now(UTC).date())
    # Web events come due 10, 40 and 100 days from now: 1 within 30 days, 2 within 90.
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for key, days in ((2001, 10), (2002, 40), (2003, 100)):
                when = datetime.now(UTC) - timedelta(days=396 - days)
                conn.execute(
                    sweepco.web_events.insert().values(
                        id=key, occurred_ms=int(when.timestamp() * 1000), url="/"
                    )
                )
    finally:
        engine.dispose()
    datamap = sweepco.write_datamap(tmp_path / "map", "sqlite")
    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None)
    app = create_app(settings, datamap)
    context: AppContext = app.state.context
    with TestClient(app) as client:
        with context.application.unit_of_work() as uow:
            token = issue_token(uow.session, name="dpo", role=Role.PRIVACY_OFFICER).token
        dpo = {"Authorization": f"Bearer {token}"}
        jobs = context.application.jobs()
        assert isinstance(jobs, InProcessJobs)
        monkeypatch.setenv("SWEEPCO_SHOP_URL", f"sqlite:///{tmp_path / 'absent' / 'shop.db'}")
        failed = client.post(RUNS, json={"system": "shop", "confirm": True}, headers=dpo)
        assert 202 == failed.status_code, failed.text
        jobs.wait_retention(failed.json()["run_id"], 60)
        monkeypatch.setenv("SWEEPCO_SHOP_URL", url)
        swept = client.post(RUNS, json={"system": "shop", "confirm": True}, headers=dpo)
        assert 202 == swept.status_code, swept.text
        jobs.wait_retention(swept.json()["run_id"], 60)
    return app


def test_the_page_shows_failed_runs_first_counts_per_rule_and_what_comes_due(
    retention_app: FastAPI,
) -> None:
    with signed_in(retention_app, Role.AUDITOR) as client:
        page = client.get("/staff/retention", headers=ENGLISH)
    assert 200 == page.status_code, page.text
    text = page.text
    assert '<a href="/staff/retention" aria-current="page">Retention</a>' in text
    # The failed run is on top, before the list of the latest runs.
    attention = section(text, "h-attention")
    assert text.index(attention) < text.index('aria-labelledby="h-runs"')
    assert 1 == attention.count("<tbody>")
    assert ['<span class="badge r-failed">failed</span>'] == re.findall(
        r'<span class="badge r-[a-z]+">[a-z]+</span>', attention
    )
    assert "1 failed or refused runs, newest first" in attention
    # Both runs in the latest runs, newest first, started through the API.
    latest = section(text, "h-runs")
    assert ["done", "failed"] == re.findall(r'<span class="badge r-[a-z]+">([a-z]+)</span>', latest)
    assert 2 == latest.count("<td>api:")
    # Per rule: the sweep deleted the three due web events (as the API test counts them).
    assert re.search(
        r"<strong>web-events</strong> · shop.web_events · completed: 3 deleted, 0 anonymised",
        latest,
    ), latest
    # What comes due: web events, 0 today, 1 within 30 days, 2 within 90 days.
    upcoming = section(text, "h-upcoming")
    assert '<th scope="col">Due within 30 days</th>' in upcoming
    row = re.search(r'<th scope="row">web-events</th>(.*?)</tr>', upcoming, flags=re.DOTALL)
    assert row, upcoming
    cells = re.findall(r"<td>([^<]*)</td>", row.group(1))
    assert ["shop.web_events", "delete", "0", "1", "2"] == cells
    # The report form, and nothing of a customer's.
    assert 'action="/staff/retention/report"' in text
    assert "@" not in text.replace("&#64;", "")


def test_the_page_in_norwegian(retention_app: FastAPI) -> None:
    with signed_in(retention_app, Role.PRIVACY_OFFICER) as client:
        page = client.get("/staff/retention", headers={"Accept-Language": "nb", **HTML})
    assert 200 == page.status_code
    assert '<html lang="nb">' in page.text
    assert "Kjøringer som trenger oppfølging" in page.text
    assert '<span class="badge r-failed">feilet</span>' in page.text
    assert "Forfaller innen 90 dager" in page.text


def test_the_report_downloads_as_csv_and_html(retention_app: FastAPI) -> None:
    today = datetime.now(UTC).date()
    with signed_in(retention_app, Role.AUDITOR) as client:
        csv = client.get(
            "/staff/retention/report",
            params={"since": (today - timedelta(days=30)).isoformat(), "format": "csv"},
        )
        html = client.get("/staff/retention/report", headers=ENGLISH)
        backwards = client.get(
            "/staff/retention/report",
            params={"since": today.isoformat(), "until": (today - timedelta(days=1)).isoformat()},
            headers=HTML,
        )
    assert 200 == csv.status_code, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    header, *lines = csv.text.splitlines()
    assert header.startswith("period_start,period_end,rule,system,table")
    events = next(line for line in lines if ",web-events,shop,web_events," in line)
    assert ",3," in events, events
    assert 200 == html.status_code
    assert html.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in html.text
    assert 422 == backwards.status_code
    assert "cannot be reported" in backwards.text


def test_a_role_without_retention_read_is_refused_and_sees_no_link(
    retention_app: FastAPI,
) -> None:
    with signed_in(retention_app, Role.AGENT) as client:
        page = client.get("/staff/retention", headers=ENGLISH)
        report = client.get("/staff/retention/report", headers=ENGLISH)
        inbox = client.get("/staff/", headers=ENGLISH)
    assert (403, 403) == (page.status_code, report.status_code)
    assert "lacks the permission &#39;retention:read&#39;" in page.text
    assert 200 == inbox.status_code
    assert 'href="/staff/retention"' not in inbox.text
