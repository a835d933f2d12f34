"""The staff console in a real browser: Debian's chromium, driven by Playwright.

A privacy officer signs in with a local account, finds the request due in three days at
the top of the inbox, opens it for a purpose, reads the plan, approves and runs it, sees
it completed and downloads the receipt; resolves a review; and an auditor neither sees
the run button nor gets past the server when posting the form anyway. axe-core checks
every page; screenshots of the inbox, a request page and the overview in both languages
are written to $PERSONVERN_SCREENSHOTS (default: this test's temporary folder).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from personvern.api.app import create_app
from personvern.domain.roles import Role
from personvern.security.staff_accounts import create_account
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.retention_runs import RetentionJobRow, RetentionRecords, RetentionRunRow
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.request_flow.staff import PURPOSE, company
from tests.support.company import Company
from tests.support.live_server import serving

__all__ = ["company"]

PASSWORDS = {"dpo": "correct horse battery staple", "revisor": "auditor reads, never runs"}
#: Violations axe-core reports that fail a page.
SERIOUS = {"serious", "critical"}


class Console:
    """The running app, its base URL, and an agent's API token to file requests with."""

    def __init__(self, app: FastAPI, url: str, agent: dict[str, str]) -> None:
        self.app = app
        self.url = url
        self.agent = agent

    def file(self, request_type: str, identities: list[dict[str, str]]) -> str:
        """A request the agent files after checking identity in person (four eyes apply)."""
        with TestClient(self.app) as client:
            filed = client.post(
                "/api/v1/requests",
                headers=self.agent,
                json={
                    "type": request_type,
                    "identities": identities,
                    "verification_method": "staff_in_person",
                    "verification_note": "passport checked at the Oslo office",
                },
            )
        assert 201 == filed.status_code, filed.text
        request_id: str = filed.json()["id"]
        return request_id

    def failed_retention_run(self) -> None:
        """Record a retention run that failed on one table, as a run that lost its database."""
        now = utcnow()
        with self.app.state.context.application.unit_of_work() as uow:
            records = RetentionRecords(uow.session)
            records.add_job(
                RetentionJobRow(
                    run_id="browser-run-1",
                    system="crm",
                    rules=None,
                    confirm=False,
                    status="failed",
                    requested_by="scheduler",
                    requested_at=now,
                    started_at=now,
                    finished_at=now,
                    message="the database of crm could not be reached",
                )
            )
            records.add_run(
                RetentionRunRow(
                    run_id="browser-run-1",
                    rule="crm-customers",
                    system="crm",
                    dataset="customers",
                    action="delete",
                    status="failed",
                    deleted=0,
                    anonymised=0,
                    held=0,
                    started_at=now,
                    finished_at=now,
                    started_by="scheduler",
                    message="could not connect",
                )
            )

    def due_in(self, request_id: str, days: int) -> None:
        """Move the request's deadline to ``days`` from today (as if filed a month ago)."""
        with self.app.state.context.application.unit_of_work() as uow:
            uow.requests.get(request_id).deadline = utcnow().date() + timedelta(days=days)


