"""What every console page shares: who is signed in, the permission rule, rendering, errors.

A page states the permission it needs with ``page_requires(Permission.X)``, the same
permissions the API checks: the role table in personvern.domain.roles decides for both.
A browser without a live session is sent to sign in; a signed-in role without the
permission gets 403. Pages are rendered with the shared Jinja environment (one set of
filters and escaping rules for everything personvern writes), from this package's
templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader

from personvern.api.console.language import LANGUAGE_COOKIE, Language, Wording, negotiate
from personvern.api.csrf import FIELD as CSRF_FIELD
from personvern.api.csrf import csrf_token
from personvern.api.deps import SessionDep, SettingsDep
from personvern.domain.roles import Permission
from personvern.errors import ErrorKind, PersonvernError
from personvern.security.principal import Principal
from personvern.security.staff_sessions import SessionLifetime, session_principal
from personvern.settings import Settings
from personvern.store.staff_preferences import StaffPreferenceRepository
from personvern.templating import environment

#: Where the pages are mounted in the API's application.
MOUNT_PATH = "/staff"
#: Longest form body a page reads (a review's reasons, a task's note).
MAX_FORM_BYTES = 64 * 1024

#: Pages show personal data and who is signed in: not kept by a browser or proxy, not
#: framed, and nothing runs on them (there is no script at all).
NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


class SignInRequiredError(PersonvernError):
    """A page was asked for without a live staff session: the browser signs in first."""

    kind = ErrorKind.UNAUTHENTICATED
    title = "Sign in"
    public_detail = True


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


def signed_in(request: Request, settings: SettingsDep, session: SessionDep) -> Principal:
    """The principal of the browser's live session, or SignInRequiredError."""
    cookies = StaffCookies.of(settings)
    principal = session_principal(session, request.cookies.get(cookies.session), lifetime(settings))
    if principal is None:
        raise SignInRequiredError("sign in to see the staff pages", hint="/staff/login")
    request.state.principal = principal
    # The user's own language setting, read with the session: every page shows it.
    request.state.saved_language = StaffPreferenceRepository(session).language(principal.subject)
    # End the transaction now (it may have noted the session's use): actions open units
    # of work of their own, which on SQLite would wait for this one's write lock.
    session.commit()
    return principal


StaffDep = Annotated[Principal, Depends(signed_in)]


class PageRequirement:
    """A page's permission: signed in, and the role holds ``permission`` (else 403).

    A class, like the API's Requirement, so the route x role test can read the
    permission off the page and compare it with the role table.
    """

    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        self.__name__ = f"page_requires_{permission.name.lower()}"

    def __call__(self, principal: StaffDep) -> Principal:
        """The signed-in principal, if their role holds the permission."""
        principal.require(self.permission)
        return principal


def page_requires(permission: Permission) -> PageRequirement:
    """A dependency letting the page through only for roles holding ``permission``."""
    return PageRequirement(permission)


def language_of(request: Request) -> Language:
    """The language the page is shown in: the signed-in user's setting first (see negotiate)."""
    return negotiate(
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
        saved=getattr(request.state, "saved_language", None),
    )


@cache
def console_environment() -> Environment:
    """The shared document environment, loading the console's templates first."""
    shared = environment()
    assert shared.loader is not None
    return shared.overlay(
        loader=ChoiceLoader([PackageLoader("personvern.api.console", "templates"), shared.loader])
    )


def render(
    request: Request,
    settings: Settings,
    template: str,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
    templates: Environment | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page from ``template``, in the user's language, with a CSRF token for its forms.

    ``templates`` is the console's environment unless another page set (the privacy
    centre) passes its own.
    """
    response = HTMLResponse("", status_code=status_code, headers=NO_STORE)
    wording = Wording(language_of(request))
    token = csrf_token(request, response, settings.secret())
    page = (templates or console_environment()).get_template(template)
    body = page.render(
        lang=wording.language.value,
        t=wording.t,
        fmt=wording,
        csrf_field=CSRF_FIELD,
        csrf=token,
        me=principal if principal is not None else getattr(request.state, "principal", None),
        path=request.url.path,
        Permission=Permission,
        **values,
    )
    response.body = response.render(body)
    # The body was set after the headers were made.
    response.headers["content-length"] = str(len(response.body))
    return response


async def form_fields(request: Request) -> Mapping[str, list[str]]:
    """The fields of a URL-encoded form post (already size-limited by RequestLimits)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormError("the form is too large", hint="shorten the text and send it again")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=2000)


def first(fields: Mapping[str, list[str]], name: str) -> str:
    """The first value of field ``name``, or "" when the form lacks it."""
    return (fields.get(name) or [""])[0]


class FormError(PersonvernError):
    """A console form that cannot be read as sent."""

    kind = ErrorKind.INVALID
    title = "Form not accepted"
    public_detail = True


#: The stylesheet of the console and the privacy centre, read once.
STYLESHEET = (files("personvern.api.console") / "static" / "console.css").read_text("utf-8")


def stylesheet_route() -> Response:
    """The one stylesheet (cacheable: it holds nothing personal)."""
    return Response(
        STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


def redirect(path: str) -> RedirectResponse:
    """Go to ``path`` with a GET after a form post (post/redirect/get)."""
    return RedirectResponse(path, status_code=303, headers=NO_STORE)
