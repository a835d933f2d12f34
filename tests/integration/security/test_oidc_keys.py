"""The provider's keys over HTTP: cached, refreshed on rotation, rate-limited, outage-proof."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.security.errors import AuthError, IdentityProviderError
from personvern.security.oidc.keys import SigningKeys
from personvern.security.oidc.provider import IdentityProvider, OidcConfig
from personvern.settings import Settings
from tests.integration.api.conftest import bearer
from tests.support.oidc_provider import FakeIdp, SigningKey


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_unknown_key_ids_refresh_the_keys_at_most_once_per_interval(
    oidc_settings: Settings, idp: FakeIdp, provider_keys: dict[str, SigningKey]
) -> None:
    provider = IdentityProvider(OidcConfig.from_settings(oidc_settings))
    clock = Clock()
    keys = SigningKeys(
        lambda: provider.fetch_json(f"{idp.issuer}/jwks"),
        lifetime_seconds=3600,
        min_refresh_seconds=30,
        clock=clock,
    )
    try:
        for n in range(10):
            with pytest.raises(AuthError, match="does not publish"):
                keys.key(f"made-up-{n}")
        assert 1 == idp.jwks_requests
        idp.keys.append(provider_keys["second"])
        clock.now += 31
        assert "RSA" == keys.key("key-2026-02").key_type
        assert 2 == idp.jwks_requests
        # Known keys need no request until the cache lifetime is over.
        keys.key("key-2026-01")
        assert 2 == idp.jwks_requests
        clock.now += 3600
        keys.key("key-2026-01")
        assert 3 == idp.jwks_requests
    finally:
        provider.close()


def test_during_an_outage_the_cached_keys_keep_working(
    fresh_oidc_client: TestClient, idp: FakeIdp, provider_keys: dict[str, SigningKey]
) -> None:
    token = idp.token()
    assert 200 == fresh_oidc_client.get("/api/v1/requests", headers=bearer(token)).status_code
    idp.down = True
    time.sleep(1.05)  # past the test app's refresh interval: the unknown kid tries the provider
    stranger = idp.sign(idp.claims(), key=provider_keys["second"])
    assert 401 == fresh_oidc_client.get("/api/v1/requests", headers=bearer(stranger)).status_code
    assert 200 == fresh_oidc_client.get("/api/v1/requests", headers=bearer(token)).status_code


def test_an_unreachable_provider_is_a_503_not_a_crash(
    oidc_settings: Settings, idp: FakeIdp, example_datamap_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = oidc_settings.model_copy(update={"oidc_issuer": closed})
    with TestClient(create_app(settings, example_datamap_path)) as client:
        response = client.get("/api/v1/requests", headers=bearer(idp.token(iss=closed)))
        login = client.get("/staff/login", follow_redirects=False)
    assert (503, "application/problem+json") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert 503 == login.status_code
    provider = IdentityProvider(OidcConfig.from_settings(settings))
    with pytest.raises(IdentityProviderError, match="did not answer at"):
        provider.metadata()
    provider.close()
