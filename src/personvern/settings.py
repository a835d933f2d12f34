"""All configuration, read once from PERSONVERN_* environment variables and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from personvern.data_home import check_secret_key, default_home, read_or_create_secret_key
from personvern.errors import ErrorKind, PersonvernError


class SettingsError(PersonvernError):
    """The configuration is unusable."""

    kind = ErrorKind.FAILED
    title = "Configuration error"


class Settings(BaseSettings):
    """personvern's settings; every field can be set as PERSONVERN_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="PERSONVERN_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development",
        description="production requires PERSONVERN_SECRET_KEY (the same on every server)",
    )
    home: Path = Field(
        default_factory=default_home,
        description="data directory (mode 0700): the embedded store, answers, the signing "
        "key; default: ~/.local/share/personvern",
    )
    database_url: str | None = Field(
        None,
        description="personvern's own database, e.g. postgresql+psycopg://user@host/db; "
        "default: SQLite in PERSONVERN_HOME",
    )
    datamap: Path | None = Field(None, description="data map file or folder")
    secret_key: SecretStr | None = Field(
        None,
        description="key for signing download links and keyed hashes, at least 32 random "
        "characters; unset: a key generated on first start in PERSONVERN_HOME/secret.key "
        "(required in production)",
    )
    host: str = Field("127.0.0.1", description="address `personvern serve` listens on")
    port: int = Field(8000, ge=1, le=65535, description="port `personvern serve` listens on")
    auto_migrate: bool | None = Field(
        None,
        description="apply migrations on server start; default: on for SQLite, off otherwise",
    )
    broker_url: str | None = Field(
        None,
        description="Celery broker (redis://..., amqp://...) for request runs; "
        "unset: runs happen in-process",
    )
    smtp_host: str | None = Field(
        None,
        description="mail server for verification codes; unset: e-mail verification is off",
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="mail server port")
    smtp_username: str | None = Field(None, description="log in with this user when set")
    smtp_password: SecretStr | None = Field(
        None, description="password for PERSONVERN_SMTP_USERNAME"
    )
    smtp_from: str = Field("privacy@localhost", description="sender address of personvern's mail")
    smtp_starttls: bool = Field(False, description="upgrade the connection with STARTTLS")
    smtp_tls: bool = Field(False, description="connect with TLS from the start (port 465)")
    public_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="the address subjects reach personvern at, e.g. https://privacy.example.com; "
        "download links in mails start with it (unset: links cannot be mailed)",
    )
    four_eyes: Literal["off", "staff_verified", "all"] = Field(
        "staff_verified",
        description="which erasures and rectifications a second person must approve before they "
        "run: those whose identity staff verified (default), all, or none",
    )
    answer_retention_days: int = Field(
        30,
        ge=1,
        description="days the files of a closed request's answer are kept once no link to "
        "them works; the receipt keeps their hashes",
    )
    unverified_retention_days: int = Field(
        30, ge=1, description="days a request whose identity was never verified is kept"
    )
    housekeeping_interval_seconds: int = Field(
        3600, ge=0, description="how often the server deletes what it no longer needs; 0: never"
    )
    max_body_bytes: int = Field(
        64 * 1024, ge=1024, description="largest request body the API reads, in bytes"
    )
    intake_codes_per_address: int = Field(
        5,
        ge=1,
        description="verification codes sent to one address from one client network per "
        "rate-limit window",
    )
    intake_codes_per_address_daily: int = Field(
        20, ge=1, description="verification codes sent to one address per day, all networks"
    )
    intake_codes_per_client: int = Field(
        20, ge=1, description="verification codes requested from one client IP per window"
    )
    intake_rate_window_seconds: int = Field(
        3600, ge=1, description="length of the intake rate-limit window in seconds"
    )

    # --- Encryption at rest (docs/encryption.md) -------------------------------------------
    key_store_url: str | None = Field(
        None,
        description="the key store of per-subject data keys, a database apart from the data "
        "store and backed up apart from it; default: SQLite PERSONVERN_HOME/keys.db",
    )
    kek_provider: Literal["local", "pkcs11"] = Field(
        "local",
        description="where key-encryption keys live: local (PERSONVERN_KEK_FILE) or pkcs11 "
        "(an HSM or cloud HSM)",
    )
    kek_file: Path | None = Field(
        None,
        description="local key-encryption key file (mode 0600, made on first start); "
        "default: PERSONVERN_HOME/kek.key",
    )
    pkcs11_module: Path | None = Field(
        None, description="the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so"
    )
    pkcs11_token_label: str | None = Field(None, description="label of the PKCS#11 token")
    pkcs11_pin: SecretStr | None = Field(
        None, description="the token's user PIN (or PERSONVERN_PKCS11_PIN_FILE)"
    )
    pkcs11_pin_file: Path | None = Field(None, description="file holding the token's user PIN")
    pkcs11_key_label: str = Field(
        "personvern-kek",
        description="label of the KEK in the token; versions are <label>-v1, -v2, ...",
    )
    # ----------------------------------------------------------------------------------------

    _generated_key: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _refuse_known_secrets(self) -> Settings:
        if self.secret_key is not None:
            try:
                check_secret_key(self.secret_key.get_secret_value(), "PERSONVERN_SECRET_KEY")
            except PersonvernError as exc:
                raise ValueError(str(exc)) from None
        elif self.environment == "production":
            # Every server and worker must sign and hash alike; a key generated on one
            # machine would break links and duplicate detection on the others.
            msg = (
                "PERSONVERN_SECRET_KEY must be set in production, to the same random value "
                "on every server and worker"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _shared_key_store_in_production(self) -> Settings:
        if self.environment == "production" and self.database_url and not self.key_store_url:
            # Every server and worker must open the same subjects' keys; a keys.db in
            # each machine's home would make one server's data unreadable to the others.
            msg = (
                "PERSONVERN_KEY_STORE_URL must be set in production when "
                "PERSONVERN_DATABASE_URL is: a database apart from the data store, shared "
                "by every server and worker (docs/encryption.md)"
            )
            raise ValueError(msg)
        return self

    def secret(self) -> str:
        """The signing key: PERSONVERN_SECRET_KEY, else the one generated in the home."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self._generated_key is None:
            self._generated_key = read_or_create_secret_key(self.home)
        return self._generated_key

    @property
    def effective_database_url(self) -> str:
        """The store URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'personvern.db').resolve()}"

    @property
    def effective_key_store_url(self) -> str:
        """The key store URL, defaulting to a SQLite file in the data directory."""
        if self.key_store_url:
            return self.key_store_url
        return f"sqlite:///{(self.home / 'keys.db').resolve()}"

    def pkcs11_user_pin(self) -> str:
        """The PKCS#11 user PIN: PERSONVERN_PKCS11_PIN, else the PIN file's first line."""
        if self.pkcs11_pin is not None:
            return self.pkcs11_pin.get_secret_value()
        if self.pkcs11_pin_file is not None:
            try:
                return self.pkcs11_pin_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(
                    f"cannot read PERSONVERN_PKCS11_PIN_FILE {self.pkcs11_pin_file}: "
                    f"{exc.strerror or exc}"
                ) from exc
        raise SettingsError(
            "PERSONVERN_KEK_PROVIDER=pkcs11 needs PERSONVERN_PKCS11_PIN or "
            "PERSONVERN_PKCS11_PIN_FILE"
        )

    @property
    def is_embedded(self) -> bool:
        """Whether personvern runs on its embedded SQLite store."""
        return self.effective_database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        """Whether the server applies migrations itself when it starts."""
        return self.is_embedded if self.auto_migrate is None else self.auto_migrate


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning validation errors into one clear line."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        where = ".".join(str(p) for p in first["loc"])
        if not where:
            raise SettingsError(message) from exc
        raise SettingsError(f"invalid setting PERSONVERN_{where.upper()}: {message}") from exc
