"""The API docs page (Swagger UI) works without internet: every file comes from the server."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from personvern.api.app import create_app
from personvern.settings import Settings
from tests.support.browser import OfflinePage
from tests.support.live_server import serving

DOCS = "/api/v1/docs"


class _Assets(HTMLParser):
    """The URLs a page loads through <script src> and <link href>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        found = dict(attrs).get(wanted) if wanted else None
        if found:
            self.urls.append(found)


def loaded_urls(page: str) -> list[str]:
    parser = _Assets()
    parser.feed(page)
    parser.close()
    return parser.urls


def test_the_docs_page_loads_its_files_from_this_server(client: TestClient) -> None:
    response = client.get(DOCS)
    assert (200, "text/html; charset=utf-8") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert [
        f"{DOCS}/assets/swagger-ui.css",
        f"{DOCS}/assets/favicon.png",
        f"{DOCS}/assets/swagger-ui-bundle.js",
        f"{DOCS}.js",
    ] == loaded_urls(response.text)
    # No other host anywhere on the page, nor in its start-up script.
    for text in (response.text, client.get(f"{DOCS}.js").text):
        assert [] == re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]", text)


@pytest.mark.parametrize(
    ("asset", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("favicon.png", "image/png"),
    ],
)
def test_each_file_of_the_docs_page_is_served(
    client: TestClient, asset: str, content_type: str
) -> None:
    response = client.get(f"{DOCS}/assets/{asset}")
    assert (200, content_type) == (response.status_code, response.headers["content-type"])
    assert len(response.content) > 1000


@pytest.mark.parametrize("other", ["redoc.standalone.js", "../core.py", "nope.js"])
def test_no_other_file_of_the_package_is_served(client: TestClient, other: str) -> None:
    assert 404 == client.get(f"{DOCS}/assets/{other}").status_code


def test_the_oauth2_redirect_page_is_local(client: TestClient) -> None:
    response = client.get(f"{DOCS}/oauth2-redirect")
    assert 200 == response.status_code
    assert [] == re.findall(r"https?://", response.text)
    # The page's start-up script is a file of its own (the CSP forbids inline script).
    assert f"oauth2RedirectUrl: window.location.origin + '{DOCS}/oauth2-redirect'" in (
        client.get(f"{DOCS}.js").text
    )


def test_the_docs_are_the_only_public_pages_outside_the_schema(app: FastAPI) -> None:
    # Routes outside OpenAPI escape the test that every operation needs a token; these
    # are the pages and files of the docs, which anyone may read, and the schema itself;
    # the staff console, which checks its own session and each page's permission
    # (tests/integration/console), and the privacy centre, public pages for data subjects
    # (tests/integration/intake/test_privacy_centre.py).
    outside = sorted(
        r.path for r in app.routes if isinstance(r, Route | Mount) and not isinstance(r, APIRoute)
    )
    assert [
        "/api/v1/docs",
        "/api/v1/docs.js",
        "/api/v1/docs/assets",
        "/api/v1/docs/oauth2-redirect",
        "/api/v1/docs/oauth2-redirect.js",
        "/api/v1/openapi.json",
        "/privacy",
        "/staff",
    ] == outside


def test_fastapis_cdn_docs_are_gone(client: TestClient) -> None:
    assert (404, 404) == (client.get("/docs").status_code, client.get("/redoc").status_code)


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_swagger_ui_renders_the_operations_in_a_browser_without_internet(
    settings: Settings, example_datamap_path: Path, offline_page: OfflinePage
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page = offline_page.page
    with serving(create_app(settings, example_datamap_path)) as base_url:
        page.goto(f"{base_url}{DOCS}")
        try:
            page.wait_for_selector(".opblock", timeout=30_000)
        except PlaywrightTimeoutError:
            pytest.fail(f"Swagger UI showed no operations; blocked: {offline_page.blocked}")
        title = page.inner_text(".info .title")
        file_request = page.locator(
            ".opblock-post:has(.opblock-summary-path[data-path='/api/v1/requests'])"
        )
        shown = file_request.count()
    assert [] == offline_page.blocked
    assert "personvern" == title.split()[0]
    assert 1 == shown
