"""All configuration, read once from PERSONVERN_* environment variables and passed in."""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from personvern.data_home import check_secret_key, default_home, read_or_create_secret_key
from personvern.errors import ErrorKind, PersonvernError


class SettingsError(PersonvernError):
    """The configuration is unusable."""

    kind = ErrorKind.FAILED
    title = "Configuration error"


#: Words that mark a value as copied from an example rather than generated.
PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "example", "placeholder", "replace")


def _is_secret(field: FieldInfo) -> bool:
    annotation = field.annotation
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


class _SecretFiles(PydanticBaseSettingsSource):
    """``PERSONVERN_<NAME>_FILE`` for every secret setting: the value is that file's content.

    Container platforms hand secrets over as files (Docker and Kubernetes secrets), which
    keeps them out of the environment that `ps e` and crash reports can show.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: :meth:`__call__` reads every secret at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """The secrets whose ``_FILE`` variable is set, read from their files."""
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            if not _is_secret(field):
                continue
            variable = f"PERSONVERN_{name.upper()}"
            path = os.environ.get(f"{variable}_FILE")
            if not path:
                continue
            if os.environ.get(variable):
                msg = f"both {variable} and {variable}_FILE are set"
                raise SettingsError(msg, hint=f"keep one of them; {variable}_FILE is preferred")
            try:
                text = Path(path).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise SettingsError(
                    f"{variable}_FILE: cannot read {path}: {reason}",
                    hint="point it at a readable file that holds only the secret",
                ) from None
            if not text:
                raise SettingsError(f"{variable}_FILE: {path} is empty")
            values[name] = text
        return values


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
    log_format: Literal["json", "text"] | None = Field(
        None,
        description="server and worker logs: json (one object per line, for a log shipper) "
        "or text; default: json in production, text in development. Both are redacted",
    )
    host: str = Field("127.0.0.1", description="address `personvern serve` listens on")
    port: int = Field(8000, ge=1, le=65535, description="port `personvern serve` listens on")
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="reverse proxies whose X-Forwarded-For/-Proto headers are believed "
        "(comma-separated addresses or networks, * for any); they decide the client address "
        "for rate limits and whether a request came over TLS (HSTS)",
    )
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

    auth_failures_per_client: int = Field(
        20,
        ge=1,
        description="failed authentications from one client network per window before it "
        "is answered 429",
    )
    auth_failure_window_seconds: int = Field(
        300, ge=1, description="length of the authentication rate-limit window in seconds"
    )

    _generated_key: str | None = PrivateAttr(None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then ``PERSONVERN_<SECRET>_FILE``."""
        return (
            init_settings,
            env_settings,
            _SecretFiles(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    @model_validator(mode="after")
    def _refuse_known_secrets(self) -> Settings:
        if self.secret_key is not None:
            try:
                check_secret_key(self.secret_key.get_secret_value(), "PERSONVERN_SECRET_KEY")
            except PersonvernError as exc:
                raise ValueError(str(exc)) from None
        if self.environment == "production":
            # In development a copied example is harmless and the demo must start with
            # nothing configured; in production it is a secret everyone can read.
            for name, value in (
                ("secret_key", self.secret_key),
                ("smtp_password", self.smtp_password),
            ):
                generated = name == "secret_key"  # a password is chosen by a mail provider
                if value is not None and _looks_like_placeholder(
                    value.get_secret_value(), generated=generated
                ):
                    msg = (
                        f"PERSONVERN_{name.upper()} looks like a placeholder copied from an "
                        "example; set a real secret in production"
                    )
                    raise ValueError(msg)
        if self.secret_key is None and self.environment == "production":
            # Every server and worker must sign and hash alike; a key generated on one
            # machine would break links and duplicate detection on the others.
            msg = (
                "PERSONVERN_SECRET_KEY must be set in production, to the same random value "
                "on every server and worker"
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
    def effective_log_format(self) -> Literal["json", "text"]:
        """The log format: PERSONVERN_LOG_FORMAT, else json in production and text otherwise."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @property
    def is_embedded(self) -> bool:
        """Whether personvern runs on its embedded SQLite store."""
        return self.effective_database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        """Whether the server applies migrations itself when it starts."""
        return self.is_embedded if self.auto_migrate is None else self.auto_migrate


def _looks_like_placeholder(value: str, *, generated: bool) -> bool:
    """Whether a secret is an example's placeholder: a marker word in it, or (for a value
    that should be generated) so few distinct characters that no generator made it."""
    lowered = value.strip().lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return True
    return generated and len(set(lowered)) < 8


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
