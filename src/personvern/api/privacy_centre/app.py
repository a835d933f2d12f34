"""The privacy centre as an application of its own, mounted at /privacy beside the API."""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from personvern.api.console.app import Handler, as_page
from personvern.api.console.pages import stylesheet_route
from personvern.api.context import AppContext
from personvern.api.privacy_centre import pages
from personvern.api.problems import install_problem_handlers
from personvern.errors import PersonvernError


def privacy_centre_pages(context: AppContext) -> FastAPI:
    """The privacy centre to mount at /privacy, sharing ``context``."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.context = context
    install_problem_handlers(app)
    for error in (PersonvernError, RequestValidationError, HTTPException):
        app.add_exception_handler(
            error,
            as_page(
                cast(Handler, app.exception_handlers[error]),
                home=pages.MOUNT_PATH + "/",
                templates=pages.centre_environment,
            ),
        )
    app.add_api_route("/static/console.css", stylesheet_route, methods=["GET"])
    app.include_router(pages.router)
    return app
