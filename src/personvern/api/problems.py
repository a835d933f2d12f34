"""Every error the API answers with, as RFC 9457 problem details (application/problem+json).

One set of handlers for the whole app: routes raise PersonvernError subclasses (each
knows its status, title and hint) and never build error responses themselves.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from personvern.errors import ErrorKind, PersonvernError

PROBLEM_JSON = "application/problem+json"

#: The HTTP status of each kind of error: the one place the API decides it.
HTTP_STATUS: Mapping[ErrorKind, int] = {
    ErrorKind.REFUSED: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.GONE: 410,
    ErrorKind.INVALID: 422,
    ErrorKind.TOO_MANY: 429,
    ErrorKind.FAILED: 500,
    ErrorKind.SYSTEM_FAILED: 502,
    ErrorKind.UNAVAILABLE: 503,
}


def http_status(error: PersonvernError) -> int:
    """The HTTP status the API answers ``error`` with."""
    return HTTP_STATUS[error.kind]


log = logging.getLogger("personvern.api")


def problem(
    status: int,
    detail: str,
    *,
    request: Request,
    title: str | None = None,
    hint: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; ``title`` defaults to the status phrase."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if hint:
        body["hint"] = hint
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Map personvern's errors, validation errors, 404/405 and crashes to problem+json."""
    app.add_exception_handler(PersonvernError, _personvern_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unexpected_error)


async def _personvern_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PersonvernError)
    # Staff are told what failed (they can act on it, and see the same in the logs);
    # anonymous callers only that something did, and which incident to quote.
    status = http_status(exc)
    if not exc.shows_detail and getattr(request.state, "principal", None) is None:
        incident = _incident()
        log.error("incident %s: %s %s: %s", incident, request.method, request.url.path, exc)
        return _incident_problem(status, incident, request=request, title=exc.title)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    # RFC 9110: a 401 must say which authentication scheme would work.
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    extra: dict[str, Any] = {}
    retry_after = getattr(exc, "retry_after", None)
    if status == 429 and isinstance(retry_after, int):
        # RFC 6585: say when to come back; the body repeats it for clients that parse JSON.
        headers["Retry-After"] = str(retry_after)
        extra["retry_after"] = retry_after
    return problem(
        status,
        exc.message,
        request=request,
        title=exc.title,
        hint=exc.hint,
        headers=headers or None,
        **extra,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"location": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"location": "request", "message": "invalid"}
    return problem(
        422,
        f"{first['location']}: {first['message']}",
        request=request,
        title="Invalid request",
        errors=errors,
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _phrase(exc.status_code)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such resource: {request.url.path}"
    headers = exc.headers
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
        allowed = _allowed_methods(request)
        if allowed:
            # The router names only the methods of the first route matching the path; a
            # path served by a public and a protected router has more (RFC 9110: all).
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
    return problem(exc.status_code, detail, request=request, headers=headers)


_OPERATIONS = ("get", "put", "post", "delete", "patch")


def _allowed_methods(request: Request) -> list[str]:
    """Every method the schema offers on the request's path."""
    path = request.url.path
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods.update(m.upper() for m in item if m in _OPERATIONS)
    # No HEAD: FastAPI's routes answer only the methods they declare.
    return sorted(methods)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The details go to the log, never to the caller: they may name tables or data.
    incident = _incident()
    log.error("incident %s: %s %s failed", incident, request.method, request.url.path, exc_info=exc)
    return _incident_problem(500, incident, request=request)


def _incident() -> str:
    # Random, so an incident id tells an outsider nothing about how many there were.
    return secrets.token_hex(6)


def _incident_problem(
    status: int, incident: str, *, request: Request, title: str | None = None
) -> JSONResponse:
    """A problem that tells the caller only what went wrong in general and where to look."""
    return problem(
        status,
        f"the request could not be completed because of a problem on our side; "
        f"it has been logged as incident {incident}",
        request=request,
        title=title,
        hint="try again later; if it persists, quote the incident id to us",
        incident=incident,
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
