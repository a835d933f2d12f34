"""No key anyone knows ever signs a download link; the data directory is private.

Before, the signing key defaulted to a string in the source unless
PERSONVERN_ENVIRONMENT=production, and `personvern serve` and the demo started with it
silently: anyone could sign a link to any request's export.
"""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.data_home import HomeError, read_or_create_secret_key
from personvern.responses.download_link import sign
from personvern.settings import Settings, SettingsError, load_settings

#: The key every installation used to sign with unless told otherwise.
OLD_DEFAULT_KEY = "development-only"


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def test_without_a_configured_key_a_random_one_is_made_private_and_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = Settings(home=home).secret()
    again = Settings(home=home).secret()
    other = Settings(home=tmp_path / "elsewhere").secret()
    assert (first, True, 0o700, 0o600) == (
        again,
        first != other and len(first) >= 48,
        mode(home),
        mode(home / "secret.key"),
    )


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    read_or_create_secret_key(home)
    (home / "secret.key").chmod(0o644)
    with pytest.raises(HomeError) as caught:
        Settings(home=home).secret()
    assert "can be read by other users (mode 644)" in caught.value.message
    assert "chmod 600" in str(caught.value.hint)


def test_an_existing_home_others_can_enter_is_tightened(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    create_app(Settings(home=home, datamap=None))
    assert (0o700, 0o600, 0o600) == (
        mode(home),
        mode(home / "secret.key"),
        mode(home / "personvern.db"),
    )


@pytest.mark.parametrize(
    "value", [OLD_DEFAULT_KEY, "change-me", "secret", "short-but-not-empty", " " * 40]
)
def test_a_known_or_short_key_is_refused_in_every_environment(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSONVERN_SECRET_KEY", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.message.startswith(
        "PERSONVERN_SECRET_KEY is not a usable secret key: it must be a random value of at "
        "least 32 characters"
    )


def test_production_requires_a_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONVERN_ENVIRONMENT", "production")
    monkeypatch.delenv("PERSONVERN_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "PERSONVERN_SECRET_KEY must be set in production" in caught.value.message


def test_a_link_signed_with_the_old_default_key_is_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", datamap=None)
    forged = sign(
        OLD_DEFAULT_KEY, "b" * 32, "a" * 32, "export.zip", datetime.now(UTC) + timedelta(days=1)
    )
    with TestClient(create_app(settings)) as client:
        response = client.get(f"/api/v1/downloads/{forged}")
    assert (403, "this download link is not valid") == (
        response.status_code,
        response.json()["detail"],
    )


def test_serve_refuses_to_start_with_a_known_key(personvern_cli: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {"PERSONVERN_HOME": str(tmp_path / "home"), "PERSONVERN_SECRET_KEY": OLD_DEFAULT_KEY}
    result = subprocess.run(
        [*personvern_cli, "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (2, "") == (result.returncode, result.stdout)
    assert result.stderr.startswith(
        "personvern: error: PERSONVERN_SECRET_KEY is not a usable secret key"
    )
    assert 1 == len(result.stderr.strip().splitlines())
