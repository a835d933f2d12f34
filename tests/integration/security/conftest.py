"""Security tests that need the store run on SQLite and PostgreSQL; OIDC tests get a provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP
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
    running_idp.down = False
    return running_idp


def sso_settings(home: Path, issuer: str) -> Settings:
    """Embedded settings in ``home`` trusting the test provider at ``issuer``."""
    return Settings(
        home=home,
        database_url=None,
        datamap=None,
        auto_migrate=None,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        oidc_role_map=ROLE_MAP,  # type: ignore[arg-type]
        # One refresh a second, so rotation tests wait one second, not thirty.
        oidc_jwks_min_refresh_seconds=1,
    )


@pytest.fixture
def oidc_settings(tmp_path: Path, idp: FakeIdp) -> Settings:
    """Embedded settings in tmp_path trusting the test provider."""
    return sso_settings(tmp_path / "home", idp.issuer)


@pytest.fixture(scope="module")
def _module_oidc_app(
    tmp_path_factory: pytest.TempPathFactory, running_idp: FakeIdp
) -> Iterator[tuple[FastAPI, TestClient]]:
    settings = sso_settings(tmp_path_factory.mktemp("sso") / "home", running_idp.issuer)
    app = create_app(settings, EXAMPLE_DATAMAP)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        yield app, client


@pytest.fixture
def oidc_app(_module_oidc_app: tuple[FastAPI, TestClient], idp: FakeIdp) -> FastAPI:
    """The app serving the example company with single sign-on, shared by a module's tests.

    Building and migrating an app per test would make these tests several times slower;
    tests that count the provider's requests or rotate its keys use ``fresh_oidc_client``.
    """
    return _module_oidc_app[0]


@pytest.fixture
def oidc_client(_module_oidc_app: tuple[FastAPI, TestClient], idp: FakeIdp) -> TestClient:
    """A client on the shared app, over https, with no cookies from earlier tests."""
    client = _module_oidc_app[1]
    client.cookies.clear()
    return client


@pytest.fixture
def fresh_oidc_client(oidc_settings: Settings) -> Iterator[TestClient]:
    """A client on an app of its own, whose key cache starts empty."""
    app = create_app(oidc_settings, EXAMPLE_DATAMAP)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        yield client
