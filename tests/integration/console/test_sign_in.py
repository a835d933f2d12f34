"""Signing in to the console with a local account, and the language switch."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.security.staff_accounts import create_account
from tests.support.console import BASE_URL, SESSION_COOKIE, csrf_token

PASSWORD = "a long and honest passphrase"
HTML = {"Accept": "text/html"}


def account(app: FastAPI, name: str = "kari") -> None:
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        create_account(uow.session, name, Role.AGENT, PASSWORD, created_by="test")


def post_login(client: TestClient, user: str, password: str) -> Any:
    token = csrf_token(client)
    return client.post(
        "/staff/login",
        data={"csrf_token": token, "username": user, "password": password},
        headers=HTML,
        follow_redirects=False,
    )


def test_the_right_password_opens_a_session_and_the_inbox(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        account(app)
        signed_in = post_login(client, "Kari", PASSWORD)
        assert (303, "/staff/") == (signed_in.status_code, signed_in.headers["location"])
        cookies = signed_in.headers.get_list("set-cookie")
        cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
        for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
            assert flag in cookie
        inbox = client.get("/staff/", headers={"Accept-Language": "en"})
        assert 200 == inbox.status_code
        assert "Signed in as kari" in inbox.text


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        account(app)
        wrong = post_login(client, "kari", "not the passphrase at all")
        unknown = post_login(client, "nobody", "not the passphrase at all")
        assert 401 == wrong.status_code == unknown.status_code
        assert SESSION_COOKIE not in client.cookies


def test_too_many_failures_lock_the_account_then_the_network(app: FastAPI) -> None:
    settings = app.state.context.settings
    with TestClient(app, base_url=BASE_URL) as client:
        account(app)
        codes = [
            post_login(client, "kari", f"wrong passphrase number {n}").status_code
            for n in range(settings.staff_lockout_attempts + 1)
        ]
        assert 429 == codes[-1], codes
        locked = post_login(client, "kari", PASSWORD)
        assert 429 == locked.status_code
        assert SESSION_COOKIE not in client.cookies


def test_the_login_form_needs_its_csrf_token(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        account(app)
        refused = client.post("/staff/login", data={"username": "kari", "password": PASSWORD})
        assert 403 == refused.status_code


def test_the_language_switch_remembers_the_choice_and_stays_on_the_site(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        token = csrf_token(client)
        switched = client.post(
            "/staff/language",
            data={"csrf_token": token, "lang": "en", "next": "/staff/login"},
            follow_redirects=False,
        )
        assert (303, "/staff/login") == (switched.status_code, switched.headers["location"])
        assert 'lang="en"' in client.get("/staff/login").text
        for elsewhere in ("https://evil.example/", "//evil.example/", "/staff/\\\\evil", "/api/v1"):
            away = client.post(
                "/staff/language",
                data={"csrf_token": token, "lang": "nb", "next": elsewhere},
                follow_redirects=False,
            )
            assert "/staff/" == away.headers["location"], elsewhere


def test_the_start_page_points_to_the_privacy_centre_and_the_console(app: FastAPI) -> None:
    with TestClient(app) as client:
        start = client.get("/", headers={"Accept-Language": "en"})
    assert 200 == start.status_code
    for target in ('href="/privacy/"', 'href="/staff/"', 'href="/api/v1/docs"'):
        assert target in start.text
