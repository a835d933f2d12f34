"""The staff console in tests: its route rules, and a browser-like client signed in a role.

The rule of a console page is read off the page itself (``page_requires(...)`` in its
dependencies), so the route x role test compares what the pages enforce with the role
table, as the API's test does with ``x-permissions``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from personvern.api.console.pages import MOUNT_PATH, PageRequirement, lifetime
from personvern.api.context import AppContext
from personvern.domain.roles import Permission, Role
from personvern.security.principal import Principal
from personvern.security.staff_sessions import open_session

#: Where TestClient's requests go; https, so the Secure __Host- cookies are sent back.
BASE_URL = "https://testserver"
SESSION_COOKIE = "__Host-personvern-staff"
#: Console pages anyone may open: signing in and out, the language switch, the stylesheet.
PUBLIC_PAGES = frozenset(
    {
        ("GET", "/login"),
        ("POST", "/login"),
        ("GET", "/login/sso"),
        ("GET", "/callback"),
        ("POST", "/logout"),
        ("POST", "/language"),
        ("GET", "/static/console.css"),
    }
)


@dataclass(frozen=True)
class PageRule:
    """Who may open one console page, as the page declares it."""

    method: str
    path: str
    permissions: frozenset[Permission]

    @property
    def public(self) -> bool:
        """Whether the page is one of the public ones."""
        return (self.method, self.path) in PUBLIC_PAGES


def console_app(app: FastAPI) -> FastAPI:
    """The console application mounted in ``app``."""
    for route in app.routes:
        if isinstance(route, Mount) and route.path == MOUNT_PATH:
            assert isinstance(route.app, FastAPI)
            return route.app
    raise AssertionError("the console is not mounted")


def _requirements(dependant: Dependant) -> Iterator[PageRequirement]:
    if isinstance(dependant.call, PageRequirement):
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _requirements(sub)


def _flat(items: Iterable[Any]) -> Iterator[Any]:
    """Every route, also those inside included routers."""
    for route in items:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes)
        else:
            yield route


def page_rules(app: FastAPI) -> list[PageRule]:
    """The rule of every console page of ``app`` (HEAD left out: it follows GET)."""
    return rules_of(console_app(app))


def rules_of(pages: FastAPI) -> list[PageRule]:
    """The rule of every page of the console application ``pages``."""
    return [
        PageRule(
            method,
            route.path,
            frozenset(requirement.permission for requirement in _requirements(route.dependant)),
        )
        for route in _flat(pages.routes)
        if isinstance(route, APIRoute)
        for method in sorted(route.methods - {"HEAD"})
    ]


@contextmanager
def signed_in(app: FastAPI, role: Role, subject: str | None = None) -> Iterator[TestClient]:
    """A client on the started app with a live console session in ``role``."""
    context: AppContext = app.state.context
    principal = Principal(subject=subject or f"local:{role.value}", role=role, via="oidc")
    # Started first: the app migrates its store at start-up.
    with TestClient(app, base_url=BASE_URL) as client:
        with context.application.unit_of_work() as uow:
            session_id = open_session(uow.session, principal, lifetime(context.settings))
        client.cookies.set(SESSION_COOKIE, session_id, path="/")
        yield client


def csrf_token(client: TestClient, page: str = "/staff/login") -> str:
    """The CSRF token a form on ``page`` carries (its cookie is now in the client)."""
    response = client.get(page)
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, f"no form token on {page}: {response.status_code}"
    return match.group(1)
