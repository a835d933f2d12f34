"""The OIDC settings: parsed and checked when personvern starts, with errors a DPO can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.domain.roles import Role
from personvern.settings import SettingsError, load_settings

ISSUER = "https://sso.example.com/realms/company"


def oidc(tmp_path: Path, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "home": tmp_path,
        "oidc_issuer": ISSUER,
        "oidc_client_id": "personvern",
        "oidc_role_map": "personvern-dpo=privacy_officer,personvern-agents=agent",
    }
    values.update(overrides)
    return values


def test_sso_is_off_unless_an_issuer_is_set(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    assert not settings.oidc_enabled


def test_the_role_map_keeps_its_order_and_the_audience_defaults_to_the_client(
    tmp_path: Path,
) -> None:
    settings = load_settings(**oidc(tmp_path))
    assert [("personvern-dpo", Role.PRIVACY_OFFICER), ("personvern-agents", Role.AGENT)] == list(
        settings.oidc_role_map.items()
    )
    assert ("personvern", ("RS256", "ES256", "PS256")) == (
        settings.oidc_effective_audience,
        settings.oidc_algorithms,
    )


def test_the_role_map_reads_from_the_environment_also_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSONVERN_OIDC_ROLE_MAP", '{"cn=dpo,ou=groups": "privacy-officer"}')
    monkeypatch.setenv("PERSONVERN_OIDC_ALGORITHMS", "ES256, RS256")
    values = oidc(tmp_path)
    del values["oidc_role_map"]
    settings = load_settings(**values)
    assert {"cn=dpo,ou=groups": Role.PRIVACY_OFFICER} == settings.oidc_role_map
    assert ("ES256", "RS256") == settings.oidc_algorithms


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"oidc_role_map": "personvern-dpo=privacy_oficer"},
            "invalid setting PERSONVERN_OIDC_ROLE_MAP: unknown role 'privacy_oficer' "
            "(did you mean 'privacy_officer'?) for 'personvern-dpo'",
        ),
        (
            {"oidc_role_map": "personvern-dpo"},
            "invalid setting PERSONVERN_OIDC_ROLE_MAP: 'personvern-dpo' is not group=role",
        ),
        ({"oidc_role_map": ""}, "PERSONVERN_OIDC_ROLE_MAP is empty, so nobody could sign in"),
        ({"oidc_algorithms": "RS256,none"}, "algorithm none is not accepted"),
        ({"oidc_algorithms": "HS256"}, "algorithm HS256 is not accepted"),
        ({"oidc_issuer": "http://sso.example.com"}, "the issuer must use https"),
        ({"oidc_issuer": "sso.example.com"}, "is not an issuer URL"),
        ({"oidc_client_id": None}, "PERSONVERN_OIDC_CLIENT_ID is not"),
        ({"oidc_scopes": "profile email"}, "PERSONVERN_OIDC_SCOPES must include 'openid'"),
        (
            {
                "staff_insecure_cookies": True,
                "environment": "production",
                "secret_key": "d8Jq2xV0pL7sN4wZ1bF6hT3mR9cY5kE2aQ8uG0iO",
            },
            "for development on localhost only",
        ),
    ],
)
def test_a_bad_setting_is_refused_with_a_clear_message(
    tmp_path: Path, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**oidc(tmp_path, **overrides))
    assert message in str(caught.value)


def test_http_is_allowed_for_a_provider_on_this_machine(tmp_path: Path) -> None:
    settings = load_settings(**oidc(tmp_path, oidc_issuer="http://127.0.0.1:8080/realms/dev"))
    assert "http://127.0.0.1:8080/realms/dev" == settings.oidc_issuer


def test_the_client_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("s3cret-from-a-file\n")
    settings = load_settings(**oidc(tmp_path, oidc_client_secret_file=secret_file))
    assert settings.oidc_client_secret is not None
    assert "s3cret-from-a-file" == settings.oidc_client_secret.get_secret_value()
    with pytest.raises(SettingsError, match="cannot read PERSONVERN_OIDC_CLIENT_SECRET_FILE"):
        load_settings(**oidc(tmp_path, oidc_client_secret_file=tmp_path / "missing"))


def test_the_whole_block_reads_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("from-a-file")
    for name, value in {
        "ISSUER": ISSUER,
        "CLIENT_ID": "personvern",
        "CLIENT_SECRET_FILE": str(secret_file),
        "AUDIENCE": "api://personvern",
        "ROLE_CLAIM": "realm_access.roles",
        "ROLE_MAP": "personvern-dpo=privacy_officer, personvern-agents = agent",
        "LEEWAY_SECONDS": "30",
    }.items():
        monkeypatch.setenv(f"PERSONVERN_OIDC_{name}", value)
    settings = load_settings(home=tmp_path)
    assert settings.oidc_enabled
    assert settings.oidc_client_secret is not None
    assert (
        "api://personvern",
        "realm_access.roles",
        {"personvern-dpo": Role.PRIVACY_OFFICER, "personvern-agents": Role.AGENT},
        30,
        "from-a-file",
    ) == (
        settings.oidc_effective_audience,
        settings.oidc_role_claim,
        settings.oidc_role_map,
        settings.oidc_leeway_seconds,
        settings.oidc_client_secret.get_secret_value(),
    )
