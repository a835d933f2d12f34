"""CSRF protection for HTML forms that change state (the staff pages' forms).

The API itself needs none: it authenticates with a bearer token, which a browser never
attaches on its own. Pages that sign staff in with a cookie do: another site could make
a signed-in browser post to them. Two defences, both checked by :func:`require_csrf`:

- a signed double-submit token: :func:`csrf_token` puts a random value in a cookie and
  returns its HMAC for the form's hidden ``csrf_token`` field (or the ``X-CSRF-Token``
  header); another site can neither read the cookie nor compute the HMAC;
- the browser's own word: a request whose ``Sec-Fetch-Site`` says ``cross-site``, or
  whose ``Origin`` is another host, is refused before the token is looked at.

Usage in a page route: ``token = csrf_token(request, response)`` and
``<input type="hidden" name="csrf_token" value="{{ token }}">``; on the form's POST route:
``dependencies=[Depends(require_csrf)]``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from fastapi import Request, Response

from personvern.api.deps import ContextDep
from personvern.errors import ErrorKind, PersonvernError

FIELD = "csrf_token"
HEADER = "x-csrf-token"
#: ``__Host-`` binds the cookie to this host, HTTPS and path / (browsers enforce it);
#: over plain HTTP (development) browsers refuse that prefix, so the plain name is used.
SECURE_COOKIE = "__Host-personvern-csrf"
PLAIN_COOKIE = "personvern-csrf"


class CsrfError(PersonvernError):
    """A state-changing form post without a valid CSRF token, or from another site."""

    kind = ErrorKind.FORBIDDEN
    title = "Form not accepted"
    public_detail = True


def _cookie_name(request: Request) -> str:
    return SECURE_COOKIE if request.url.scheme == "https" else PLAIN_COOKIE


def _sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request, response: Response, secret: str) -> str:
    """The token for a form on this page; sets the cookie it is checked against if needed."""
    name = _cookie_name(request)
    value = request.cookies.get(name)
    if not value:
        value = secrets.token_urlsafe(32)
        response.set_cookie(
            name,
            value,
            httponly=True,
            secure=request.url.scheme == "https",
            samesite="strict",
            path="/",
        )
    return _sign(secret, value)


async def require_csrf(request: Request, context: ContextDep) -> None:
    """Refuse (403) a state-changing request from another site or without a valid token."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfError("this form was sent from another site", hint="use the form on this site")
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise CsrfError("this form was sent from another site", hint="use the form on this site")
    value = request.cookies.get(_cookie_name(request))
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        # Parsed here rather than with request.form(), which needs python-multipart;
        # Starlette keeps the body, so the route can still read it. Multipart forms send
        # the token in the header.
        fields = parse_qs((await request.body()).decode("utf-8", "replace"))
        sent = fields.get(FIELD, [None])[0]
    if (
        not value
        or not sent
        or not hmac.compare_digest(sent, _sign(context.settings.secret(), value))
    ):
        raise CsrfError(
            "the form's security token is missing or does not match",
            hint="reload the page and send the form again",
        )
