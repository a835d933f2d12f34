"""Secrets come from the environment or from files; guessing tokens is slowed down (429)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings, SettingsError, load_settings

KEY = secrets.token_urlsafe(48)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No secret settings inherited from the caller's environment."""
    for name in ("SECRET_KEY", "SECRET_KEY_FILE", "SMTP_PASSWORD", "SMTP_PASSWORD_FILE"):
        monkeypatch.delenv(f"PERSONVERN_{name}", raising=False)
    return monkeypatch


def test_a_secret_is_read_from_its_file(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "key").write_text(KEY + "\n")
    (tmp_path / "smtp").write_text("a mail provider's password\n")
    clean_environment.setenv("PERSONVERN_SECRET_KEY_FILE", str(tmp_path / "key"))
    clean_environment.setenv("PERSONVERN_SMTP_PASSWORD_FILE", str(tmp_path / "smtp"))
    settings = load_settings(home=tmp_path / "home")
    assert KEY == settings.secret()
    assert settings.smtp_password is not None
    assert "a mail provider's password" == settings.smtp_password.get_secret_value()


def test_a_secret_set_twice_is_refused(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "key").write_text(KEY)
    clean_environment.setenv("PERSONVERN_SECRET_KEY_FILE", str(tmp_path / "key"))
    clean_environment.setenv("PERSONVERN_SECRET_KEY", KEY)
    with pytest.raises(SettingsError, match=r"both PERSONVERN_SECRET_KEY and .*_FILE are set"):
        load_settings()


@pytest.mark.parametrize(("content", "reason"), [(None, "No such file"), ("\n", "is empty")])
def test_a_missing_or_empty_secret_file_is_one_clear_error(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    clean_environment.setenv("PERSONVERN_SECRET_KEY_FILE", str(path))
    with pytest.raises(SettingsError, match=f"PERSONVERN_SECRET_KEY_FILE: .*{reason}"):
        load_settings()


@pytest.mark.parametrize(
    "value",
    ["changeme-changeme-changeme-changeme-1", "example-signing-key-for-the-docs-0123", "ab" * 20],
)
def test_a_placeholder_key_is_refused_in_production_only(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    clean_environment.setenv("PERSONVERN_SECRET_KEY", value)
    assert value == load_settings(home=tmp_path / "home").secret()
    clean_environment.setenv("PERSONVERN_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="looks like a placeholder"):
        load_settings()


def test_a_placeholder_mail_password_is_refused_in_production(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("PERSONVERN_ENVIRONMENT", "production")
    clean_environment.setenv("PERSONVERN_SECRET_KEY", KEY)
    clean_environment.setenv("PERSONVERN_SMTP_PASSWORD", "changeme")
    with pytest.raises(SettingsError, match="PERSONVERN_SMTP_PASSWORD looks like a placeholder"):
        load_settings()


# -- failed authentications ----------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, example_datamap_path: Path) -> FastAPI:
    """The app, allowing three failed authentications per client network per minute."""
    settings = Settings(
        home=tmp_path / "home",
        database_url=None,
        datamap=None,
        auth_failures_per_client=3,
        auth_failure_window_seconds=60,
    )
    return create_app(settings, example_datamap_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client on the started app."""
    with TestClient(app) as client:
        yield client


def test_a_client_that_keeps_guessing_tokens_is_told_to_wait(
    app: FastAPI, client: TestClient
) -> None:
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        valid = issue_token(uow.session, name="limit test", role=Role.AUDITOR).token
    guesses = [
        client.get("/api/v1/ropa", headers={"Authorization": f"Bearer pv_{'x' * 40}{n}"})
        for n in range(4)
    ]
    assert [401, 401, 401, 429] == [r.status_code for r in guesses]
    limited = guesses[-1]
    assert "application/problem+json" == limited.headers["content-type"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert int(limited.headers["retry-after"]) == limited.json()["retry_after"]
    # Within the window even a right guess waits: otherwise the limit would not slow guessing.
    assert (
        429 == client.get("/api/v1/ropa", headers={"Authorization": f"Bearer {valid}"}).status_code
    )
    # No credentials is not a guess; the public filing route is limited the same way.
    assert 401 == client.get("/api/v1/ropa").status_code
    bad = {"Authorization": "Bearer pv_" + "y" * 41}
    assert 429 == client.post("/api/v1/requests", json={}, headers=bad).status_code


def test_successful_authentications_are_not_counted(app: FastAPI, client: TestClient) -> None:
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        valid = issue_token(uow.session, name="limit test", role=Role.AUDITOR).token
    answers = [
        client.get("/api/v1/ropa", headers={"Authorization": f"Bearer {valid}"}).status_code
        for _ in range(5)
    ]
    assert [200] * 5 == answers
