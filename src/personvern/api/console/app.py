"""The console as an application of its own, mounted at /staff beside the API.

Pages for people, not API operations: they stay out of the API's OpenAPI schema and its
bearer tokens, and sign in with a server-side session instead. Errors are answered as
pages for browsers (with the message and what to do) and as problem+json for anything
else, so scripts and tests that talk to the sign-in keep their machine-readable answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from jinja2 import Environment
from starlette.exceptions import HTTPException

from personvern.api.console import (
    datamap_pages,
    inbox,
    overview,
    request_page,
    retention_page,
    sign_in,
)
from personvern.api.console.pages import NO_STORE, SignInRequiredError, render, stylesheet_route
from personvern.api.context import AppContext
from personvern.api.problems import http_status, install_problem_handlers
from personvern.errors import PersonvernError

Handler = Callable[[Request, Exception], Awaitable[Response]]


def console_pages(context: AppContext) -> FastAPI:
    """The console as an application to mount at /staff, sharing ``context``."""
    pages = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    pages.state.context = context
    install_problem_handlers(pages)
    for error in (PersonvernError, RequestValidationError, HTTPException):
        pages.add_exception_handler(error, as_page(cast(Handler, pages.exception_handlers[error])))
    pages.add_api_route("/static/console.css", stylesheet_route, methods=["GET"], name="staff_css")
    for module in (sign_in, inbox, overview, request_page, datamap_pages, retention_page):
        pages.include_router(module.router)
    return pages


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def as_page(
    problem_handler: Handler,
    *,
    home: str = "/staff/",
    templates: Callable[[], Environment] | None = None,
) -> Handler:
    """A handler answering browsers with an error page, others as ``problem_handler`` does."""

    async def handle(request: Request, exc: Exception) -> Response:
        if isinstance(exc, SignInRequiredError):
            return RedirectResponse("/staff/login", status_code=303, headers=NO_STORE)
        if not _wants_page(request):
            return await problem_handler(request, exc)
        if isinstance(exc, PersonvernError):
            status = http_status(exc)
            shown = exc if exc.shows_detail else None
        elif isinstance(exc, HTTPException):
            status, shown = exc.status_code, None
        else:
            status, shown = 422, None
        back = request.url.path
        parts = back.split("/")
        # After a failed action on a request, the way back is the request's page.
        if len(parts) > 3 and parts[2] == "requests":
            back = f"/staff/requests/{parts[3]}"
        elif request.method != "GET":
            back = home
        settings = request.app.state.context.settings
        return render(
            request,
            settings,
            "error.html.j2",
            status_code=status,
            title_key="error.title",
            status=status,
            error=shown,
            back=back,
            templates=templates() if templates is not None else None,
        )

    return handle
