"""Security headers on every answer; the pages people open still work under the CSP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.api.security_headers import CONTENT_SECURITY_POLICY, HSTS
from personvern.settings import Settings
from tests.support.browser import OfflinePage
from tests.support.live_server import serving

#: One of each kind of answer: a page, a document, JSON, a refusal, a miss, a static file.
PATHS = (
    "/api/v1/docs",
    "/api/v1/notice",
    "/healthz",
    "/api/v1/datamap",
    "/api/v1/nowhere",
    "/api/v1/docs/assets/swagger-ui.css",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded settings in tmp_path."""
    return Settings(home=tmp_path / "home", database_url=None, datamap=None)


@pytest.fixture
def app(settings: Settings, example_datamap_path: Path) -> FastAPI:
    """The app serving the example company."""
    return create_app(settings, example_datamap_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client on the started app, over plain HTTP."""
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert CONTENT_SECURITY_POLICY == headers["content-security-policy"]
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "nosniff" == headers["x-content-type-options"]
    assert "no-referrer" == headers["referrer-policy"]
    assert "DENY" == headers["x-frame-options"]
    assert "same-origin" == headers["cross-origin-opener-policy"]
    # Plain HTTP: HSTS would be ignored, and must not pin a development server to TLS.
    assert "strict-transport-security" not in headers


def test_hsts_is_sent_over_tls(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        assert HSTS == client.get("/healthz").headers["strict-transport-security"]


def test_answers_with_personal_data_are_not_cached(client: TestClient) -> None:
    assert "no-store" == client.get("/healthz").headers["cache-control"]
    assert "no-store" == client.get("/api/v1/requests/1").headers["cache-control"]
    # Swagger UI's files may be cached and revalidated.
    assert "no-store" != client.get("/api/v1/docs/assets/swagger-ui.css").headers.get(
        "cache-control"
    )


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_the_docs_and_a_notice_work_in_a_browser_under_the_csp(
    settings: Settings, example_datamap_path: Path, offline_page: OfflinePage
) -> None:
    page = offline_page.page
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    with serving(create_app(settings, example_datamap_path)) as base_url:
        page.goto(f"{base_url}/api/v1/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        operations = page.locator(".opblock").count()
        page.goto(f"{base_url}/api/v1/notice?format=html")
        heading = page.inner_text("h1")
    violations = [m for m in messages if "Content Security Policy" in m]
    assert [] == violations
    assert [] == offline_page.blocked
    assert operations > 10, "Swagger UI ran under the CSP and listed the operations"
    assert heading.strip()


def test_a_405_names_every_method_of_the_path(client: TestClient) -> None:
    # GET (protected router) and POST (public router) share the path.
    response = client.delete("/api/v1/requests")
    assert (405, "GET, POST") == (response.status_code, response.headers["allow"])
