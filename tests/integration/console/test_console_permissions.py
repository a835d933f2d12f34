"""Every console page, opened in every role and signed out, against the role table."""

from __future__ import annotations

import re

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from personvern.api.console.app import console_pages
from personvern.api.console.pages import page_requires
from personvern.domain.roles import ROLE_PERMISSIONS, Permission, Role
from tests.support.console import BASE_URL, csrf_token, page_rules, rules_of, signed_in


def concrete(path: str) -> str:
    """A path with every {parameter} filled in, so the route matches."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_console_page_is_public_or_states_a_permission(app: FastAPI) -> None:
    rules = page_rules(app)
    assert len(rules) > 10
    assert [] == [f"{r.method} {r.path}" for r in rules if not r.public and not r.permissions]


def test_a_page_without_a_permission_is_caught(app: FastAPI) -> None:
    pages = console_pages(app.state.context)

    @pages.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    @pages.get("/guarded", dependencies=[Depends(page_requires(Permission.AUDIT_READ))])
    def guarded() -> dict[str, str]:
        return {}

    unruled = [r.path for r in rules_of(pages) if not r.public and not r.permissions]
    assert ["/forgotten"] == unruled
    [rule] = [r for r in rules_of(pages) if r.path == "/guarded"]
    assert frozenset({Permission.AUDIT_READ}) == rule.permissions


def test_every_page_in_every_role_matches_the_role_table(app: FastAPI) -> None:
    rules = [rule for rule in page_rules(app) if not rule.public]
    mismatches: list[str] = []
    calls = 0
    for role in Role:
        with signed_in(app, role) as client:
            token = csrf_token(client)
            for rule in rules:
                data = {"csrf_token": token} if rule.method == "POST" else None
                response = client.request(
                    rule.method, concrete(f"/staff{rule.path}"), data=data, follow_redirects=False
                )
                calls += 1
                refused = response.status_code == 403 and "Forbidden" in response.text
                allowed = rule.permissions <= ROLE_PERMISSIONS[role]
                if refused == allowed:
                    mismatches.append(
                        f"{rule.method} {rule.path} as {role}: {response.status_code}, "
                        f"the table says {'allow' if allowed else 'refuse'}"
                    )
    assert calls == len(rules) * len(Role)
    assert [] == mismatches


def test_signed_out_every_page_sends_the_browser_to_sign_in(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        token = csrf_token(client)
        for rule in page_rules(app):
            if rule.public:
                continue
            data = {"csrf_token": token} if rule.method == "POST" else None
            response = client.request(
                rule.method, concrete(f"/staff{rule.path}"), data=data, follow_redirects=False
            )
            assert (303, "/staff/login") == (
                response.status_code,
                response.headers.get("location"),
            ), f"{rule.method} {rule.path}"
