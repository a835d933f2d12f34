"""A small but real OpenID Connect provider for tests: discovery, JWKS, authorize, token.

It runs under uvicorn on 127.0.0.1 and signs with real RSA and EC keys, so personvern's
side is tested over HTTP exactly as it talks to Keycloak or Entra ID. /authorize approves
at once (the user is whoever ``user`` says) and /token checks the client's secret, the
redirect URI and the PKCE code verifier (S256), refusing a wrong one as a real one must.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.support.live_server import serving

CLIENT_ID = "personvern"
CLIENT_SECRET = "test-client-secret-that-is-long-enough"


@dataclass
class SigningKey:
    """A private key the provider signs with, and how it is published."""

    kid: str
    algorithm: str
    private: Any

    @classmethod
    def rsa(cls, kid: str, algorithm: str = "RS256") -> SigningKey:
        """A new 2048-bit RSA key."""
        return cls(kid, algorithm, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, kid: str) -> SigningKey:
        """A new P-256 key for ES256."""
        return cls(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        """The public half as a JWK."""
        codec = ECAlgorithm if self.algorithm.startswith("ES") else RSAAlgorithm
        data: dict[str, Any] = codec.to_jwk(self.private.public_key(), as_dict=True)
        return {**data, "kid": self.kid, "use": "sig", "alg": self.algorithm}


@dataclass
class Grant:
    """An authorization code handed out by /authorize, waiting for /token."""

    redirect_uri: str
    code_challenge: str
    nonce: str | None
    claims: dict[str, Any]


@dataclass
class FakeIdp:
    """The provider's state; tests change keys and the user between calls."""

    issuer: str = ""
    keys: list[SigningKey] = field(default_factory=list)
    #: Claims of the user /authorize signs in.
    user: dict[str, Any] = field(default_factory=dict)
    redirect_uris: set[str] = field(default_factory=set)
    grants: dict[str, Grant] = field(default_factory=dict)
    jwks_requests: int = 0
    #: While set, every endpoint answers 503, as a provider in an outage.
    down: bool = False
    #: Why /token refused the last request, for assertions.
    refusals: list[str] = field(default_factory=list)

    @property
    def signing_key(self) -> SigningKey:
        """The key new tokens are signed with (the first published one)."""
        return self.keys[0]

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Access-token claims for the user, valid now for five minutes; overrides win."""
        now = int(time.time())
        base = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "user-0001",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            **self.user,
        }
        base.update(overrides)
        return {name: value for name, value in base.items() if value is not None}

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """A JWT of ``claims`` signed with ``key`` (default: the current signing key)."""
        key = key or self.signing_key
        return jwt.encode(
            claims,
            key.private,
            algorithm=key.algorithm,
            headers={"kid": key.kid, **(headers or {})},
        )

    def token(self, **overrides: Any) -> str:
        """A valid access token for the user, with ``overrides`` applied to its claims."""
        return self.sign(self.claims(**overrides))


def provider_app(state: FakeIdp) -> FastAPI:
    """The provider's HTTP endpoints over ``state``."""
    app = FastAPI(openapi_url=None)

    @app.middleware("http")
    async def outage(request: Request, call_next: Any) -> Response:
        if state.down:
            return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
        response: Response = await call_next(request)
        return response

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": state.issuer,
            "authorization_endpoint": f"{state.issuer}/authorize",
            "token_endpoint": f"{state.issuer}/token",
            "jwks_uri": f"{state.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        state.jwks_requests += 1
        return {"keys": [key.jwk() for key in state.keys]}

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        query = request.query_params
        problems = [
            name
            for name, ok in (
                ("client_id", query.get("client_id") == CLIENT_ID),
                ("redirect_uri", query.get("redirect_uri") in state.redirect_uris),
                ("response_type", query.get("response_type") == "code"),
                ("code_challenge_method", query.get("code_challenge_method") == "S256"),
                ("code_challenge", bool(query.get("code_challenge"))),
                ("scope", "openid" in (query.get("scope") or "").split()),
            )
            if not ok
        ]
        if problems:
            return JSONResponse({"error": "invalid_request", "bad": problems}, status_code=400)
        code = secrets.token_urlsafe(24)
        state.grants[code] = Grant(
            redirect_uri=query["redirect_uri"],
            code_challenge=query["code_challenge"],
            nonce=query.get("nonce"),
            claims=dict(state.user),
        )
        answer = {"code": code, "state": query.get("state", ""), "iss": state.issuer}
        return RedirectResponse(f"{query['redirect_uri']}?{urlencode(answer)}", status_code=302)

    @app.post("/token")
    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}

        def refuse(error: str, why: str) -> Response:
            state.refusals.append(why)
            return JSONResponse({"error": error}, status_code=400)

        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if not hmac.compare_digest(request.headers.get("authorization", ""), expected):
            return refuse("invalid_client", "client authentication")
        if form.get("grant_type") != "authorization_code":
            return refuse("unsupported_grant_type", "grant_type")
        grant = state.grants.pop(form.get("code", ""), None)
        if grant is None:
            return refuse("invalid_grant", "unknown or used code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return refuse("invalid_grant", "redirect_uri")
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if not hmac.compare_digest(challenge, grant.code_challenge):
            return refuse("invalid_grant", "PKCE code_verifier")
        id_claims = state.claims(**grant.claims, nonce=grant.nonce)
        return JSONResponse(
            {
                "access_token": state.sign(state.claims(**grant.claims)),
                "id_token": state.sign(id_claims),
                "token_type": "Bearer",
                "expires_in": 300,
            },
            headers={"Cache-Control": "no-store"},
        )

    return app


@contextmanager
def running_provider(keys: list[SigningKey]) -> Iterator[FakeIdp]:
    """Serve a provider signing with ``keys`` on a free port until the block ends."""
    state = FakeIdp(keys=list(keys))
    with serving(provider_app(state)) as url:
        state.issuer = url
        yield state


def unsigned(claims: dict[str, Any]) -> str:
    """A token with ``alg: none`` and no signature, as an attacker would send."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def hs256_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """An HS256 token whose HMAC secret is the provider's public key (key confusion).

    PyJWT refuses to make one, rightly, so it is put together by hand.
    """
    from cryptography.hazmat.primitives import serialization

    public = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    body = part(json.dumps(claims).encode())
    signature = hmac.new(public, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(signature)}"
