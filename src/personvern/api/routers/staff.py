"""Staff sign-in through the identity provider: `/staff/login`, `/staff/callback`, `/staff/`.

Server-rendered pages for people, not API operations: they are an application of their
own, mounted at /staff, so they stay out of the API's OpenAPI schema and its rule that
every operation there needs a bearer token. The session lives in personvern's store;
the browser holds only a random id in a Secure, HttpOnly, SameSite=Lax cookie (Lax,
because the provider's redirect back to /staff/callback is a cross-site navigation that
must carry the sign-in cookie).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from personvern.api.context import AppContext
from personvern.api.csrf import FIELD as CSRF_FIELD
from personvern.api.csrf import csrf_token, require_csrf
from personvern.api.deps import ContextDep, SessionDep, SettingsDep
from personvern.api.problems import install_problem_handlers
from personvern.security.audit_trail import client_key, record_failed_login, record_staff_sign_in
from personvern.security.errors import AuthError, SsoNotConfiguredError
from personvern.security.oidc.login import (
    LOGIN_STATE_SECONDS,
    StaffLogin,
    callback_parameter,
    provider_refusal,
    seal,
    unseal,
)
from personvern.security.staff_sessions import (
    SessionLifetime,
    close_session,
    open_session,
    session_principal,
)
from personvern.settings import Settings

#: Where the pages are mounted in the API's application.
MOUNT_PATH = "/staff"
router = APIRouter()

#: Pages that show who is signed in must not be kept by the browser or a proxy, nor be
#: framed by another site (a hidden sign-out button) or run anything but their own form.
NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class StaffCookies:
    """The names and flags of the staff cookies for these settings."""

    session: str
    login: str
    secure: bool

    @classmethod
    def of(cls, settings: Settings) -> StaffCookies:
        """``__Host-`` names with Secure, unless plain http on localhost is configured."""
        secure = not settings.staff_insecure_cookies
        # __Host-: the browser accepts the cookie only if Secure, for Path=/ and without a
        # Domain, so no sibling subdomain can plant or read it.
        prefix = "__Host-" if secure else ""
        return cls(
            session=f"{prefix}personvern-staff", login=f"{prefix}personvern-login", secure=secure
        )

    def set(self, response: Response, name: str, value: str, max_age: int) -> None:
        """Set cookie ``name`` with personvern's flags."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def delete(self, response: Response, name: str) -> None:
        """Tell the browser to forget cookie ``name``."""
        response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="lax")


def lifetime(settings: Settings) -> SessionLifetime:
    """The staff session lifetimes the settings ask for."""
    return SessionLifetime(
        idle=timedelta(minutes=settings.staff_session_idle_minutes),
        absolute=timedelta(hours=settings.staff_session_max_hours),
    )


def staff_login(context: AppContext) -> StaffLogin:
    """The sign-in with the configured provider; SsoNotConfiguredError without one."""
    if context.identity_provider is None:
        raise SsoNotConfiguredError(
            "staff sign-in needs an identity provider, and none is configured",
            hint="set PERSONVERN_OIDC_ISSUER, PERSONVERN_OIDC_CLIENT_ID, "
            "PERSONVERN_OIDC_CLIENT_SECRET and PERSONVERN_OIDC_ROLE_MAP (docs/sso.md); "
            "local staff accounts without one are planned for a later release",
        )
    return StaffLogin(context.identity_provider)


def redirect_uri(request: Request, settings: Settings) -> str:
    """Where the provider sends the browser back: from PERSONVERN_PUBLIC_BASE_URL if set."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + "/staff/callback"
    return str(request.url_for("staff_callback"))


def staff_pages(context: AppContext) -> FastAPI:
    """The staff pages as an application to mount at MOUNT_PATH, sharing ``context``."""
    pages = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    pages.state.context = context
    install_problem_handlers(pages)
    pages.include_router(router)
    return pages


@router.get("/login", name="staff_login")
def login(request: Request, context: ContextDep, settings: SettingsDep) -> Response:
    """Send the browser to the identity provider with state, nonce and a PKCE challenge."""
    url, pending = staff_login(context).begin(redirect_uri(request, settings))
    cookies = StaffCookies.of(settings)
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    cookies.set(response, cookies.login, seal(pending, settings.secret()), LOGIN_STATE_SECONDS)
    return response


@router.get("/callback", name="staff_callback")
def callback(
    request: Request,
    context: ContextDep,
    settings: SettingsDep,
    session: SessionDep,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    iss: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """Check the provider's answer, open a server-side session and go to the staff page."""
    sign_in = staff_login(context)
    cookies = StaffCookies.of(settings)
    if error is not None:
        raise provider_refusal(error)
    client = client_key(settings.secret(), request.client.host if request.client else None)
    try:
        pending = unseal(request.cookies.get(cookies.login), settings.secret())
        principal = sign_in.finish(
            pending,
            state=callback_parameter(state, "state"),
            code=callback_parameter(code, "code"),
            issuer=iss,
        )
    except AuthError:
        # Kept although the sign-in fails: a transaction of its own.
        session.rollback()
        record_failed_login(
            session,
            None,
            method=request.method,
            path=request.url.path,
            client=client,
            shape="staff_sign_in",
        )
        session.commit()
        raise
    record_staff_sign_in(session, principal, client=client)
    session_lifetime = lifetime(settings)
    # A fresh id at every sign-in (no session fixation), and the browser's old one ends.
    close_session(session, request.cookies.get(cookies.session))
    session_id = open_session(session, principal, session_lifetime)
    response = RedirectResponse("/staff/", status_code=303, headers=NO_STORE)
    cookies.delete(response, cookies.login)
    cookies.set(
        response, cookies.session, session_id, int(session_lifetime.absolute.total_seconds())
    )
    return response


@router.get("/", name="staff_home")
def home(request: Request, settings: SettingsDep, session: SessionDep) -> Response:
    """A minimal page saying in which role the browser is signed in (the console comes later)."""
    cookies = StaffCookies.of(settings)
    principal = session_principal(session, request.cookies.get(cookies.session), lifetime(settings))
    if principal is None:
        return RedirectResponse("/staff/login", status_code=303, headers=NO_STORE)
    role = html.escape(principal.role.value)
    response = HTMLResponse("", headers=NO_STORE)
    token = html.escape(csrf_token(request, response, settings.secret()))
    response.body = response.render(
        _page(
            "personvern staff",
            f"<p>Signed in as <strong>{role}</strong>.</p>"
            '<form method="post" action="/staff/logout">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">'
            "<button>Sign out</button></form>",
        )
    )
    # The body was replaced after the headers were made.
    response.headers["content-length"] = str(len(response.body))
    return response


@router.post("/logout", name="staff_logout", dependencies=[Depends(require_csrf)])
def logout(request: Request, settings: SettingsDep, session: SessionDep) -> Response:
    """End the session in the store (not just in the browser) and forget the cookie."""
    cookies = StaffCookies.of(settings)
    close_session(session, request.cookies.get(cookies.session))
    response = HTMLResponse(
        _page("Signed out", '<p>Signed out. <a href="/staff/login">Sign in again</a>.</p>'),
        headers=NO_STORE,
    )
    cookies.delete(response, cookies.session)
    return response


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )
