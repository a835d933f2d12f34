"""All configuration, read once from PERSONVERN_* environment variables and passed in."""

from __future__ import annotations

import ipaddress
import os
import typing
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from personvern.data_home import check_secret_key, default_home, read_or_create_secret_key
from personvern.domain.roles import Role, parse_role
from personvern.errors import ErrorKind, PersonvernError

#: Signature algorithms personvern accepts from an identity provider unless told otherwise.
DEFAULT_OIDC_ALGORITHMS = ("RS256", "ES256", "PS256")
#: Asymmetric algorithms only: "none" proves nothing, and an HMAC key would have to be
#: shared with the provider, which lets anyone holding the public JWKS forge tokens if
#: the provider's public key were ever used as the secret (key confusion).
ALLOWED_OIDC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


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
            # A secret with a ``<name>_file`` setting of its own reads that file itself.
            if not _is_secret(field) or f"{name}_file" in self.settings_cls.model_fields:
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
    erasure_letter_days: int = Field(
        7,
        ge=0,
        le=30,
        description="days a completed erasure keeps the subject's (encrypted) address, so the "
        "letter confirming it can be sent; the subject's data key is destroyed when the letter "
        "is sent or, unsent, by housekeeping after this many days",
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
    retention_batch_size: int = Field(
        10_000,
        ge=1,
        le=100_000,
        description="keys a retention sweep deletes or anonymises per transaction; smaller "
        "batches hold locks for less time",
    )
    retention_max_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="share of a table one retention rule may delete or anonymise in a run "
        "without --confirm (the safety stop against a wrong rule or clock)",
    )
    retention_own_schedule: str = Field(
        "30 3 * * *",
        description="when the server or Celery beat sweeps personvern's own records (cron, "
        "UTC; default 03:30 every day); empty: only `personvern retention run` does",
    )
    retention_own_requests: str = Field(
        "P3Y",
        description="how long personvern keeps a closed request, its history and answers "
        "(ISO 8601 period from closing; default 3 years, the limitation period of "
        "foreldelsesloven § 2)",
    )
    retention_own_download_links: str = Field(
        "P0D",
        description="how long a download link is kept after it expired or was revoked "
        "(ISO 8601 period; default: gone the day after)",
    )
    retention_own_consent_proofs: str = Field(
        "P3Y",
        description="how long a consent proof is kept after a later grant or withdrawal "
        "superseded it (ISO 8601 period; the proof in force is always kept)",
    )
    retention_own_web_events: str = Field(
        "P13M",
        description="how long collected web and app events are kept (ISO 8601 period from "
        "when they occurred)",
    )
    retention_own_audit_events: str = Field(
        "P5Y",
        description="how long audit events are kept (ISO 8601 period from when they were "
        "recorded); the oldest go first and `personvern audit verify` goes on from them",
    )
    retention_lock_seconds: int = Field(
        600,
        ge=30,
        le=86_400,
        description="seconds a retention run holds its system after its last heartbeat (one "
        "per batch); a run killed with the lock frees the system after this",
    )
    retention_schedule_interval_seconds: int = Field(
        60,
        ge=0,
        le=3600,
        description="how often the server (or Celery beat) looks for retention runs the data "
        "map's schedules make due; 0: never",
    )
    housekeeping_interval_seconds: int = Field(
        3600, ge=0, description="how often the server deletes what it no longer needs; 0: never"
    )
    max_body_bytes: int = Field(
        64 * 1024, ge=1024, description="largest request body the API reads, in bytes"
    )
    max_bulk_body_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="largest body of a bulk marketing decision (a list of addresses), in bytes",
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
    banner_choices_per_client: int = Field(
        120,
        ge=1,
        description="cookie banner choices recorded from one client network per intake "
        "rate-limit window (docs/banner.md)",
    )
    events_per_client: int = Field(
        3000,
        ge=1,
        description="web events taken from one client network per intake rate-limit window "
        "(docs/banner.md)",
    )

    # --- Single sign-on (OIDC) ------------------------------------------------------------
    # Off unless PERSONVERN_OIDC_ISSUER is set; docs/sso.md explains each setting.
    oidc_issuer: str | None = Field(
        None,
        description="the identity provider's issuer URL, exactly as its tokens' `iss` claim "
        "says, e.g. https://sso.example.com/realms/company; unset: single sign-on is off",
    )
    oidc_client_id: str | None = Field(None, description="personvern's client id at the provider")
    oidc_client_secret: SecretStr | None = Field(
        None, description="the client secret, for the staff sign-in's token request"
    )
    oidc_client_secret_file: Path | None = Field(
        None,
        description="a file holding the client secret (instead of PERSONVERN_OIDC_CLIENT_SECRET)",
    )
    oidc_audience: str | None = Field(
        None,
        description="the `aud` API access tokens must carry; default: the client id",
    )
    oidc_role_claim: str = Field(
        "groups",
        description="the claim holding the user's groups or roles, e.g. groups, roles or "
        "realm_access.roles (dots walk into nested objects)",
    )
    oidc_role_map: Annotated[dict[str, Role], NoDecode] = Field(
        default_factory=dict,
        description="group or role value -> personvern role, e.g. "
        "'personvern-dpo=privacy_officer,personvern-agents=agent'; when a user has several, "
        "the entry listed first wins; a JSON object works too",
    )
    oidc_algorithms: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_OIDC_ALGORITHMS,
        description="signature algorithms accepted, comma-separated (never none or HS*)",
    )
    oidc_scopes: str = Field("openid profile email", description="scopes the staff sign-in asks")
    oidc_jwks_cache_seconds: int = Field(
        3600, ge=60, le=86400, description="how long the provider's signing keys are cached"
    )
    oidc_jwks_min_refresh_seconds: int = Field(
        30,
        ge=1,
        le=3600,
        description="at most one key refresh per this many seconds when a token names an "
        "unknown key, so a flood of made-up key ids cannot hammer the provider",
    )
    oidc_leeway_seconds: int = Field(
        60, ge=0, le=300, description="clock skew allowed on exp, nbf and iat"
    )
    staff_session_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, description="a staff session ends after this long unused"
    )
    staff_session_max_hours: int = Field(
        8, ge=1, le=7 * 24, description="a staff session ends this long after sign-in"
    )
    staff_insecure_cookies: bool = Field(
        False,
        description="development only: send the staff cookies over plain http (localhost); "
        "refused in production",
    )
    staff_local_accounts: bool | None = Field(
        None,
        description="whether staff may sign in with local accounts (`personvern user create`); "
        "default: only when no identity provider is configured (true keeps them as "
        "break-glass accounts beside single sign-on)",
    )
    staff_lockout_attempts: int = Field(
        5,
        ge=1,
        le=100,
        description="failed sign-ins in a row that lock a local staff account",
    )
    staff_lockout_minutes: int = Field(
        15,
        ge=1,
        le=24 * 60,
        description="how long a locked local staff account stays locked, and how close "
        "together failed sign-ins must be to count towards a lock",
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

    @field_validator("retention_own_schedule")
    @classmethod
    def _own_schedule(cls, value: str) -> str:
        from personvern.domain.retention.cron import InvalidScheduleError, parse_schedule

        if not value.strip():
            return ""
        try:
            return parse_schedule(value)
        except InvalidScheduleError as exc:
            raise ValueError(f"{exc} ({exc.hint})") from None

    @field_validator(
        "retention_own_requests",
        "retention_own_download_links",
        "retention_own_consent_proofs",
        "retention_own_web_events",
        "retention_own_audit_events",
    )
    @classmethod
    def _iso_period(cls, value: str) -> str:
        from personvern.domain.retention_period import parse_period

        parse_period(value)  # ValueError: the message names the value and the form
        return value.strip()

    @field_validator("oidc_issuer")
    @classmethod
    def _check_issuer(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            msg = f"'{value}' is not an issuer URL; expected https://host/..."
            raise ValueError(msg)
        if parts.query or parts.fragment:
            msg = "an issuer URL has no query or fragment"
            raise ValueError(msg)
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            # Keys and tokens fetched over plain http could be swapped on the way.
            msg = f"the issuer must use https (plain http only on localhost): {value}"
            raise ValueError(msg)
        return value

    @field_validator("oidc_role_map", mode="before")
    @classmethod
    def _parse_role_map(cls, value: object) -> object:
        if isinstance(value, str) and value.lstrip().startswith("{"):
            # JSON for group names that hold commas or '=' (LDAP DNs, say).
            import json

            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"the role map is not valid JSON: {exc}") from None
        if isinstance(value, str):
            pairs: list[tuple[str, str]] = []
            for item in value.split(","):
                if not item.strip():
                    continue
                name, sep, role = item.rpartition("=")
                if not sep or not name.strip() or not role.strip():
                    msg = (
                        f"'{item.strip()}' is not group=role (e.g. personvern-dpo=privacy_officer)"
                    )
                    raise ValueError(msg)
                pairs.append((name.strip(), role.strip()))
            value = dict(pairs)
        if isinstance(value, dict):
            mapped: dict[str, Role] = {}
            for name, role in value.items():
                try:
                    mapped[str(name)] = parse_role(str(role))
                except PersonvernError as exc:
                    raise ValueError(f"{exc} for '{name}'") from None
            return mapped
        return value

    @field_validator("oidc_algorithms", mode="before")
    @classmethod
    def _check_algorithms(cls, value: object) -> object:
        names = value.split(",") if isinstance(value, str) else value
        if not isinstance(names, list | tuple):
            return value
        algorithms = tuple(str(name).strip() for name in names if str(name).strip())
        if not algorithms:
            msg = "name at least one algorithm, e.g. RS256"
            raise ValueError(msg)
        refused = [name for name in algorithms if name not in ALLOWED_OIDC_ALGORITHMS]
        if refused:
            msg = (
                f"algorithm {', '.join(refused)} is not accepted; use asymmetric ones: "
                + ", ".join(sorted(ALLOWED_OIDC_ALGORITHMS))
            )
            raise ValueError(msg)
        return algorithms

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
                ("oidc_client_secret", self.oidc_client_secret),
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
        self._check_oidc()
        return self

    def _check_oidc(self) -> None:
        if self.staff_insecure_cookies and self.environment == "production":
            msg = "PERSONVERN_STAFF_INSECURE_COOKIES is for development on localhost only"
            raise ValueError(msg)
        if self.oidc_client_secret is not None and self.oidc_client_secret_file is not None:
            msg = (
                "set PERSONVERN_OIDC_CLIENT_SECRET or PERSONVERN_OIDC_CLIENT_SECRET_FILE, not both"
            )
            raise ValueError(msg)
        if self.oidc_client_secret_file is not None:
            try:
                secret = self.oidc_client_secret_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                msg = (
                    f"cannot read PERSONVERN_OIDC_CLIENT_SECRET_FILE "
                    f"{self.oidc_client_secret_file}: {exc.strerror}"
                )
                raise ValueError(msg) from None
            if not secret:
                msg = f"PERSONVERN_OIDC_CLIENT_SECRET_FILE {self.oidc_client_secret_file} is empty"
                raise ValueError(msg)
            self.oidc_client_secret = SecretStr(secret)
        if self.oidc_issuer is None:
            return
        if "openid" not in self.oidc_scopes.split():
            msg = "PERSONVERN_OIDC_SCOPES must include 'openid', or no ID token signs staff in"
            raise ValueError(msg)
        if not self.oidc_client_id:
            msg = "PERSONVERN_OIDC_ISSUER is set but PERSONVERN_OIDC_CLIENT_ID is not"
            raise ValueError(msg)
        if not self.oidc_role_map:
            msg = (
                "PERSONVERN_OIDC_ROLE_MAP is empty, so nobody could sign in; map the "
                "provider's groups to roles, e.g. 'personvern-dpo=privacy_officer'"
            )
            raise ValueError(msg)

    @property
    def oidc_enabled(self) -> bool:
        """Whether single sign-on is configured (PERSONVERN_OIDC_ISSUER is set)."""
        return self.oidc_issuer is not None

    @property
    def oidc_effective_audience(self) -> str:
        """The ``aud`` API access tokens must carry: OIDC_AUDIENCE, else the client id."""
        return self.oidc_audience or self.oidc_client_id or ""

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
    def effective_log_format(self) -> Literal["json", "text"]:
        """The log format: PERSONVERN_LOG_FORMAT, else json in production and text otherwise."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

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

    def own_retention_periods(self) -> dict[str, str]:
        """The periods of personvern's own records, by rule key (domain.retention.own_records)."""
        return {
            "own-requests": self.retention_own_requests,
            "own-unverified-requests": f"P{self.unverified_retention_days}D",
            "own-download-links": self.retention_own_download_links,
            "own-consent-proofs": self.retention_own_consent_proofs,
            "own-web-events": self.retention_own_web_events,
            "own-audit-events": self.retention_own_audit_events,
        }

    @property
    def is_embedded(self) -> bool:
        """Whether personvern runs on its embedded SQLite store."""
        return self.effective_database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        """Whether the server applies migrations itself when it starts."""
        return self.is_embedded if self.auto_migrate is None else self.auto_migrate


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine (localhost or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
