"""Security headers on every response: what a browser may load, frame, sniff and keep.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, so streamed answers (downloads)
stay streamed and the headers are added however the response was produced, errors included.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: No inline or foreign script, no plugins, no <base>, no framing, forms post only here.
#: Inline *styles* stay allowed: the published documents carry their stylesheet in a
#: <style> element so that a saved copy looks the same offline; styles cannot run code.
#: ``data:`` images: Swagger UI's stylesheet draws its icons as data: SVGs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
#: Two years, the preload list's minimum; sent only on answers that came over TLS, since
#: a browser ignores it on plain HTTP and it must not pin a development server to HTTPS.
HSTS = "max-age=63072000; includeSubDomains"

ALWAYS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    # For browsers without CSP frame-ancestors.
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)


class SecurityHeaders:
    """ASGI middleware adding :data:`ALWAYS`, HSTS over TLS and ``Cache-Control: no-store``.

    ``no-store`` is the default because most answers carry personal data (requests,
    identities, answers) that must not stay in a browser's or proxy's cache. A route
    that may be cached sets its own Cache-Control; static files (the API docs' Swagger
    UI, with an ETag) are left to revalidate.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # uvicorn rewrites the scheme from X-Forwarded-Proto when the proxy is trusted
        # (--forwarded-allow-ips), so TLS ended at a reverse proxy counts as TLS.
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS:
                    headers.setdefault(name, value)
                if over_tls:
                    headers.setdefault("strict-transport-security", HSTS)
                if "cache-control" not in headers and "etag" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