@pytest.fixture
def console(company: Company, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    """The app on a live port with two local accounts and an agent's token."""
    for name, value in company.environ.items():
        monkeypatch.setenv(name, value)
    settings = Settings(home=tmp_path / "home", staff_insecure_cookies=True)
    app = create_app(settings, EXAMPLE_DATAMAP)
    with serving(app) as url:
        with app.state.context.application.unit_of_work() as uow:
            create_account(
                uow.session, "dpo", Role.PRIVACY_OFFICER, PASSWORDS["dpo"], created_by="test"
            )
            create_account(
                uow.session, "revisor", Role.AUDITOR, PASSWORDS["revisor"], created_by="test"
            )
            agent = issue_token(uow.session, name="agent", role=Role.AGENT)
        yield Console(app, url, {"Authorization": f"Bearer {agent.token}", **PURPOSE})


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context in English (the language switch is tested separately)."""
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def customers(company: Company, count: int) -> list[tuple[int, str]]:
    """The first ``count`` customers with a plain, valid e-mail address (id, address)."""
    found = [
        (int(row[0]), str(row[1]))
        for row in company.customers()
        if re.fullmatch(r"[a-z0-9.]+@[a-z0-9-]+(\.[a-z]+)+", str(row[1] or ""))
    ]
    return found[:count]


def screenshots() -> Path | None:
    """Where to save screenshots, if asked for (the README links the committed ones)."""
    folder = os.environ.get("PERSONVERN_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_accessible(page: Page, found: dict[str, list[str]]) -> None:
    """Run axe-core on the page; record serious and critical violations by page."""
    from axe_playwright_python.sync_playwright import Axe

    results: Any = Axe().run(page)
    # axe ran on this page's own content: it found rules that pass, not an empty page.
    assert results.response["passes"], page.url
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]
    found[page.url.split("?")[0]] = bad
    print(
        f"axe {page.url.split('?')[0]}: {len(results.response['passes'])} rules passed, "
        f"{len(results.response['violations'])} violations, {len(bad)} serious or critical"
    )


def sign_in(page: Page, url: str, user: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{url}/staff/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()


def sign_in_as(page: Page, url: str, user: str) -> None:
    """Sign in through the English form, whatever language the pages turn to after."""
    page.goto(f"{url}/staff/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/staff/")


def wait_for_state(page: Page, state: str, timeout: float = 60) -> None:
    """Reload until the request page shows ``state`` (the page also refreshes itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        facts = page.locator("dl.facts").inner_text()
        if state in facts:
            return
        time.sleep(0.3)
        page.reload()
    raise AssertionError(f"the request did not reach '{state}': {facts}")


def test_a_privacy_officer_handles_the_most_urgent_request_in_the_browser(
    console: Console, company: Company, page: Page
) -> None:
    (_, email), (_, later) = customers(company, 2)
    urgent = console.file("erasure", [{"kind": "email", "value": email}])
    other = console.file("access", [{"kind": "email", "value": later}])
    console.due_in(urgent, 3)
    accessibility: dict[str, list[str]] = {}
    page.goto(f"{console.url}/staff/login")
    check_accessible(page, accessibility)

    sign_in(page, console.url, "dpo")
    check_accessible(page, accessibility)
    first_row = page.locator("table.inbox tbody tr").first
    expect(first_row).to_contain_text(urgent)
    expect(first_row).to_contain_text("3 days")
    expect(first_row).to_contain_text("approval (four eyes)")
    assert other in page.locator("table.inbox tbody").inner_text()

    first_row.get_by_role("link", name=urgent).click()
    expect(page.get_by_role("heading", name=re.compile("Erasure"))).to_be_visible()
    assert email not in page.content(), "identities stay masked until a purpose is named"
    page.get_by_role("button", name="Show personal data and plan").click()
    expect(page.get_by_role("heading", name="Plan")).to_be_visible()
    plan = page.locator("section[aria-labelledby=h-plan]").inner_text()
    assert "crm" in plan, plan
    assert "deleted" in plan, plan
    assert email in page.content()
    check_accessible(page, accessibility)

    page.get_by_role("button", name="Approve the plan").click()
    page.get_by_role("button", name="Run the request").click()
    wait_for_state(page, "completed")
    check_accessible(page, accessibility)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the receipt").click()
    receipt = Path(download.value.path()).read_text("utf-8")
    assert '"request_type": "erasure"' in receipt
    assert email not in receipt

    page.goto(f"{console.url}/staff/overview")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert page.locator("svg[role=img]").count() == 3
    check_accessible(page, accessibility)
    page.goto(f"{console.url}/staff/datamap")
    expect(page.get_by_role("heading", name="Data map", exact=True)).to_be_visible()
    check_accessible(page, accessibility)
    console.failed_retention_run()
    page.get_by_role("link", name="Retention").click()
    expect(page.get_by_role("heading", name="Retention", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="What comes due")).to_be_visible()
    expect(page.get_by_role("heading", name="Runs that need attention")).to_be_visible()
    attention = page.locator("section[aria-labelledby=h-attention]")
    attention.locator("summary").click()
    expect(attention.get_by_text("crm-customers")).to_be_visible()
    check_accessible(page, accessibility)

    assert {} == {url: found for url, found in accessibility.items() if found}


def test_a_review_is_resolved_in_the_browser(
    console: Console, company: Company, page: Page
) -> None:
    (first, email), (second, _) = customers(company, 2)
    request_id = console.file(
        "access",
        [{"kind": "email", "value": email}, {"kind": "customer_id", "value": str(second)}],
    )
    sign_in(page, console.url, "dpo")
    page.goto(f"{console.url}/staff/requests/{request_id}")
    page.get_by_role("button", name="Run the request").click()
    wait_for_state(page, "needs review")
    page.get_by_role("button", name="Show personal data and plan").click()
    review = page.locator("section[aria-labelledby=h-review]")
    expect(review).to_be_visible()
    for group in review.locator("fieldset").all():
        record = group.locator("legend").inner_text()
        choice = "The subject's" if record.endswith(f":{first}") else "Exclude"
        group.get_by_label(choice).check()
    review.get_by_label("Reason").fill("the second customer id belongs to a namesake")
    review.get_by_role("button", name="Save the review and run on").click()
    wait_for_state(page, "completed")
    timeline = page.locator("table.timeline").inner_text()
    assert "the second customer id belongs to a namesake" in timeline


def test_an_auditor_sees_no_run_button_and_the_server_refuses_the_form(
    console: Console, company: Company, page: Page
) -> None:
    [(_, email)] = customers(company, 1)
    request_id = console.file("access", [{"kind": "email", "value": email}])
    sign_in(page, console.url, "revisor")
    page.goto(f"{console.url}/staff/requests/{request_id}")
    expect(page.get_by_role("heading", name=re.compile("Access"))).to_be_visible()
    assert 0 == page.get_by_role("button", name="Run the request").count()
    assert 0 == page.get_by_role("button", name="Show personal data and plan").count()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(
        f"{console.url}/staff/requests/{request_id}/run",
        form={"csrf_token": token or ""},
        headers={"Accept": "text/html"},
    )
    assert 403 == refused.status, refused.text()
    assert (
        "Your role does not allow this" in refused.text()
        or "lacks the permission" in refused.text()
    )


def test_screens_in_both_languages(console: Console, company: Company, page: Page) -> None:
    [(_, email)] = customers(company, 1)
    request_id = console.file("erasure", [{"kind": "email", "value": email}])
    console.due_in(request_id, 3)
    sign_in(page, console.url, "dpo")
    folder = screenshots()
    shown: dict[str, str] = {}
    for lang, switch in (("en", "Norsk"), ("nb", "English")):
        for name, path in (
            ("inbox", "/staff/"),
            ("request", f"/staff/requests/{request_id}?purpose=legal_compliance"),
            ("overview", "/staff/overview"),
        ):
            page.goto(f"{console.url}{path}")
            assert lang == page.locator("html").get_attribute("lang")
            shown[f"{name}-{lang}"] = page.locator("h1").inner_text()
            if folder is not None:
                page.screenshot(path=str(folder / f"console-{name}-{lang}.png"), full_page=True)
        page.get_by_role("button", name=switch).click()
    assert ("Requests", "Henvendelser") == (shown["inbox-en"], shown["inbox-nb"])
    assert ("Overview", "Oversikt") == (shown["overview-en"], shown["overview-nb"])
    assert shown["request-nb"].startswith("Sletting")


def test_the_language_is_the_users_setting_in_a_new_browser(
    console: Console, browser: Browser, page: Page
) -> None:
    sign_in(page, console.url, "dpo")
    page.get_by_role("button", name="Norsk").click()
    expect(page.get_by_role("heading", name="Henvendelser")).to_be_visible()
    # Another browser, in English, that never saw the switch: signed out it is English,
    # signed in as the same person it is Norwegian, from the store, not a cookie.
    other = browser.new_context(locale="en-GB")
    try:
        fresh = other.new_page()
        sign_in_as(fresh, console.url, "dpo")
        expect(fresh.get_by_role("heading", name="Henvendelser")).to_be_visible()
        assert "nb" == fresh.locator("html").get_attribute("lang")
        assert "personvern-console-lang" not in {c["name"] for c in other.cookies()}
        fresh.goto(f"{console.url}/staff/retention")
        expect(fresh.get_by_role("heading", name="Sletting etter lagringstid")).to_be_visible()
    finally:
        other.close()
    # The auditor, who chose nothing, still gets the browser's language.
    auditor = browser.new_context(locale="en-GB")
    try:
        sign_in(auditor.new_page(), console.url, "revisor")
    finally:
        auditor.close()


def test_the_privacy_centre_pages_are_accessible(console: Console, page: Page) -> None:
    accessibility: dict[str, list[str]] = {}
    for path in ("/", "/privacy/", "/privacy/file/access", "/privacy/file/rectification"):
        page.goto(f"{console.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        check_accessible(page, accessibility)
    for path in ("/privacy/status", "/privacy/consents"):
        page.goto(f"{console.url}{path}")
        check_accessible(page, accessibility)
    assert {} == {url: found for url, found in accessibility.items() if found}
