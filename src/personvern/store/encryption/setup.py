"""Build the vault the settings describe: the key store and the KEK provider."""

from __future__ import annotations

from personvern.settings import Settings, SettingsError
from personvern.store.encryption.providers import KeyEncryptionKeyProvider, LocalKeyFileProvider
from personvern.store.encryption.vault import SubjectVault
from personvern.store.subject_keys import KeyStore


def kek_provider(settings: Settings) -> tuple[KeyEncryptionKeyProvider, str]:
    """The KEK provider the settings name, and a description for status (no secrets)."""
    if settings.kek_provider == "pkcs11":
        from personvern.store.encryption.pkcs11_provider import Pkcs11Provider

        if settings.pkcs11_module is None or not settings.pkcs11_token_label:
            raise SettingsError(
                "PERSONVERN_KEK_PROVIDER=pkcs11 needs PERSONVERN_PKCS11_MODULE and "
                "PERSONVERN_PKCS11_TOKEN_LABEL"
            )
        provider = Pkcs11Provider(
            settings.pkcs11_module,
            settings.pkcs11_token_label,
            settings.pkcs11_user_pin(),
            settings.pkcs11_key_label,
        )
        return provider, f"pkcs11 (token {settings.pkcs11_token_label})"
    if settings.kek_file is not None:
        return LocalKeyFileProvider(settings.kek_file), f"local ({settings.kek_file})"
    local = LocalKeyFileProvider.in_home(settings.home)
    return local, f"local ({local.path})"


def open_vault(settings: Settings) -> SubjectVault:
    """The vault on the configured key store and KEK provider."""
    from personvern.store.db import make_engine

    provider, name = kek_provider(settings)
    return SubjectVault(KeyStore(make_engine(settings.effective_key_store_url)), provider, name)
