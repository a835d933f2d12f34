"""`GET /demo/shop`: a page of the demo company's web site, with the cookie banner on it.

It shows what a site does to use the banner (docs/banner.md): one script tag, an
analytics script and a marketing pixel marked for consent, and a link that re-opens
the banner. The scripts are files, not inline code: the page is served by personvern,
under personvern's own Content-Security-Policy, which allows no inline script. The
example map declares no marketing cookie, so the pixel is never released.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

SHOP_PATH = "/demo/shop"

_TEXTS = {
    "nb": ("Nordic Workspace", "Bestill en pult eller et møterom.", "Innstillinger for kapsler"),
    "en": ("Nordic Workspace", "Book a desk or a meeting room.", "Cookie settings"),
}
#: Counts page views in the page itself, so a visitor sees that it runs (and when).
_ANALYTICS = (
    "window.demoAnalytics = (window.demoAnalytics || 0) + 1;\n"
    "document.getElementById('analytics-state').textContent = 'analytics: running';\n"
)
_PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def shop_page(lang: str) -> str:
    """The demo page in ``lang`` (nb or en)."""
    title, text, settings = (escape(t) for t in _TEXTS.get(lang, _TEXTS["en"]))
    return f"""<!doctype html>
<html lang="{escape(lang)}"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1><p>{text}</p>
<p id="analytics-state">analytics: blocked</p>
<p><a href="#" data-personvern-open>{settings}</a></p></main>
<script type="text/plain" data-category="analytics" src="{SHOP_PATH}/analytics.js"></script>
<img data-category="marketing" data-src="{SHOP_PATH}/pixel.gif" alt="" width="1" height="1">
<script src="/banner.js" data-track defer></script>
</body></html>"""


def shop_router() -> APIRouter:
    """The demo page and its two trackers; mounted in demo mode only."""
    router = APIRouter(include_in_schema=False)

    @router.get(SHOP_PATH, response_class=HTMLResponse)
    def shop(
        lang: Annotated[str, Query(pattern=r"^(nb|en)$", description="nb or en")] = "nb",
    ) -> HTMLResponse:
        return HTMLResponse(shop_page(lang))

    @router.get(f"{SHOP_PATH}/analytics.js")
    def analytics() -> Response:
        return Response(_ANALYTICS, media_type="text/javascript")

    @router.get(f"{SHOP_PATH}/pixel.gif")
    def pixel() -> Response:
        return Response(_PIXEL, media_type="image/gif")

    return router
