"""Staff sign-in: the authorization code flow with PKCE (RFC 7636), through Authlib.

The browser is sent to the provider with a fresh state, nonce and PKCE challenge; what
the callback needs to check the answer (state, nonce, code verifier) travels in a short-
lived cookie that is encrypted and authenticated with the installation's secret key, so
any server of the installation can finish a sign-in another one began, and the browser
can neither read nor alter it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from cryptography.fernet import Fernet, InvalidToken

from personvern.security.errors import AuthError, IdentityProviderError
from personvern.security.oidc.authenticator import principal_from_claims
from personvern.security.oidc.provider import HTTP_TIMEOUT_SECONDS, IdentityProvider
from personvern.security.principal import Principal

#: Seconds a sign-in may take between leaving for the provider and coming back.
LOGIN_STATE_SECONDS = 600
#: Longest code or state the callback takes; real ones are far shorter.
MAX_PARAMETER_LENGTH = 2048
_PARAMETER = re.compile(r"^[\x21-\x7e]+$")
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
_RESTART = "start again at /staff/login"


@dataclass(frozen=True)
class PendingLogin:
    """What the callback checks the provider's answer against."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str


def _cipher(secret: str) -> Fernet:
    # A key of its own, derived from the installation's, so nothing else it signs or
    # hashes can ever be taken for a sign-in state.
    key = hmac.new(secret.encode("utf-8"), b"personvern staff sign-in state", hashlib.sha256)
    return Fernet(base64.urlsafe_b64encode(key.digest()))


def seal(pending: PendingLogin, secret: str) -> str:
    """``pending`` encrypted and authenticated, for a cookie."""
    return _cipher(secret).encrypt(json.dumps(asdict(pending)).encode("utf-8")).decode("ascii")


def unseal(value: str | None, secret: str) -> PendingLogin:
    """The pending sign-in in a cookie; AuthError if missing, altered or too old."""
    if not value:
        raise AuthError("no sign-in is under way in this browser", hint=_RESTART)
    try:
        data = json.loads(_cipher(secret).decrypt(value.encode("ascii"), ttl=LOGIN_STATE_SECONDS))
        return PendingLogin(**data)
    except (InvalidToken, UnicodeError, ValueError, TypeError):
        raise AuthError(
            "the sign-in took too long, or its cookie was altered", hint=_RESTART
        ) from None


def callback_parameter(value: str | None, name: str) -> str:
    """A query parameter of the callback, checked before anything uses it."""
    if not value or len(value) > MAX_PARAMETER_LENGTH or not _PARAMETER.match(value):
        raise AuthError(f"the identity provider's answer has no usable '{name}'", hint=_RESTART)
    return value


def provider_refusal(error: str) -> AuthError:
    """The error for a callback that carries ``error`` instead of a code."""
    shown = error if _ERROR_CODE.match(error) else "an unrecognised error"
    return AuthError(f"the identity provider did not sign the user in: {shown}", hint=_RESTART)


class StaffLogin:
    """Begins and finishes staff sign-ins with one identity provider."""

    def __init__(self, provider: IdentityProvider) -> None:
        self.provider = provider

    def begin(self, redirect_uri: str) -> tuple[str, PendingLogin]:
        """The provider's authorization URL to send the browser to, and what to remember."""
        metadata = self.provider.metadata()
        pending = PendingLogin(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            # 64 characters from the unreserved set: within RFC 7636's 43 to 128.
            code_verifier=secrets.token_urlsafe(48),
            redirect_uri=redirect_uri,
        )
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata.authorization_endpoint,
                state=pending.state,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
            )
        return str(url), pending

    def finish(
        self, pending: PendingLogin, *, state: str, code: str, issuer: str | None = None
    ) -> Principal:
        """The principal the provider signed in, once its answer checks out; else AuthError."""
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise AuthError("the sign-in's state does not match this browser's", hint=_RESTART)
        config = self.provider.config
        if issuer is not None and issuer != config.issuer:
            # RFC 9207: an answer from another provider (mix-up attack) is refused.
            raise AuthError("the sign-in was answered by another issuer", hint=_RESTART)
        metadata = self.provider.metadata()
        try:
            with self._client(pending.redirect_uri) as client:
                token = client.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                    redirect_uri=pending.redirect_uri,
                )
        except OAuthError as exc:
            raise provider_refusal(str(exc.error or "")) from None
        except (httpx2.HTTPError, ValueError) as exc:
            raise IdentityProviderError(
                f"the identity provider's token endpoint failed: {type(exc).__name__}",
                hint="check that personvern can reach it and that the client secret is right",
            ) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise AuthError(
                "the identity provider sent no ID token",
                hint="include the scope 'openid' in PERSONVERN_OIDC_SCOPES",
            )
        claims = self.provider.validator.validate(
            id_token, audience=config.client_id, nonce=pending.nonce
        )
        if claims.get("azp", config.client_id) != config.client_id:
            # OpenID Connect Core 3.1.3.7: an ID token issued to another client (which
            # merely lists personvern among its audiences) does not sign anyone in here.
            raise AuthError("the ID token was issued to another client (azp)", hint=_RESTART)
        return principal_from_claims(claims, self.provider)

    def _client(self, redirect_uri: str) -> OAuth2Client:
        config = self.provider.config
        return OAuth2Client(
            client_id=config.client_id,
            client_secret=config.client_secret,
            token_endpoint_auth_method=self._auth_method(),
            scope=config.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT_SECONDS,
            follow_redirects=False,
        )

    def _auth_method(self) -> str:
        if self.provider.config.client_secret is None:
            # A public client: PKCE alone protects the code.
            return "none"
        supported = self.provider.metadata().token_endpoint_auth_methods
        if "client_secret_basic" not in supported and "client_secret_post" in supported:
            return "client_secret_post"
        return "client_secret_basic"
