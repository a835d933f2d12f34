"""Key-encryption keys in a real PKCS#11 token: SoftHSM2, installed and initialised here.

Under CI=true the test installs Debian's softhsm2 if it is missing and must run;
elsewhere it is skipped with how to enable it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from personvern.domain.envelope import SubjectKeyDestroyedError
from personvern.settings import Settings
from personvern.store.db import make_engine
from personvern.store.encryption.providers import KeyProviderError
from personvern.store.encryption.setup import kek_provider
from personvern.store.encryption.vault import SubjectVault
from personvern.store.subject_keys import KeyStore
from tests.support.servers import in_ci

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
LABEL = "personvern-test"
PIN = "1234"  # a throw-away token in a temporary folder


def _softhsm() -> str:
    """softhsm2-util, installed first under CI; skip elsewhere when it is missing."""
    found = shutil.which("softhsm2-util")
    if found and MODULE.exists():
        return found
    if not in_ci():
        pytest.skip(
            "PKCS#11 tests need SoftHSM2: apt-get install -y softhsm2 (CI=true installs it)"
        )
    subprocess.run(["apt-get", "install", "-y", "-q", "softhsm2"], check=False, timeout=300)
    found = shutil.which("softhsm2-util")
    if not found:
        subprocess.run(["apt-get", "update", "-q"], check=True, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "-q", "softhsm2"], check=True, timeout=300)
        found = shutil.which("softhsm2-util")
    assert found, "softhsm2 could not be installed"
    return found


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh SoftHSM2 token (its own config and token folder); yields the PIN file."""
    util = _softhsm()
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    config = folder / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\n"
    )
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        [util, "--init-token", "--free", "--label", LABEL, "--so-pin", "5678", "--pin", PIN],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pin_file = folder / "pin"
    pin_file.write_text(PIN + "\n")
    pin_file.chmod(0o600)
    yield pin_file
    if saved is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = saved


def _settings(tmp_path: Path, pin_file: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        kek_provider="pkcs11",
        pkcs11_module=MODULE,
        pkcs11_token_label=LABEL,
        pkcs11_pin_file=pin_file,
        pkcs11_key_label="kek",
    )


def test_data_keys_are_wrapped_in_the_token_rotated_and_shredded(
    token: Path, tmp_path: Path
) -> None:
    provider, name = kek_provider(_settings(tmp_path, token))
    assert "pkcs11 (token personvern-test)" == name
    keys = KeyStore(make_engine(f"sqlite:///{tmp_path / 'home' / 'keys.db'}"))
    vault = SubjectVault(keys, provider, name)
    try:
        first_kek = provider.current()
        assert first_kek.startswith("pkcs11:kek-v")
        kari, ola = "k" * 64, "o" * 64
        sealed = {s: vault.seal(s, f"field:t.c:{s[0]}", s.encode()) for s in (kari, ola)}
        wrapped_before = {k.key_id: k.wrapped_key for k in keys.all()}

        report = vault.rotate()

        assert first_kek != report.new_kek
        assert 2 == report.rewrapped
        assert [first_kek] == report.removable
        for key in keys.all():
            assert report.new_kek == key.kek_id
            assert wrapped_before[key.key_id] != key.wrapped_key
        # A new provider (as in a new process) finds both versions on the token.
        vault.close()
        again, _ = kek_provider(_settings(tmp_path, token))
        assert [first_kek, report.new_kek] == again.versions()[-2:]
        fresh = SubjectVault(keys, again, name)
        assert kari.encode() == fresh.open("field:t.c:k", sealed[kari])

        vault.shred(kari)
        with pytest.raises(SubjectKeyDestroyedError):
            fresh.open("field:t.c:k", sealed[kari])
        assert ola.encode() == fresh.open("field:t.c:o", sealed[ola])
        fresh.close()
    finally:
        keys.engine.dispose()


def test_a_wrong_pin_is_refused_with_what_to_check(token: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong-pin"
    wrong.write_text("0000\n")
    with pytest.raises(KeyProviderError, match="cannot log in to the PKCS#11 token"):
        kek_provider(_settings(tmp_path, wrong))
