"""A state-changing form needs the page's CSRF token and must come from this site."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.api.csrf import FIELD, csrf_token, require_csrf
from personvern.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The app with a form page and the route it posts to, as a staff page would have."""
    app: FastAPI = create_app(Settings(home=tmp_path / "home", database_url=None, datamap=None))

    @app.get("/form", include_in_schema=False)
    def form(request: Request) -> HTMLResponse:
        response = HTMLResponse("")
        token = csrf_token(request, response, app.state.context.settings.secret())
        response.body = response.render(
            f'<form method="post" action="/form"><input name="{FIELD}" value="{token}"></form>'
        )
        response.headers["content-length"] = str(len(response.body))
        return response

    @app.post("/form", include_in_schema=False, dependencies=[Depends(require_csrf)])
    def submit() -> dict[str, bool]:
        return {"done": True}

    with TestClient(app) as client:
        yield client


def _token(client: TestClient) -> str:
    page = client.get("/form")
    found = re.search(r'value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_the_form_with_its_token_is_accepted(client: TestClient) -> None:
    response = client.post("/form", data={FIELD: _token(client)})
    assert (200, {"done": True}) == (response.status_code, response.json())


@pytest.mark.parametrize(
    ("data", "headers", "detail"),
    [
        ({}, {}, "the form's security token is missing or does not match"),
        ({FIELD: "0" * 64}, {}, "the form's security token is missing or does not match"),
        (None, {"Sec-Fetch-Site": "cross-site"}, "this form was sent from another site"),
        (None, {"Origin": "https://evil.example"}, "this form was sent from another site"),
    ],
)
def test_a_forged_or_cross_site_form_is_refused(
    client: TestClient, data: dict[str, str] | None, headers: dict[str, str], detail: str
) -> None:
    token = _token(client)
    response = client.post(
        "/form", data=data if data is not None else {FIELD: token}, headers=headers
    )
    assert (403, "application/problem+json") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert detail == response.json()["detail"]


def test_without_the_cookie_a_copied_token_is_refused(client: TestClient) -> None:
    token = _token(client)
    client.cookies.clear()
    assert 403 == client.post("/form", data={FIELD: token}).status_code
