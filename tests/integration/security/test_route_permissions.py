"""Least privilege: every route, called with every role's token and with none, against the matrix.

The expectation comes from two declarations only: the permission each route demands
(``require(...)`` on the route, published by the app as ``x-permissions`` in OpenAPI) and
the role x permission matrix in personvern.domain.roles. A route that has neither a
permission nor a place among the public routers has no rule, and fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.domain.roles import ROLE_PERMISSIONS, Permission, Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from tests.support.console import page_rules

STAFF_MOUNT = "/staff"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
#: Pages for people outside the API schema: the start page, the API docs and their files.
#: Anything else outside the schema is a route without a rule.
DOCUMENTATION = {
    "/",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs.js",
    "/api/v1/docs/oauth2-redirect",
    "/api/v1/docs/oauth2-redirect.js",
}
DOCUMENTATION_MOUNTS = {"/api/v1/docs/assets"}
#: The privacy centre: public pages for data subjects (tested in tests/integration/intake).
PUBLIC_MOUNTS = {"/privacy"}
CALLERS: tuple[Role | None, ...] = (None, *Role)


@dataclass(frozen=True)
class Rule:
    """Who may call one operation, as the app declares it."""

    method: str
    path: str
    permissions: frozenset[Permission]
    public: bool

    def admits(self, caller: Role | None) -> bool:
        """Whether ``caller`` (None: no credentials) gets past authentication and authorisation."""
        if caller is None:
            return self.public
        return self.permissions <= ROLE_PERMISSIONS[caller]


def rules(app: FastAPI) -> tuple[list[Rule], list[str]]:
    """The rule of every operation in the schema, and the operations that have none."""
    found, missing = [], []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            permissions = frozenset(Permission(p) for p in operation.get("x-permissions", ()))
            public = bool(operation.get("x-public"))
            if not permissions and not public:
                missing.append(f"{method.upper()} {path}")
                continue
            found.append(Rule(method.upper(), path, permissions, public))
    return found, missing


def routes(items: Iterable[Any]) -> Iterator[Any]:
    """Every route object of the app, also inside included routers."""
    for route in items:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from routes(inner.routes)
        else:
            yield route


def unschemed(app: FastAPI) -> list[str]:
    """Routes outside the schema that are not the API docs: they would escape the walk."""
    escaped = []
    for route in routes(app.routes):
        if isinstance(route, APIRoute):
            if not route.include_in_schema and route.path not in DOCUMENTATION:
                escaped.append(f"{sorted(route.methods)} {route.path}")
        elif isinstance(route, Mount) and route.path == STAFF_MOUNT:
            # The console's own test walks its pages (tests/integration/console).
            escaped.extend(
                f"{rule.method} {STAFF_MOUNT}{rule.path}"
                for rule in page_rules(app)
                if not rule.public and not rule.permissions
            )
        elif isinstance(route, Mount):
            if route.path not in DOCUMENTATION_MOUNTS | PUBLIC_MOUNTS:
                escaped.append(f"mount {route.path}")
        elif isinstance(route, Route):
            if route.path not in DOCUMENTATION:
                escaped.append(f"{sorted(route.methods or ())} {route.path}")
        else:
            escaped.append(repr(route))
    return escaped


def concrete(path: str) -> str:
    """A path with every {parameter} filled in, so the route matches."""
    return re.sub(r"\{[^}]+\}", "1", path)


def refused(response: Any) -> bool:
    """Whether authentication or authorisation turned the call away.

    A 403 counts only when it is the permission check's: a download link that is not
    valid is also 403, for everyone, and says so in its title.
    """
    if response.status_code == 401:
        return True
    return response.status_code == 403 and response.json().get("title") == "Forbidden"


@pytest.fixture
def app(tmp_path: Path, example_datamap_path: Path) -> FastAPI:
    """The app serving the example company on SQLite in tmp_path."""
    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None)
    return create_app(settings, example_datamap_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client on the started app."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def tokens(app: FastAPI, client: TestClient) -> dict[Role, str]:
    """A real API token for each role."""
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        return {
            role: issue_token(uow.session, name=f"route test {role}", role=role).token
            for role in Role
        }


def test_every_route_has_a_rule(app: FastAPI) -> None:
    found, missing = rules(app)
    assert found, "expected operations in the schema"
    assert [] == missing, "routes with no permission and not public: add require(...)"
    assert [] == unschemed(app)
    api_routes = [r for r in routes(app.routes) if isinstance(r, APIRoute) and r.include_in_schema]
    assert len(api_routes) == len(found), "the walk of app.routes must meet every operation"


def test_a_route_without_a_rule_is_caught(app: FastAPI) -> None:
    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    _, missing = rules(app)
    assert ["GET /api/v1/forgotten"] == missing


def test_every_route_with_every_role_and_none_matches_the_matrix(
    app: FastAPI, client: TestClient, tokens: dict[Role, str], capsys: pytest.CaptureFixture[str]
) -> None:
    found, _ = rules(app)
    mismatches, checked = [], 0
    for rule in found:
        for caller in CALLERS:
            headers = {"Authorization": f"Bearer {tokens[caller]}"} if caller else {}
            response = client.request(rule.method, concrete(rule.path), headers=headers)
            checked += 1
            if refused(response) == rule.admits(caller):
                mismatches.append(
                    f"{rule.method} {rule.path} as {caller or 'anonymous'}: "
                    f"{response.status_code}, the matrix says "
                    f"{'allow' if rule.admits(caller) else 'refuse'}"
                )
    with capsys.disabled():
        print(f"\nroute x role: {len(found)} operations x {len(CALLERS)} callers = {checked} calls")
    assert len(found) * len(CALLERS) == checked
    assert [] == mismatches


def test_the_walk_notices_a_route_that_enforces_less_than_it_declares(
    app: FastAPI, client: TestClient, tokens: dict[Role, str]
) -> None:
    # A route claiming a permission it does not check: the calls reveal it.
    @app.get("/api/v1/claims", openapi_extra={"x-permissions": ["audit:read"]})
    def claims() -> dict[str, str]:
        return {}

    rule = Rule("GET", "/api/v1/claims", frozenset({Permission.AUDIT_READ}), public=False)
    response = client.get(rule.path, headers={"Authorization": f"Bearer {tokens[Role.AGENT]}"})
    assert not rule.admits(Role.AGENT)
    assert not refused(response)


def test_staff_pages_without_a_session_send_the_browser_to_sign_in(client: TestClient) -> None:
    home = client.get("/staff/", follow_redirects=False)
    assert (303, "/staff/login") == (home.status_code, home.headers["location"])
    # Sign-out changes state: without the page's CSRF token it is refused.
    assert 403 == client.post("/staff/logout").status_code
