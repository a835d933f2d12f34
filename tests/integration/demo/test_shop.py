"""The demo's shop page: the banner on a page under personvern's own CSP, in a browser."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.cli.demo import demo_app
from personvern.demo.shop import SHOP_PATH
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.browser import OfflinePage
from tests.support.live_server import serving


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    settings = Settings(home=tmp_path, secret_key="test-secret-key-0123456789abcdef")
    mailbox_path = tmp_path / "mailbox.sqlite"
    sqlite3.connect(mailbox_path).close()
    app, mailbox = demo_app(settings, EXAMPLE_DATAMAP, mailbox_path, "s" * 32)
    try:
        yield app
    finally:
        mailbox.close()


def test_the_page_embeds_the_banner_and_marks_its_trackers(app: FastAPI) -> None:
    with TestClient(app) as client:
        page = client.get(SHOP_PATH, params={"lang": "en"})
        assert 200 == page.status_code
        assert '<script src="/banner.js" data-track defer></script>' in page.text
        assert 'type="text/plain" data-category="analytics"' in page.text
        assert 200 == client.get(f"{SHOP_PATH}/analytics.js").status_code
        assert 422 == client.get(SHOP_PATH, params={"lang": "<x>"}).status_code


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_analytics_runs_only_after_it_is_accepted_under_personverns_csp(
    app: FastAPI, offline_page: OfflinePage
) -> None:
    page = offline_page.page
    fetched: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    with serving(app) as base:
        page.goto(f"{base}{SHOP_PATH}?lang=nb")
        page.get_by_role("dialog").wait_for(state="visible", timeout=15_000)
        assert "analytics: blocked" == page.inner_text("#analytics-state")
        page.get_by_role("button", name="Godta alle").click()
        page.wait_for_selector("text=analytics: running", timeout=10_000)
        page.get_by_role("link", name="Innstillinger for kapsler").click()
        assert page.get_by_label("Statistikk").is_checked()
    assert not any(url.endswith("/pixel.gif") for url in fetched)
    assert [] == offline_page.blocked
    assert [] == [e for e in errors if "Content Security Policy" in e]
