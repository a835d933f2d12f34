"""Bearer access tokens from the identity provider, checked against its real JWKS over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from tests.integration.api.conftest import bearer
from tests.support.oidc_provider import (
    FakeIdp,
    SigningKey,
    hs256_with_public_key,
    unsigned,
)

DPO_ONLY = "/api/v1/datamap"  # datamap:read: the DPO has it, an agent does not
AGENT_AND_DPO = "/api/v1/requests"  # requests:read


def test_a_valid_token_acts_in_the_mapped_role(oidc_client: TestClient, idp: FakeIdp) -> None:
    dpo = idp.token(groups=["personvern-dpo"])
    agent = idp.token(groups=["personvern-agents"])
    assert 200 == oidc_client.get(DPO_ONLY, headers=bearer(dpo)).status_code
    assert 200 == oidc_client.get(AGENT_AND_DPO, headers=bearer(agent)).status_code
    refused = oidc_client.get(DPO_ONLY, headers=bearer(agent))
    assert 403 == refused.status_code
    assert "role 'agent' lacks the permission 'datamap:read'" == refused.json()["detail"]


def test_an_es256_token_is_accepted(
    oidc_client: TestClient, idp: FakeIdp, provider_keys: dict[str, SigningKey]
) -> None:
    token = idp.sign(idp.claims(), key=provider_keys["ec"])
    assert 200 == oidc_client.get(DPO_ONLY, headers=bearer(token)).status_code


def test_api_tokens_keep_working_beside_sso(oidc_client: TestClient, oidc_app: object) -> None:
    context = oidc_app.state.context  # type: ignore[attr-defined]
    with context.application.unit_of_work() as uow:
        token = issue_token(uow.session, name="CI", role=Role.AUDITOR).token
    assert 200 == oidc_client.get(DPO_ONLY, headers=bearer(token)).status_code


BadToken = Callable[[FakeIdp, dict[str, SigningKey]], str]
NOW = int(time.time())

BAD_TOKENS: dict[str, tuple[BadToken, str]] = {
    "expired": (
        lambda idp, keys: idp.token(iat=NOW - 3600, nbf=NOW - 3600, exp=NOW - 600),
        "the token has expired",
    ),
    "wrong audience": (
        lambda idp, keys: idp.token(aud="another-app"),
        "the token is meant for another audience (aud)",
    ),
    "wrong issuer": (
        lambda idp, keys: idp.token(iss="https://evil.example.com"),
        "the token comes from another issuer (iss)",
    ),
    "unknown key": (
        lambda idp, keys: idp.sign(idp.claims(), key=keys["second"]),
        "the token is signed with a key the identity provider does not publish",
    ),
    "a stranger's key under a known kid": (
        lambda idp, keys: idp.sign(idp.claims(), key=keys["stranger"]),
        "the token's signature does not verify",
    ),
    "alg none": (
        lambda idp, keys: unsigned(idp.claims()),
        "unsigned tokens (alg none) are never accepted",
    ),
    "HS256 with the public key as secret": (
        lambda idp, keys: hs256_with_public_key(idp.claims(), keys["first"]),
        "the token's signature algorithm HS256 is not accepted",
    ),
    "RS256 header on the EC key's kid": (
        lambda idp, keys: idp.sign(idp.claims(), headers={"kid": "key-ec-1"}),
        "the token's algorithm RS256 does not match the key that should sign it",
    ),
    "not before in the future": (
        lambda idp, keys: idp.token(nbf=int(time.time()) + 3600),
        "the token is not valid yet (nbf or iat lies in the future)",
    ),
    "issued in the future": (
        lambda idp, keys: idp.token(iat=int(time.time()) + 3600),
        "the token is not valid yet (nbf or iat lies in the future)",
    ),
    "no expiry": (lambda idp, keys: idp.token(exp=None), "the token lacks the 'exp' claim"),
    "no subject": (lambda idp, keys: idp.token(sub=None), "the token lacks the 'sub' claim"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_bad_token_is_refused_with_a_reason(
    case: str,
    oidc_client: TestClient,
    idp: FakeIdp,
    provider_keys: dict[str, SigningKey],
) -> None:
    make, reason = BAD_TOKENS[case]
    response = oidc_client.get(AGENT_AND_DPO, headers=bearer(make(idp, provider_keys)))
    assert (401, "application/problem+json") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert reason == response.json()["detail"]
    assert "Bearer" == response.headers["www-authenticate"]


def test_a_rotated_key_is_fetched_and_accepted(
    fresh_oidc_client: TestClient, idp: FakeIdp, provider_keys: dict[str, SigningKey]
) -> None:
    old_token = idp.token()
    assert 200 == fresh_oidc_client.get(DPO_ONLY, headers=bearer(old_token)).status_code
    # The provider rotates: the new key signs, the old one is retired.
    idp.keys[:] = [provider_keys["second"]]
    time.sleep(1.05)  # the test app allows one key refresh per second
    new_token = idp.token()
    assert 200 == fresh_oidc_client.get(DPO_ONLY, headers=bearer(new_token)).status_code
    assert 2 == idp.jwks_requests
    # The cache now holds the new set: the retired key no longer verifies anything.
    assert 401 == fresh_oidc_client.get(DPO_ONLY, headers=bearer(old_token)).status_code


def test_made_up_key_ids_cost_the_provider_at_most_one_request_per_interval(
    fresh_oidc_client: TestClient, idp: FakeIdp, provider_keys: dict[str, SigningKey]
) -> None:
    assert 200 == fresh_oidc_client.get(DPO_ONLY, headers=bearer(idp.token())).status_code
    forged = [
        idp.sign(idp.claims(), key=provider_keys["second"], headers={"kid": f"made-up-{n}"})
        for n in range(25)
    ]
    statuses = [fresh_oidc_client.get(DPO_ONLY, headers=bearer(t)).status_code for t in forged]
    # Refused one by one until the client's failure limit (20 by default), then 429.
    assert [401] * 20 + [429] * 5 == statuses
    # One fetch at start-up, at most one refresh within the (one second) interval.
    assert idp.jwks_requests <= 2


def test_a_group_that_maps_to_no_role_is_forbidden_with_a_hint(
    oidc_client: TestClient, idp: FakeIdp
) -> None:
    response = oidc_client.get(AGENT_AND_DPO, headers=bearer(idp.token(groups=["sales"])))
    assert (403, "application/problem+json") == (
        response.status_code,
        response.headers["content-type"],
    )
    body = response.json()
    assert "none of the user's 'groups' values maps to a personvern role" == body["detail"]
    assert "PERSONVERN_OIDC_ROLE_MAP maps: personvern-dpo, personvern-agents" in body["hint"]


def test_a_token_without_the_groups_claim_says_which_claim_is_missing(
    oidc_client: TestClient, idp: FakeIdp
) -> None:
    response = oidc_client.get(AGENT_AND_DPO, headers=bearer(idp.token(groups=None)))
    assert 403 == response.status_code
    assert "PERSONVERN_OIDC_ROLE_CLAIM" in response.json()["hint"]


def test_the_first_mapped_group_wins(oidc_client: TestClient, idp: FakeIdp) -> None:
    # In both groups; the map lists personvern-dpo first, so the DPO role applies.
    token = idp.token(groups=["personvern-agents", "personvern-dpo"])
    assert 200 == oidc_client.get(DPO_ONLY, headers=bearer(token)).status_code


def test_the_map_order_decides_not_the_token_order(
    oidc_settings: Settings, idp: FakeIdp, example_datamap_path: Path
) -> None:
    settings = oidc_settings.model_copy(
        update={
            "oidc_role_map": {
                "personvern-agents": Role.AGENT,
                "personvern-dpo": Role.PRIVACY_OFFICER,
            }
        }
    )
    token = idp.token(groups=["personvern-dpo", "personvern-agents"])
    app = create_app(settings, example_datamap_path)
    with TestClient(app) as client:
        assert 403 == client.get(DPO_ONLY, headers=bearer(token)).status_code
        assert 200 == client.get(AGENT_AND_DPO, headers=bearer(token)).status_code


def test_without_sso_a_jwt_is_simply_not_recognised(
    tmp_path: Path, idp: FakeIdp, example_datamap_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None)
    with TestClient(create_app(settings, example_datamap_path)) as client:
        response = client.get(AGENT_AND_DPO, headers=bearer(idp.token()))
    assert 401 == response.status_code
    assert "the credentials are not recognised" == response.json()["detail"]
    assert 0 == idp.jwks_requests
