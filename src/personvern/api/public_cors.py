"""CORS for the routes a company's own web sites call from the visitor's browser.

The cookie banner (/banner.js) is loaded by pages on other origins, and it posts the
visitor's choice (/api/v1/banner/choices) and, with consent, page views and clicks
(/api/v1/events) back to personvern. Those routes are public and take no credentials
(no cookie, no token: the visitor id is in the body), so any origin may call them:
``Access-Control-Allow-Origin: *`` without ``Allow-Credentials``, which browsers
never combine with cookies. Every other route keeps the same-origin default. The
script itself is marked ``Cross-Origin-Resource-Policy: cross-origin`` so that pages
with ``Cross-Origin-Embedder-Policy`` may load it too.

Pure ASGI, like personvern.api.security_headers, and answering the preflight itself
(OPTIONS is no operation of the API).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The routes pages on other origins call: the script, its configuration, choices, events.
PUBLIC_CORS_PATHS: tuple[str, ...] = (
    "/banner.js",
    "/api/v1/banner/config",
    "/api/v1/banner/choices",
    "/api/v1/events",
)
#: How long a browser may keep a preflight's answer (seconds).
PREFLIGHT_MAX_AGE = "86400"

CORS_HEADERS: tuple[tuple[str, str], ...] = (
    ("access-control-allow-origin", "*"),
    ("cross-origin-resource-policy", "cross-origin"),
)
PREFLIGHT_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST"),
    (b"access-control-allow-headers", b"Content-Type, Sec-GPC"),
    (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
    (b"cache-control", b"no-store"),
    (b"content-length", b"0"),
)


class PublicCors:
    """ASGI middleware: CORS from any origin, without credentials, for ``paths`` only."""

    def __init__(self, app: ASGIApp, *, paths: Iterable[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a preflight to one of ``paths``; add the CORS headers to their answers."""
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await send(
                {"type": "http.response.start", "status": 204, "headers": list(PREFLIGHT_HEADERS)}
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in CORS_HEADERS:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)
