"""Staff sign-in: authorization code flow with PKCE against a real provider, server-side session."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import cookie_parser

from personvern.api.access_log import RedactDownloadLinks
from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.security.oidc.login import PendingLogin, seal, unseal
from personvern.settings import Settings
from personvern.store.audit_events import AuditTrail
from personvern.store.staff_sessions import StaffSession
from tests.integration.security.conftest import BASE_URL
from tests.support.oidc_provider import FakeIdp

SESSION_COOKIE = "__Host-personvern-staff"
LOGIN_COOKIE = "__Host-personvern-login"


def start_login(client: TestClient) -> str:
    """Follow /staff/login to the provider, which approves; returns the callback URL."""
    login = client.get("/staff/login")
    assert 303 == login.status_code
    authorize = httpx2.get(login.headers["location"], follow_redirects=False)
    assert 302 == authorize.status_code, authorize.text
    callback = authorize.headers["location"]
    assert callback.startswith(f"{BASE_URL}/staff/callback?")
    return callback


def sign_out(client: TestClient) -> httpx2.Response:
    """Press the staff page's sign-out button (the form carries its CSRF token)."""
    page = client.get("/staff/")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return client.post("/staff/logout", data={"csrf_token": match.group(1)})


def replace_cookie(client: TestClient, name: str, value: str) -> None:
    """Put ``value`` in the browser's cookie ``name``, as a tampering user could."""
    [cookie] = [c for c in client.cookies.jar if c.name == name]
    client.cookies.delete(name)
    client.cookies.set(name, value, domain=cookie.domain, path=cookie.path)


def sessions(app: FastAPI) -> list[StaffSession]:
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        return list(uow.session.scalars(sa.select(StaffSession)))


def test_the_login_redirect_asks_for_pkce_state_and_nonce(
    oidc_client: TestClient, idp: FakeIdp
) -> None:
    response = oidc_client.get("/staff/login")
    location = urlsplit(response.headers["location"])
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert f"{idp.issuer}/authorize" == f"{location.scheme}://{location.netloc}{location.path}"
    assert ("code", "S256", "personvern", f"{BASE_URL}/staff/callback") == (
        query["response_type"],
        query["code_challenge_method"],
        query["client_id"],
        query["redirect_uri"],
    )
    assert all(len(query[name]) >= 43 for name in ("state", "nonce", "code_challenge"))
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{LOGIN_COOKIE}=")
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Secure", "Max-Age=600"):
        assert flag in cookie


