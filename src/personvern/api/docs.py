"""The interactive API docs (Swagger UI), served from an installed package so they work offline.

FastAPI's own docs page loads Swagger UI from a CDN, so on a server without internet
access it stays blank. This page loads Swagger UI 5 from the files the ``fastapi_offline``
package ships (the official swagger-ui-dist files), from ``{prefix}/docs/assets/``; no page
here names another host. ``swagger_ui_bundle`` was not used: it ships Swagger UI 4, which
cannot show the OpenAPI 3.1 schema FastAPI writes.

FastAPI's pages start Swagger UI with an inline script, which the Content-Security-Policy
(personvern.api.security_headers) forbids; the script is served as a file of its own
next to each page instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

#: Where the package keeps Swagger UI (it has no public name for the folder; the docs tests
#: fail if it moves).
SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
#: The files the docs page loads; the package's other files (ReDoc) are not served.
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"})


class _Assets(StaticFiles):
    """The Swagger UI files named in :data:`ASSETS`, and nothing else of the package."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """Find ``path`` only if the docs page needs it."""
        if path not in ASSETS:
            return "", None
        return super().lookup_path(path)


_INLINE_SCRIPT = re.compile(r"<script>(?P<code>.*?)</script>", re.DOTALL)


def split_inline_script(html: str, script_url: str) -> tuple[str, str]:
    """The page with its one inline script replaced by ``<script src=script_url>``, and the code."""
    found = _INLINE_SCRIPT.search(html)
    if found is None:
        return html, ""
    page = html[: found.start()] + f'<script src="{script_url}"></script>' + html[found.end() :]
    return page, found.group("code")


def _page_and_script(
    render: Callable[[Request], HTMLResponse], script_url: str
) -> tuple[Callable[[Request], Awaitable[Response]], Callable[[Request], Awaitable[Response]]]:
    """Two routes from one page renderer: the page without inline script, and its script."""

    async def page(request: Request) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        html, _ = split_inline_script(bytes(render(request).body).decode(), root + script_url)
        return HTMLResponse(html)

    async def script(request: Request) -> Response:
        _, code = split_inline_script(bytes(render(request).body).decode(), script_url)
        return Response(code, media_type="text/javascript")

    return page, script


def install_docs(app: FastAPI, prefix: str) -> None:
    """Serve Swagger UI at ``{prefix}/docs`` with its assets from the installed package."""
    if app.openapi_url is None:
        return  # no schema, nothing to show
    openapi_url = app.openapi_url
    docs_url = f"{prefix}/docs"
    assets_url = f"{docs_url}/assets"
    redirect_url = f"{docs_url}/oauth2-redirect"

    def swagger_ui(request: Request) -> HTMLResponse:
        # Behind a proxy that strips a path prefix, the browser needs that prefix back.
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{root}{assets_url}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{assets_url}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets_url}/favicon.png",
            oauth2_redirect_url=root + redirect_url,
            init_oauth=app.swagger_ui_init_oauth,
            # No online validator: it would send the schema's address to swagger.io.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    # Plain routes, as FastAPI adds its own docs: pages for people, not API operations.
    for url, render in ((docs_url, swagger_ui), (redirect_url, oauth2_redirect)):
        page, script = _page_and_script(render, f"{url}.js")
        app.add_route(url, page, include_in_schema=False)
        app.add_route(f"{url}.js", script, include_in_schema=False)
    app.mount(assets_url, _Assets(directory=SWAGGER_UI_DIR), name="docs-assets")
