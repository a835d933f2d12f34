"""`GET /`: the start page, pointing people to the pages meant for them."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from personvern.api.console.pages import render
from personvern.api.deps import SettingsDep

#: Extra links a deployment adds (the demo adds its example web page): (message key, path).
EXTRA_LINKS_STATE = "start_page_links"


def install_start_page(app: FastAPI) -> None:
    """Serve the start page at / (outside the API schema: it is a page for people)."""

    def start_page(request: Request, settings: SettingsDep) -> Response:
        """Links to the privacy centre, the staff console, the documents and the API docs."""
        extra = getattr(request.app.state, EXTRA_LINKS_STATE, ())
        return render(request, settings, "start.html.j2", title_key="start.title", extra=extra)

    app.add_api_route("/", start_page, methods=["GET"], include_in_schema=False)
