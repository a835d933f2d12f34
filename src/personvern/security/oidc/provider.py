"""The identity provider as personvern sees it: its discovery document and signing keys."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2

from personvern.domain.roles import Role
from personvern.security.errors import IdentityProviderError
from personvern.security.oidc.keys import SigningKeys
from personvern.security.oidc.validation import TokenValidator
from personvern.settings import Settings, is_loopback_host

#: Seconds to wait for the identity provider; a sign-in should fail fast, not hang.
HTTP_TIMEOUT_SECONDS = 10.0
#: Discovery documents and key sets are small; anything bigger is not one.
MAX_DOCUMENT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document (OpenID Connect Discovery 1.0) personvern uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    token_endpoint_auth_methods: tuple[str, ...]


@dataclass(frozen=True)
class OidcConfig:
    """What personvern needs to know about its identity provider (from the settings)."""

    issuer: str
    client_id: str
    client_secret: str | None
    audience: str
    role_claim: str
    role_map: Mapping[str, Role]
    algorithms: tuple[str, ...]
    scopes: str
    jwks_cache_seconds: int
    jwks_min_refresh_seconds: int
    leeway_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig:
        """The OIDC block of ``settings``; call only when ``settings.oidc_enabled``."""
        assert settings.oidc_issuer is not None
        assert settings.oidc_client_id is not None
        secret = settings.oidc_client_secret
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            audience=settings.oidc_effective_audience,
            role_claim=settings.oidc_role_claim,
            role_map=dict(settings.oidc_role_map),
            algorithms=settings.oidc_algorithms,
            scopes=settings.oidc_scopes,
            jwks_cache_seconds=settings.oidc_jwks_cache_seconds,
            jwks_min_refresh_seconds=settings.oidc_jwks_min_refresh_seconds,
            leeway_seconds=settings.oidc_leeway_seconds,
        )


class IdentityProvider:
    """The configured provider: discovery (cached) and its signing keys."""

    def __init__(self, config: OidcConfig, http: httpx2.Client | None = None) -> None:
        self.config = config
        self._http = http or httpx2.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._lock = threading.Lock()
        self.keys = SigningKeys(
            lambda: self.fetch_json(self.metadata().jwks_uri),
            lifetime_seconds=config.jwks_cache_seconds,
            min_refresh_seconds=config.jwks_min_refresh_seconds,
        )
        self.validator = TokenValidator(
            issuer=config.issuer,
            keys=self.keys,
            algorithms=config.algorithms,
            leeway_seconds=config.leeway_seconds,
        )

    def metadata(self) -> ProviderMetadata:
        """The discovery document, fetched on first use and again after the cache lifetime."""
        with self._lock:
            now = time.monotonic()
            stale = now - self._metadata_at >= self.config.jwks_cache_seconds
            if self._metadata is None or stale:
                try:
                    self._metadata = self._discover()
                    self._metadata_at = now
                except IdentityProviderError:
                    if self._metadata is None:
                        raise
            return self._metadata

    def fetch_json(self, url: str) -> Mapping[str, Any]:
        """GET ``url`` from the provider and parse it as a JSON object."""
        where = "the identity provider"
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx2.HTTPError as exc:
            raise IdentityProviderError(
                f"{where} did not answer at {url}: {type(exc).__name__}",
                hint="check PERSONVERN_OIDC_ISSUER and that personvern can reach the provider",
            ) from None
        if response.status_code != 200:
            raise IdentityProviderError(
                f"{where} answered {response.status_code} at {url}",
                hint="check PERSONVERN_OIDC_ISSUER (the realm or tenant in it)",
            )
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise IdentityProviderError(f"{where} sent more than a discovery document at {url}")
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise IdentityProviderError(f"{where} did not send a JSON object at {url}")
        return document

    def close(self) -> None:
        """Close the connections to the provider."""
        self._http.close()

    def _discover(self) -> ProviderMetadata:
        issuer = self.config.issuer
        document = self.fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if document.get("issuer") != issuer:
            # OpenID Connect Discovery 1.0 §4.3: a document for another issuer is refused,
            # or tokens from one tenant or realm would be taken for another's.
            raise IdentityProviderError(
                "the discovery document names another issuer than PERSONVERN_OIDC_ISSUER",
                hint=f"set PERSONVERN_OIDC_ISSUER to exactly {str(document.get('issuer'))[:200]!r}",
            )
        methods = document.get("token_endpoint_auth_methods_supported")
        return ProviderMetadata(
            issuer=issuer,
            authorization_endpoint=_endpoint(document, "authorization_endpoint"),
            token_endpoint=_endpoint(document, "token_endpoint"),
            jwks_uri=_endpoint(document, "jwks_uri"),
            end_session_endpoint=(
                _endpoint(document, "end_session_endpoint")
                if document.get("end_session_endpoint")
                else None
            ),
            token_endpoint_auth_methods=(
                tuple(str(m) for m in methods)
                if isinstance(methods, list)
                else ("client_secret_basic",)
            ),
        )


def _endpoint(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or not parts.hostname:
        raise IdentityProviderError(f"the discovery document has no usable {name}")
    if parts.scheme != "https" and not (
        parts.scheme == "http" and is_loopback_host(parts.hostname)
    ):
        raise IdentityProviderError(f"the discovery document's {name} does not use https")
    assert isinstance(value, str)
    return value
