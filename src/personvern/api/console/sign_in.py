"""Signing staff in and out: the identity provider (OIDC) or local accounts.

With a provider configured, ``/staff/login`` sends the browser there (authorization code
flow with PKCE) and ``/staff/callback`` opens the session. Without one, or where local
accounts are allowed beside it (break-glass), ``/staff/login`` shows a user name and
password form. Either way the session lives in personvern's store; the browser holds
only a random id in a Secure, HttpOnly, SameSite=Lax cookie (Lax, because the
provider's redirect back to /staff/callback is a cross-site navigation that must carry
the sign-in cookie).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from personvern.api.console.language import LANGUAGE_COOKIE, Language
from personvern.api.console.pages import (
    NO_STORE,
    StaffCookies,
    first,
    form_fields,
    lifetime,
    redirect,
    render,
)
from personvern.api.context import AppContext
from personvern.api.csrf import require_csrf
from personvern.api.deps import ContextDep, SessionDep, SettingsDep, failure_limit
from personvern.errors import ErrorKind, PersonvernError
from personvern.intake import rate_limit
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
from personvern.security.principal import Principal
from personvern.security.staff_accounts import local_accounts_enabled, sign_in_with_password
from personvern.security.staff_sessions import close_session, open_session, session_principal
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.staff_preferences import StaffPreferenceRepository

router = APIRouter()


def staff_login(context: AppContext) -> StaffLogin:
    """The sign-in with the configured provider; SsoNotConfiguredError without one."""
    if context.identity_provider is None:
        raise SsoNotConfiguredError(
            "staff sign-in through an identity provider is not configured",
            hint="set PERSONVERN_OIDC_ISSUER, PERSONVERN_OIDC_CLIENT_ID, "
            "PERSONVERN_OIDC_CLIENT_SECRET and PERSONVERN_OIDC_ROLE_MAP (docs/sso.md), or "
            "sign in with a local staff account (`personvern user create`)",
        )
    return StaffLogin(context.identity_provider)


def redirect_uri(request: Request, settings: Settings) -> str:
    """Where the provider sends the browser back: from PERSONVERN_PUBLIC_BASE_URL if set."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + "/staff/callback"
    return str(request.url_for("staff_callback"))


def _client(request: Request, settings: Settings) -> str | None:
    return client_key(settings.secret(), request.client.host if request.client else None)


def _start_session(
    request: Request, settings: Settings, session: Session, principal: Principal
) -> Response:
    session_lifetime = lifetime(settings)
    cookies = StaffCookies.of(settings)
    # A fresh id at every sign-in (no session fixation), and the browser's old one ends.
    close_session(session, request.cookies.get(cookies.session))
    session_id = open_session(session, principal, session_lifetime)
    response = RedirectResponse("/staff/", status_code=303, headers=NO_STORE)
    cookies.delete(response, cookies.login)
    cookies.set(
        response, cookies.session, session_id, int(session_lifetime.absolute.total_seconds())
    )
    return response


@router.get("/login", name="staff_login")
def login(request: Request, context: ContextDep, settings: SettingsDep) -> Response:
    """The password form, or (with only a provider) the way to the identity provider."""
    if local_accounts_enabled(settings):
        return render(
            request,
            settings,
            "login.html.j2",
            title_key="login.title",
            sso=context.identity_provider is not None,
            error=None,
        )
    return sso_login(request, context, settings)


@router.get("/login/sso", name="staff_sso_login")
def sso_login(request: Request, context: ContextDep, settings: SettingsDep) -> Response:
    """Send the browser to the identity provider with state, nonce and a PKCE challenge."""
    url, pending = staff_login(context).begin(redirect_uri(request, settings))
    cookies = StaffCookies.of(settings)
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    cookies.set(response, cookies.login, seal(pending, settings.secret()), LOGIN_STATE_SECONDS)
    return response


@router.post("/login", name="staff_password_login", dependencies=[Depends(require_csrf)])
async def password_login(
    request: Request, context: ContextDep, settings: SettingsDep, session: SessionDep
) -> Response:
    """Check a local account's user name and password and open a session.

    Besides each account's own lock-out, failures count against the client's network
    like failed API credentials: one client cannot try many user names.
    """
    fields = await form_fields(request)
    limit = failure_limit(request, context)
    window = timedelta(seconds=settings.auth_failure_window_seconds)
    wait = rate_limit.wait_for(session, limit, window, utcnow())
    if wait is not None:
        raise rate_limit.limited(limit, wait)
    if not local_accounts_enabled(settings):
        raise AuthError(
            "sign-in with local accounts is turned off: staff sign in through the company's "
            "identity provider",
            hint="use /staff/login/sso, or set PERSONVERN_STAFF_LOCAL_ACCOUNTS=true",
        )
    try:
        principal = sign_in_with_password(
            session,
            first(fields, "username")[:200],
            first(fields, "password")[:1024],
            settings=settings,
            client=_client(request, settings),
        )
    except PersonvernError as refused:
        if refused.kind not in (ErrorKind.UNAUTHENTICATED, ErrorKind.TOO_MANY):
            raise
        # The failed attempt (and a lock-out) stays recorded although the sign-in fails.
        rate_limit.try_take(session, limit, window, utcnow())
        session.commit()
        return render(
            request,
            settings,
            "login.html.j2",
            status_code=429 if refused.kind is ErrorKind.TOO_MANY else 401,
            title_key="login.title",
            sso=False,
            error=refused,
        )
    return _start_session(request, settings, session, principal)


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
    """Check the provider's answer, open a server-side session and go to the inbox."""
    sign_in = staff_login(context)
    cookies = StaffCookies.of(settings)
    if error is not None:
        raise provider_refusal(error)
    client = _client(request, settings)
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
    return _start_session(request, settings, session, principal)


@router.post("/logout", name="staff_logout", dependencies=[Depends(require_csrf)])
def logout(request: Request, settings: SettingsDep, session: SessionDep) -> Response:
    """End the session in the store (not just in the browser) and forget the cookie."""
    cookies = StaffCookies.of(settings)
    close_session(session, request.cookies.get(cookies.session))
    response = render(request, settings, "signed_out.html.j2", title_key="logout.title")
    cookies.delete(response, cookies.session)
    return response


@router.post("/language", name="staff_language", dependencies=[Depends(require_csrf)])
async def choose_language(request: Request, settings: SettingsDep, session: SessionDep) -> Response:
    """Remember the language and go back to the page they were on.

    Signed in, the choice is saved as the user's setting in the store, so it follows them
    to another browser and the next sign-in. The browser keeps it in a cookie as well,
    for the pages nobody is signed in to (the sign-in page, the privacy centre).
    """
    fields = await form_fields(request)
    chosen = first(fields, "lang")
    back = first(fields, "next")
    # Only a path of the console or the privacy centre: never an open redirect elsewhere.
    if not back.startswith(("/staff/", "/privacy/")) or "//" in back or "\\" in back:
        back = "/staff/"
    response = redirect(back)
    if chosen not in (Language.NB, Language.EN):
        return response
    cookies = StaffCookies.of(settings)
    principal = session_principal(session, request.cookies.get(cookies.session), lifetime(settings))
    if principal is not None:
        StaffPreferenceRepository(session).set_language(principal.subject, chosen, utcnow())
    response.set_cookie(
        LANGUAGE_COOKIE,
        chosen,
        max_age=365 * 24 * 3600,
        path="/",
        secure=cookies.secure,
        httponly=True,
        samesite="lax",
    )
    return response