def test_a_full_sign_in_opens_a_server_side_session_and_logout_ends_it(
    oidc_client: TestClient, oidc_app: FastAPI, idp: FakeIdp
) -> None:
    callback = oidc_client.get(start_login(oidc_client))
    assert (303, "/staff/") == (callback.status_code, callback.headers["location"])
    set_cookies = callback.headers.get_list("set-cookie")
    session_cookie = next(c for c in set_cookies if c.startswith(f"{SESSION_COOKIE}="))
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Secure"):
        assert flag in session_cookie
    assert "Domain" not in session_cookie
    assert any(c.startswith(f'{LOGIN_COOKIE}=""') for c in set_cookies), "one-time state kept"

    page = oidc_client.get("/staff/")
    assert 200 == page.status_code
    assert "<strong>personvernombud</strong>" in page.text, "the role, in the default language"
    assert "no-store" == page.headers["cache-control"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "dina.dpo" not in page.text

    [row] = sessions(oidc_app)
    session_id = oidc_client.cookies[SESSION_COOKIE]
    assert ("oidc:user-0001", "privacy_officer") == (row.subject, row.role)
    assert session_id not in row.id_hash

    jar_entry = next(c for c in oidc_client.cookies.jar if c.name == SESSION_COOKIE)
    refused = oidc_client.post("/staff/logout")
    assert 403 == refused.status_code, "a sign-out without the form's CSRF token"
    assert 1 == len(sessions(oidc_app))
    out = sign_out(oidc_client)
    assert 200 == out.status_code
    assert [] == sessions(oidc_app), "the session must end on the server, not just the cookie"
    # Even a browser that kept the cookie is no longer signed in.
    oidc_client.cookies.set(SESSION_COOKIE, session_id, domain=jar_entry.domain, path="/")
    assert 303 == oidc_client.get("/staff/").status_code


def test_signing_in_again_replaces_the_session(
    oidc_client: TestClient, oidc_app: FastAPI, idp: FakeIdp
) -> None:
    oidc_client.get(start_login(oidc_client))
    first = oidc_client.cookies[SESSION_COOKIE]
    idp.user["groups"] = ["personvern-agents"]
    oidc_client.get(start_login(oidc_client))
    assert first != oidc_client.cookies[SESSION_COOKIE]
    assert ["agent"] == [row.role for row in sessions(oidc_app)]
    assert "<strong>kundeservice</strong>" in oidc_client.get("/staff/").text
    sign_out(oidc_client)


def sent_cookie(client: TestClient, name: str) -> str:
    """The cookie ``name`` as the server reads it back (unquoted).

    The client's jar may keep a value quoted as Set-Cookie sent it (seen with httpx2
    2.17.0); the browser sends it back so, and the server's parser unquotes it.
    """
    return cookie_parser(f"{name}={client.cookies[name]}")[name]


def test_the_provider_rejects_a_wrong_code_verifier(
    oidc_client: TestClient, oidc_app: FastAPI, idp: FakeIdp
) -> None:
    secret = oidc_app.state.context.settings.secret()
    callback = start_login(oidc_client)
    real = unseal(sent_cookie(oidc_client, LOGIN_COOKIE), secret)
    # Same state and nonce, another verifier: only PKCE can tell this browser is not the
    # one that began the sign-in.
    forged = PendingLogin(real.state, real.nonce, "x" * 64, real.redirect_uri)
    replace_cookie(oidc_client, LOGIN_COOKIE, seal(forged, secret))
    response = oidc_client.get(callback)
    assert 401 == response.status_code
    assert (
        "the identity provider did not sign the user in: invalid_grant"
        == (response.json()["detail"])
    )
    assert ["PKCE code_verifier"] == idp.refusals
    assert SESSION_COOKIE not in oidc_client.cookies


def test_an_id_token_for_another_sign_in_is_refused(
    oidc_client: TestClient, oidc_app: FastAPI, idp: FakeIdp
) -> None:
    secret = oidc_app.state.context.settings.secret()
    callback = start_login(oidc_client)
    real = unseal(sent_cookie(oidc_client, LOGIN_COOKIE), secret)
    forged = PendingLogin(real.state, "another-nonce", real.code_verifier, real.redirect_uri)
    replace_cookie(oidc_client, LOGIN_COOKIE, seal(forged, secret))
    response = oidc_client.get(callback)
    assert 401 == response.status_code
    assert "nonce mismatch" in response.json()["detail"]


@pytest.mark.parametrize(
    ("tamper", "detail"),
    [
        (lambda url: url.replace("state=", "state=x"), "the sign-in's state does not match"),
        (lambda url: url.split("?")[0] + "?error=access_denied", "did not sign the user in"),
        (lambda url: url.split("?")[0] + "?error=%3Cscript%3E", "an unrecognised error"),
        (lambda url: url.split("?")[0] + "?state=abc", "has no usable 'code'"),
    ],
)
def test_a_tampered_callback_is_refused(
    oidc_client: TestClient, idp: FakeIdp, tamper: object, detail: str
) -> None:
    callback = start_login(oidc_client)
    response = oidc_client.get(tamper(callback))  # type: ignore[operator]
    assert (401, "application/problem+json") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert detail in response.json()["detail"]
    assert "<script>" not in response.text


def test_a_callback_without_the_sign_in_cookie_is_refused(
    oidc_client: TestClient, idp: FakeIdp
) -> None:
    callback = start_login(oidc_client)
    oidc_client.cookies.clear()
    response = oidc_client.get(callback)
    assert 401 == response.status_code
    assert "no sign-in is under way in this browser" == response.json()["detail"]


def test_a_user_whose_group_maps_to_no_role_gets_no_session(
    oidc_client: TestClient, oidc_app: FastAPI, idp: FakeIdp
) -> None:
    idp.user["groups"] = ["sales"]
    response = oidc_client.get(start_login(oidc_client))
    assert 403 == response.status_code
    assert "PERSONVERN_OIDC_ROLE_MAP" in response.json()["hint"]
    assert [] == sessions(oidc_app)


def test_an_id_token_issued_to_another_client_signs_nobody_in(
    oidc_client: TestClient, oidc_app: FastAPI, idp: FakeIdp
) -> None:
    idp.user |= {"aud": ["personvern", "other-app"], "azp": "other-app"}
    response = oidc_client.get(start_login(oidc_client))
    assert 401 == response.status_code
    assert "the ID token was issued to another client (azp)" == response.json()["detail"]
    assert [] == sessions(oidc_app)


def test_the_staff_page_without_a_session_sends_to_sign_in(oidc_client: TestClient) -> None:
    response = oidc_client.get("/staff/")
    assert (303, "/staff/login") == (response.status_code, response.headers["location"])


def test_without_sso_the_login_page_asks_for_a_local_account(
    tmp_path: Path, example_datamap_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None)
    with TestClient(create_app(settings, example_datamap_path)) as client:
        response = client.get("/staff/login")
        sso = client.get("/staff/login/sso")
    assert 200 == response.status_code
    assert 'name="password"' in response.text
    assert "/staff/login/sso" not in response.text, "no provider to offer"
    assert (503, "Single sign-on is not configured") == (sso.status_code, sso.json()["title"])
    assert "personvern user create" in sso.json()["hint"]


def test_the_access_log_never_holds_the_authorization_code() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/staff/callback?code=SECRETCODE&state=S", "1.1", 303),
        None,
    )
    RedactDownloadLinks().filter(record)
    assert "SECRETCODE" not in record.getMessage()
    assert "/staff/callback?<redacted>" in record.getMessage()


def audit_head(app: FastAPI) -> int:
    """The sequence number of the audit trail's newest event (the app is shared)."""
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        return AuditTrail(uow.session).head()[0]


def audit_events(app: FastAPI, action: str, after: int) -> list[tuple[str, str, dict[str, str]]]:
    """(actor, outcome, detail) of the audit events of ``action`` after ``after``."""
    context: AppContext = app.state.context
    with context.application.unit_of_work() as uow:
        rows = AuditTrail(uow.session).page(action=action, after=after)
        return [(row.actor_subject, row.outcome, dict(row.detail)) for row in rows]


def test_sign_ins_and_refused_sign_ins_are_in_the_audit_trail(
    oidc_client: TestClient, oidc_app: FastAPI, idp: FakeIdp
) -> None:
    before = audit_head(oidc_app)
    oidc_client.get(start_login(oidc_client))
    [(actor, outcome, detail)] = audit_events(oidc_app, "login.succeeded", before)
    assert ("oidc:user-0001", "success", "staff_sign_in") == (actor, outcome, detail["via"])

    idp.user["groups"] = ["nobody-maps-this"]
    refused = oidc_client.get(start_login(oidc_client))
    assert 403 == refused.status_code
    [(actor, outcome, detail)] = audit_events(oidc_app, "login.failed", before)
    assert ("denied", "staff_sign_in", "/staff/callback") == (
        outcome,
        detail["credential"],
        detail["path"],
    )
    assert "user-0001" not in actor
