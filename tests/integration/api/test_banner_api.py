"""The banner's public routes: the script (cacheable, cross-origin, in budget), choices, events."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.settings import Settings
from personvern.store.consent_models import ConsentRecordRow
from personvern.store.web_event_models import WebEventRow
from tests.support.banner_map import map_with_marketing

#: The issue's budget for the banner script, gzipped.
BUDGET = 8 * 1024
VISITOR = "0123456789abcdef0123456789abcdef"
ORIGIN = {"Origin": "https://www.nordicworkspace.example"}


def version(client: TestClient) -> str:
    answer: str = client.get("/api/v1/banner/config").json()["v"]
    return answer


def choice(client: TestClient, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "visitor_id": VISITOR,
        "version": version(client),
        "language": "en",
        "choices": {"analytics": True},
    }
    body.update(changes)
    return body


def rows(app: FastAPI, model: Any) -> int:
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_the_script_is_javascript_cacheable_cross_origin_and_within_budget(
    client: TestClient,
) -> None:
    response = client.get("/banner.js", headers=ORIGIN)
    assert 200 == response.status_code
    assert response.headers["content-type"].startswith("text/javascript")
    assert "cross-origin" == response.headers["cross-origin-resource-policy"]
    assert "*" == response.headers["access-control-allow-origin"]
    assert "access-control-allow-credentials" not in response.headers
    assert "public" in response.headers["cache-control"]
    assert response.text.startswith("/* personvern cookie banner")
    assert "/*CONFIG*/" not in response.text
    # Its configuration is the one the config route answers.
    assert version(client) in response.text
    size = len(gzip.compress(response.content, compresslevel=9))
    assert size <= BUDGET, f"banner.js is {size} bytes gzipped, over the {BUDGET} budget"
    again = client.get("/banner.js", headers={"If-None-Match": response.headers["etag"]})
    assert 304 == again.status_code
    assert b"" == again.content


def test_the_script_with_a_bigger_map_stays_within_budget(tmp_path: Path) -> None:
    from tests.conftest import EXAMPLE_DATAMAP

    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None, auto_migrate=None)
    app = create_app(settings, map_with_marketing(EXAMPLE_DATAMAP, tmp_path / "map"))
    with TestClient(app) as client:
        body = client.get("/banner.js").content
    assert len(gzip.compress(body, compresslevel=9)) <= BUDGET


def test_the_config_in_one_language_and_an_unknown_one_refused(client: TestClient) -> None:
    config = client.get("/api/v1/banner/config", params={"lang": "nb"}).json()
    assert ["nb"] == config["langs"]
    assert ["nb"] == list(config["t"])
    assert "Avvis alle" == config["t"]["nb"]["reject"]
    assert 404 == client.get("/api/v1/banner/config", params={"lang": "sv"}).status_code


def test_a_preflight_from_any_origin_is_answered_without_credentials(client: TestClient) -> None:
    for path in ("/api/v1/banner/choices", "/api/v1/events"):
        response = client.options(
            path,
            headers={
                **ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert 204 == response.status_code
        assert "*" == response.headers["access-control-allow-origin"]
        assert "POST" in response.headers["access-control-allow-methods"]
        assert "Content-Type" in response.headers["access-control-allow-headers"]
        assert "access-control-allow-credentials" not in response.headers
    # Other routes keep the same-origin default.
    other = client.options("/api/v1/requests", headers=ORIGIN)
    assert "access-control-allow-origin" not in other.headers


def test_a_choice_is_recorded_and_its_errors_carry_cors_too(
    app: FastAPI, client: TestClient
) -> None:
    response = client.post("/api/v1/banner/choices", json=choice(client), headers=ORIGIN)
    assert 201 == response.status_code, response.text
    assert "*" == response.headers["access-control-allow-origin"]
    answer = response.json()
    assert {"analytics": True} == answer["categories"]
    assert 1 == len(answer["records"])
    assert 1 == rows(app, ConsentRecordRow)
    stale = client.post(
        "/api/v1/banner/choices", json=choice(client, version="0" * 16), headers=ORIGIN
    )
    assert 409 == stale.status_code
    assert "*" == stale.headers["access-control-allow-origin"]
    assert 1 == rows(app, ConsentRecordRow)


def test_the_sec_gpc_header_is_a_refusal_of_marketing(tmp_path: Path) -> None:
    from tests.conftest import EXAMPLE_DATAMAP

    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None, auto_migrate=None)
    app = create_app(settings, map_with_marketing(EXAMPLE_DATAMAP, tmp_path / "map"))
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/banner/choices",
            json=choice(client, choices={"analytics": True, "marketing": True}),
            headers={"Sec-GPC": "1"},
        )
    assert 201 == response.status_code, response.text
    assert {"analytics": True, "marketing": False} == response.json()["categories"]
    assert ["marketing"] == response.json()["refused_by_gpc"]
    assert response.json()["gpc"] is True


@pytest.mark.parametrize(
    "changes",
    [
        {"visitor_id": "not-a-random-id"},
        {"visitor_id": "0123456789ABCDEF0123456789ABCDEF"},
        {"choices": {"analytics": "yes"}},
        {"choices": {"analytics": 1}},
        {"choices": {"Analytics!": True}},
        {"choices": {"tracking": True, "analytics": True}},
        {"choices": {}},
        {"language": "sv"},
        {"language": "english"},
        {"gpc": "1"},
        {"extra": "field"},
    ],
)
def test_a_malformed_choice_is_refused_and_nothing_is_recorded(
    app: FastAPI, client: TestClient, changes: dict[str, Any]
) -> None:
    response = client.post("/api/v1/banner/choices", json=choice(client, **changes))
    assert 422 == response.status_code, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 0 == rows(app, ConsentRecordRow)


def test_events_are_stored_only_after_analytics_consent(app: FastAPI, client: TestClient) -> None:
    event = {"visitor_id": VISITOR, "type": "page_view", "url": "https://example.no/?e=a%40b.no"}
    before = client.post("/api/v1/events", json=event, headers=ORIGIN)
    assert 202 == before.status_code
    assert {"stored": False} == before.json()
    assert "*" == before.headers["access-control-allow-origin"]
    assert 0 == rows(app, WebEventRow)
    client.post("/api/v1/banner/choices", json=choice(client))
    after = client.post("/api/v1/events", json=event)
    assert 201 == after.status_code
    assert {"stored": True} == after.json()
    client.post("/api/v1/banner/choices", json=choice(client, choices={"analytics": False}))
    assert {"stored": False} == client.post("/api/v1/events", json=event).json()
    assert 1 == rows(app, WebEventRow)


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "purchase"},
        {"url": "no-scheme"},
        {"url": "x" * 5000},
        {"time": "2020-01-01T00:00:00Z"},
        {"visitor_id": "kari@example.no"},
        {"extra": 1},
    ],
)
def test_a_malformed_event_is_refused(
    app: FastAPI, client: TestClient, changes: dict[str, Any]
) -> None:
    event = {"visitor_id": VISITOR, "type": "click", "url": "/"}
    event.update(changes)
    response = client.post("/api/v1/events", json=event)
    assert 422 == response.status_code, response.text
    assert 0 == rows(app, WebEventRow)
