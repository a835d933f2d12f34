"""The console language is the signed-in user's setting, kept in the store, not the browser.

A member of staff picks English with the language switch; a new sign-in from a browser
that never saw the switch (no cookie, a Norwegian Accept-Language) shows English. Run on
SQLite, PostgreSQL and MariaDB, with local accounts; and for a single sign-on subject.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.api.console.language import LANGUAGE_COOKIE
from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.security.staff_accounts import create_account
from personvern.settings import Settings
from personvern.store.migrate import upgrade_to_head
from personvern.store.staff_preferences import StaffPreferenceRepository
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.console import BASE_URL, csrf_token, signed_in

PASSWORD = "a long and honest passphrase"
NORWEGIAN_BROWSER = {"Accept-Language": "nb-NO,nb;q=0.9", "Accept": "text/html"}


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb),
    ]
)
def store_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastAPI]:
    """The example company's app on a fresh store of each kind, with the account "kari"."""
    home = tmp_path / "home"
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'personvern.db'}"
    else:
        url = request.getfixturevalue(request.param)
    upgrade_to_head(url)
    app = create_app(Settings(home=home, database_url=url, datamap=None), EXAMPLE_DATAMAP)
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        create_account(uow.session, "kari", Role.AGENT, PASSWORD, created_by="test")
    yield app
    context.application.store.dispose()


def sign_in(client: TestClient) -> None:
    token = csrf_token(client)
    answer = client.post(
        "/staff/login",
        data={"csrf_token": token, "username": "kari", "password": PASSWORD},
        headers=NORWEGIAN_BROWSER,
        follow_redirects=False,
    )
    assert (303, "/staff/") == (answer.status_code, answer.headers["location"]), answer.text


def page_language(client: TestClient, path: str = "/staff/") -> str:
    page = client.get(path, headers=NORWEGIAN_BROWSER)
    assert 200 == page.status_code, page.text
    match = re.search(r'<html lang="([a-z]+)">', page.text)
    assert match, page.text[:200]
    return match.group(1)


def switch(client: TestClient, lang: str) -> None:
    token = csrf_token(client, "/staff/")
    answer = client.post(
        "/staff/language",
        data={"csrf_token": token, "lang": lang, "next": "/staff/"},
        headers=NORWEGIAN_BROWSER,
        follow_redirects=False,
    )
    assert 303 == answer.status_code, answer.text


def test_the_language_follows_the_user_to_a_fresh_browser(store_app: FastAPI) -> None:
    with TestClient(store_app, base_url=BASE_URL) as first:
        sign_in(first)
        assert "nb" == page_language(first), "the Norwegian browser decides at first"
        switch(first, "en")
        assert "en" == page_language(first)
        first.post("/staff/logout", data={"csrf_token": csrf_token(first, "/staff/")})

    # Another browser: no cookies at all, asking for Norwegian.
    with TestClient(store_app, base_url=BASE_URL) as fresh:
        assert "nb" == page_language(fresh, "/staff/login"), "signed out: the browser decides"
        sign_in(fresh)
        assert LANGUAGE_COOKIE not in fresh.cookies
        assert "en" == page_language(fresh)
        assert "en" == page_language(fresh, "/staff/overview")
        # Switching back is saved too, and still overrides the browser.
        switch(fresh, "nb")

    context: AppContext = store_app.state.context
    with context.application.unit_of_work() as uow:
        assert "nb" == StaffPreferenceRepository(uow.session).language("local:kari")
    with TestClient(store_app, base_url=BASE_URL) as third:
        sign_in(third)
        assert "nb" == page_language(third, "/staff/")


def test_a_single_sign_on_user_keeps_the_setting_by_subject(app: FastAPI) -> None:
    subject = "oidc:user-0001"
    with signed_in(app, Role.PRIVACY_OFFICER, subject) as first:
        switch(first, "en")
    with signed_in(app, Role.PRIVACY_OFFICER, subject) as fresh:
        assert LANGUAGE_COOKIE not in fresh.cookies
        assert "en" == page_language(fresh)
    # Another person signed in on their own browser keeps the browser's language.
    with signed_in(app, Role.PRIVACY_OFFICER, "oidc:user-0002") as other:
        assert "nb" == page_language(other)


def test_signed_out_the_switch_only_sets_the_cookie(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        token = csrf_token(client)
        client.post(
            "/staff/language",
            data={"csrf_token": token, "lang": "en", "next": "/staff/login"},
            follow_redirects=False,
        )
        assert "en" == client.cookies.get(LANGUAGE_COOKIE)
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        repository = StaffPreferenceRepository(uow.session)
        assert (None, None) == (repository.language("local:kari"), repository.language(""))
