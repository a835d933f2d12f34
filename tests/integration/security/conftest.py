"""Security tests that need the store run on SQLite and PostgreSQL; OIDC tests get a provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.settings import Settings
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeIdp,
    SigningKey,
    running_provider,
)
from tests.support.store import session, store_engine, store_url

__all__ = ["session", "store_engine", "store_url"]

#: Where TestClient's requests go; https, so the Secure __Host- cookies are sent back.
BASE_URL = "https://testserver"
ROLE_MAP = "personvern-dpo=privacy_officer,personvern-agents=agent"


@pytest.fixture(scope="session")
def provider_keys() -> dict[str, SigningKey]:
    """Keys made once per run: RSA generation is the slowest part of these tests."""
    return {
        "first": SigningKey.rsa("key-2026-01"),
        "second": SigningKey.rsa("key-2026-02"),
        "ec": SigningKey.ec("key-ec-1"),
        "stranger": SigningKey.rsa("key-2026-01"),
    }


@pytest.fixture(scope="session")
def running_idp(provider_keys: dict[str, SigningKey]) -> Iterator[FakeIdp]:
    """One provider server for the whole run; ``idp`` resets it for each test."""
    with running_provider([provider_keys["first"]]) as provider:
        yield provider


@pytest.fixture
def idp(running_idp: FakeIdp, provider_keys: dict[str, SigningKey]) -> FakeIdp:
    """The provider, publishing the first key, with a DPO as its user and no grants."""
    running_idp.keys[:] = [provider_keys["first"], provider_keys["ec"]]
    running_idp.user.clear()
    running_idp.user.update(
        {"sub": "user-0001", "preferred_username": "dina.dpo", "groups": ["personvern-dpo"]}
    )
    running_idp.redirect_uris = {f"{BASE_URL}/staff/callback"}
    running_idp.grants.clear()
    running_idp.refusals.clear()
    running_idp.jwks_requests = 0
    return running_idp


@pytest.fixture
def oidc_settings(tmp_path: Path, idp: FakeIdp) -> Settings:
    """Embedded settings trusting the test provider."""
    return Settings(
        home=tmp_path / "home",
        database_url=None,
        datamap=None,
        auto_migrate=None,
        oidc_issuer=idp.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        oidc_role_map=ROLE_MAP,  # type: ignore[arg-type]
        oidc_jwks_min_refresh_seconds=1,
    )


@pytest.fixture
def oidc_app(oidc_settings: Settings, example_datamap_path: Path) -> FastAPI:
    """The app serving the example company with single sign-on."""
    return create_app(oidc_settings, example_datamap_path)


@pytest.fixture
def oidc_client(oidc_app: FastAPI) -> Iterator[TestClient]:
    """A client on the running app, over https."""
    with TestClient(oidc_app, base_url=BASE_URL, follow_redirects=False) as client:
        yield client
