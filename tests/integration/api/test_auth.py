"""Every non-public route needs a token; the token's role decides what it may do."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from personvern.domain.roles import Role
from personvern.security.tokens import revoke_token
from tests.integration.api.conftest import TokenFactory, bearer

#: The only operations anyone may call without a token (design: public endpoints).
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/livez"),
    ("GET", "/api/v1/notice"),
    ("GET", "/api/v1/cookies"),
    ("POST", "/api/v1/requests"),
    ("POST", "/api/v1/requests/{request_id}/verify"),
    ("POST", "/api/v1/requests/{request_id}/resend-code"),
    # The signed, expiring link in the path is the credential.
    ("GET", "/api/v1/downloads/{token}"),
    # The cookie banner and the collector, called from visitors' browsers (docs/banner.md).
    ("GET", "/banner.js"),
    ("GET", "/api/v1/banner/config"),
    ("POST", "/api/v1/banner/choices"),
    ("POST", "/api/v1/events"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operations(app: FastAPI) -> list[tuple[str, str]]:
    schema = app.openapi()
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in HTTP_METHODS
    )


def concrete(path: str) -> str:
    """A path with every {parameter} filled in, so the route matches."""
    return re.sub(r"\{[^}]+\}", "1", path)


def unprotected(app: FastAPI, client: TestClient) -> dict[tuple[str, str], int]:
    """Operations outside PUBLIC that do not answer 401 problem+json without a token."""
    answers = {
        (method, path): client.request(method, concrete(path))
        for method, path in operations(app)
        if (method, path) not in PUBLIC
    }
    return {
        op: r.status_code
        for op, r in answers.items()
        if (r.status_code, r.headers["content-type"]) != (401, "application/problem+json")
    }


def test_every_route_outside_the_public_allowlist_needs_a_token(
    app: FastAPI, client: TestClient
) -> None:
    ops = set(operations(app))
    assert PUBLIC <= ops, "the allowlist names a route that no longer exists"
    assert ops - PUBLIC, "expected protected routes in the schema"
    assert {} == unprotected(app, client)


def test_the_route_check_catches_an_unprotected_route(app: FastAPI, client: TestClient) -> None:
    @app.get("/api/v1/leak/{item_id}")
    def leak(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    app.openapi_schema = None  # the schema is cached; rebuild it with the new route
    assert {("GET", "/api/v1/leak/{item_id}"): 200} == unprotected(app, client)


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI wraps each one)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


#: Pages for people, not API operations, kept out of the schema on purpose.
PAGES = {"/"}


def test_no_route_hides_from_the_schema(app: FastAPI) -> None:
    # A route left out of OpenAPI would also escape the test above.
    routes = [route for route in api_routes(app.routes) if route.path not in PAGES]
    assert len(routes) == len(operations(app)), "the walk must find every operation"
    assert [] == [r.path for r in routes if not r.include_in_schema]


def test_protected_routes_declare_the_bearer_scheme(app: FastAPI) -> None:
    schema = app.openapi()
    for method, path in operations(app):
        if (method, path) in PUBLIC:
            continue
        security = schema["paths"][path][method.lower()].get("security")
        assert [{"personvern API token": []}] == security, (method, path)


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC))
def test_public_routes_answer_without_a_token(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert 401 != response.status_code
    if response.status_code == 403:
        # A download refuses a link that is not one of ours, whoever asks.
        assert path.startswith("/api/v1/downloads/")
        assert "Download link not valid" == response.json()["title"]


def test_without_a_token_the_answer_is_401_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/datamap")
    assert 401 == response.status_code
    assert "application/problem+json" == response.headers["content-type"]
    assert "Bearer" == response.headers["www-authenticate"]
    assert {
        "type": "about:blank",
        "title": "Authentication required",
        "status": 401,
        "detail": "this endpoint needs credentials",
        "instance": "/api/v1/datamap",
        "hint": "send `Authorization: Bearer <token>`; create one with `personvern token create`",
    } == response.json()


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({"Authorization": "Bearer pv_" + "x" * 43}, "unknown API token"),
        ({"Authorization": "Bearer not-a-token"}, "the credentials are not recognised"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "this endpoint needs credentials"),
    ],
)
def test_bad_credentials_are_401(client: TestClient, headers: dict[str, str], detail: str) -> None:
    response = client.get("/api/v1/ropa", headers=headers)
    assert (401, detail) == (response.status_code, response.json()["detail"])


def test_a_revoked_token_is_401(app: FastAPI, client: TestClient, make_token: TokenFactory) -> None:
    token = make_token(Role.ADMIN)
    assert 200 == client.get("/api/v1/datamap", headers=bearer(token)).status_code
    with app.state.context.application.unit_of_work() as uow:
        revoke_token(uow.session, 1)
    response = client.get("/api/v1/datamap", headers=bearer(token))
    assert 401 == response.status_code
    assert response.json()["detail"].endswith("was revoked")


@pytest.mark.parametrize("role", [Role.AGENT, Role.MARKETING_SYSTEM])
@pytest.mark.parametrize("path", ["/api/v1/datamap", "/api/v1/ropa"])
def test_a_role_without_the_permission_is_403(
    client: TestClient, make_token: TokenFactory, role: Role, path: str
) -> None:
    response = client.get(path, headers=bearer(make_token(role)))
    assert 403 == response.status_code
    assert "application/problem+json" == response.headers["content-type"]
    body = response.json()
    assert ("Forbidden", 403) == (body["title"], body["status"])
    assert body["detail"].startswith(f"role '{role}' lacks the permission")
    assert "roles that have it: admin, privacy_officer, auditor" == body["hint"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PRIVACY_OFFICER, Role.AUDITOR])
@pytest.mark.parametrize("path", ["/api/v1/datamap", "/api/v1/ropa"])
def test_the_register_roles_may_read(
    client: TestClient, make_token: TokenFactory, role: Role, path: str
) -> None:
    assert 200 == client.get(path, headers=bearer(make_token(role))).status_code
