"""The cookie banner in a real browser, embedded in a page of another origin.

A shop's page (its own local server, so the banner is cross-origin as on a real site)
has an analytics script, inline and external, and a marketing pixel, all marked for
consent, and one script tag for personvern's banner. What runs is checked through the
page's own state and the network requests it makes; what is recorded, through the
consent ledger and the events table of personvern's store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.domain.datamap import DataMap
from personvern.intake import consents
from personvern.settings import Settings
from personvern.store.web_event_models import WebEventRow
from tests.conftest import EXAMPLE_DATAMAP, ROOT
from tests.support.banner_map import MARKETING_PURPOSE, map_with_marketing
from tests.support.browser import LOCAL_HOSTS
from tests.support.live_server import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Request, Route

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ANALYTICS = "service_improvement"
#: Where the banner's screenshots (nb, en) are left after a run.
SCREENSHOTS = ROOT / "build" / "screenshots"
GPC_SCRIPT = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
)


NONCE = "c2hvcC1ub25jZQ"


def shop_page(personvern: str, lang: str, nonce: str = "") -> str:
    """A page of the company's web site: marked trackers, a settings link, the banner."""
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Nordic Workspace</title></head>
<body><main><h1>Nordic Workspace</h1><p>Book a desk.</p>
<p><a href="#" data-personvern-open>Cookie settings</a></p>
<button id="outside">Book</button></main>
<script type="text/plain" data-category="analytics"{f' nonce="{nonce}"' if nonce else ""}>
  window.analyticsRan = (window.analyticsRan || 0) + 1;
</script>
<script type="text/plain" data-category="analytics" src="/analytics.js"></script>
<img data-category="marketing" data-src="/pixel.gif" alt="" width="1" height="1">
<script src="{personvern}/banner.js" data-track defer></script>
</body></html>"""


def shop(personvern: str) -> FastAPI:
    """The company's web site, on an origin of its own."""
    site = FastAPI()

    @site.get("/", response_class=HTMLResponse)
    def home(lang: str = "en") -> str:
        return shop_page(personvern, lang)

    @site.get("/strict", response_class=HTMLResponse)
    def strict() -> HTMLResponse:
        # A site with a strict policy: no inline style at all, inline script by nonce only.
        policy = (
            f"default-src 'self'; script-src 'self' {personvern} 'nonce-{NONCE}'; "
            f"connect-src {personvern}; style-src 'self'; img-src 'self'"
        )
        return HTMLResponse(
            shop_page(personvern, "en", NONCE), headers={"Content-Security-Policy": policy}
        )

    @site.get("/analytics.js")
    def analytics() -> Response:
        return Response("window.externalAnalytics = true;", media_type="text/javascript")

    @site.get("/pixel.gif")
    def pixel() -> Response:
        return Response(b"GIF89a", media_type="image/gif")

    return site


@dataclass
class Servers:
    """personvern with the example map (and an ad pixel), and the shop embedding its banner."""

    app: FastAPI
    personvern: str
    shop: str

    def datamap(self) -> DataMap:
        """The data map personvern serves."""
        context: AppContext = self.app.state.context
        loaded = context.application.datamap.loaded
        assert loaded is not None
        return loaded.datamap

    def ledger(self, visitor: str) -> dict[str, str]:
        """The visitor's latest action per purpose in the consent ledger."""
        context: AppContext = self.app.state.context
        with context.application.unit_of_work() as uow:
            history = consents.history(
                uow.session, context.settings, self.datamap(), ("cookie_id", visitor)
            )
            return {r.purpose: r.action for r in history.records}

    def events(self) -> int:
        """How many events personvern stored."""
        context: AppContext = self.app.state.context
        with context.application.unit_of_work() as uow:
            return uow.session.scalar(sa.select(sa.func.count()).select_from(WebEventRow)) or 0


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    home = tmp_path_factory.mktemp("banner")
    datamap = map_with_marketing(EXAMPLE_DATAMAP, home / "map")
    settings = Settings(home=home / "home", database_url=None, datamap=None, auto_migrate=None)
    app = create_app(settings, datamap)
    with serving(app) as personvern, serving(shop(personvern)) as site:
        yield Servers(app, personvern, site)


@dataclass
class Visitor:
    """A browser context on the shop, offline but for 127.0.0.1, recording what it fetched."""

    context: BrowserContext
    page: Page
    fetched: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def saw(self, request: Request) -> None:
        self.fetched.append(urlsplit(request.url).path)

    def consent_cookie(self) -> dict[str, Any]:
        cookie = next(c for c in self.context.cookies() if c["name"] == "pv_consent")
        from urllib.parse import unquote

        found: dict[str, Any] = json.loads(unquote(cookie["value"]))
        return found

    def dialog(self) -> Any:
        return self.page.get_by_role("dialog")


@pytest.fixture
def visit(browser: Browser, servers: Servers) -> Iterator[Callable[..., Visitor]]:
    """Open the shop in a fresh browser context (GPC optional); closes them all after."""
    opened: list[BrowserContext] = []

    def open_shop(*, gpc: bool = False, lang: str = "en", path: str = "/") -> Visitor:
        context = browser.new_context(extra_http_headers={"Sec-GPC": "1"} if gpc else {})
        opened.append(context)
        if gpc:
            context.add_init_script(GPC_SCRIPT)
        visitor = Visitor(context, context.new_page())
        visitor.page.route("**/*", visitor.route)
        visitor.page.on("request", visitor.saw)
        visitor.page.on(
            "console",
            lambda message: (
                visitor.errors.append(message.text) if message.type == "error" else None
            ),
        )
        visitor.page.goto(f"{servers.shop}{path}?lang={lang}")
        visitor.dialog().wait_for(state="visible", timeout=15_000)
        return visitor

    yield open_shop
    for context in opened:
        context.close()


def wait_until(check: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def ran(visitor: Visitor) -> Any:
    return visitor.page.evaluate("window.analyticsRan || 0")


def test_trackers_stay_inert_until_analytics_is_accepted(
    visit: Callable[..., Visitor], servers: Servers
) -> None:
    visitor = visit()
    dialog = visitor.dialog()
    assert "true" == dialog.get_attribute("aria-modal")
    assert "Cookies" == visitor.page.locator("#pvb-t").inner_text()
    assert 0 == ran(visitor)
    assert "/analytics.js" not in visitor.fetched
    assert "/pixel.gif" not in visitor.fetched
    # Analytics only: the first layer has a switch per category.
    visitor.page.get_by_label("Statistics").check()
    visitor.page.get_by_role("button", name="Save choices").click()
    dialog.wait_for(state="hidden")
    visitor.page.wait_for_function("window.externalAnalytics === true")
    assert 1 == ran(visitor)
    assert "/pixel.gif" not in visitor.fetched
    state = visitor.consent_cookie()
    assert {"analytics": 1, "marketing": 0} == state["c"]
    visitor_id = state["id"]
    wait_until(lambda: ANALYTICS in servers.ledger(visitor_id), "the ledger record")
    assert {ANALYTICS: "granted", MARKETING_PURPOSE: "withdrawn"} == servers.ledger(visitor_id)
    # data-track: the page view went to the collector, stored with the consent.
    before = servers.events()
    visitor.page.reload()
    wait_until(lambda: servers.events() > before, "a stored page view")
    assert 1 == ran(visitor)
    assert [] == visitor.blocked


def test_reject_all_leaves_everything_inert_and_records_the_refusals(
    visit: Callable[..., Visitor], servers: Servers
) -> None:
    visitor = visit()
    reject = visitor.page.get_by_role("button", name="Reject all")
    accept = visitor.page.get_by_role("button", name="Accept all")
    # Rejecting is exactly as prominent as accepting (ekomloven 2025).
    rejected_box, accepted_box = reject.bounding_box(), accept.bounding_box()
    assert rejected_box is not None
    assert accepted_box is not None
    assert (rejected_box["width"], rejected_box["height"]) == (
        accepted_box["width"],
        accepted_box["height"],
    )
    looks = (
        "b => ['color', 'background-color', 'font-size', 'font-weight', 'border', 'padding']"
        ".map(p => getComputedStyle(b).getPropertyValue(p)).join('|')"
    )
    assert reject.evaluate(looks) == accept.evaluate(looks)
    save = visitor.page.get_by_role("button", name="Save choices")
    assert save.evaluate(looks) == accept.evaluate(looks)
    reject.click()
    visitor.dialog().wait_for(state="hidden")
    visitor_id = visitor.consent_cookie()["id"]
    wait_until(lambda: len(servers.ledger(visitor_id)) == 2, "the ledger records")
    assert {ANALYTICS: "withdrawn", MARKETING_PURPOSE: "withdrawn"} == servers.ledger(visitor_id)
    visitor.page.reload()
    visitor.page.wait_for_load_state("networkidle")
    assert not visitor.dialog().is_visible()
    assert 0 == ran(visitor)
    assert "/analytics.js" not in visitor.fetched
    assert "/pixel.gif" not in visitor.fetched


def test_global_privacy_control_refuses_marketing_and_says_so(
    visit: Callable[..., Visitor], servers: Servers
) -> None:
    visitor = visit(gpc=True)
    notice = visitor.page.locator(".pvb-gpc")
    assert "Global Privacy Control" in notice.inner_text()
    assert visitor.page.get_by_label("Marketing").is_disabled()
    visitor.page.get_by_role("button", name="Accept all").click()
    visitor.page.wait_for_function("window.externalAnalytics === true")
    visitor_id = visitor.consent_cookie()["id"]
    wait_until(lambda: len(servers.ledger(visitor_id)) == 2, "the ledger records")
    assert {ANALYTICS: "granted", MARKETING_PURPOSE: "withdrawn"} == servers.ledger(visitor_id)
    assert "/pixel.gif" not in visitor.fetched


def test_keyboard_only_focus_stays_in_the_dialog_and_escape_refuses(
    visit: Callable[..., Visitor], servers: Servers
) -> None:
    visitor = visit()
    page = visitor.page
    inside = "() => !!document.activeElement.closest('#pvb')"
    assert page.evaluate(inside)
    stops = page.evaluate(
        "() => document.querySelectorAll("
        "'#pvb button, #pvb input:not([disabled]), #pvb summary, #pvb a[href]').length"
    )
    seen = set()
    for _ in range(stops + 2):
        page.keyboard.press("Tab")
        assert page.evaluate(inside), "Tab left the dialog"
        seen.add(page.evaluate("() => document.activeElement.outerHTML"))
    assert len(seen) == stops, "Tab did not reach every control"
    for _ in range(stops + 2):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside), "Shift+Tab left the dialog"
    # The focused control is visibly marked.
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert "none" != outline
    # Escape on the first visit is documented as "reject all".
    page.keyboard.press("Escape")
    visitor.dialog().wait_for(state="hidden")
    assert {"analytics": 0, "marketing": 0} == visitor.consent_cookie()["c"]
    assert 0 == ran(visitor)


def test_the_settings_link_reopens_the_banner_with_the_choice_made(
    visit: Callable[..., Visitor],
) -> None:
    visitor = visit()
    visitor.page.get_by_role("button", name="Accept all").click()
    visitor.dialog().wait_for(state="hidden")
    visitor.page.get_by_role("link", name="Cookie settings").click()
    visitor.dialog().wait_for(state="visible")
    assert visitor.page.get_by_label("Statistics").is_checked()
    # Re-opened, Escape closes and keeps the choice.
    visitor.page.keyboard.press("Escape")
    visitor.dialog().wait_for(state="hidden")
    assert 1 == visitor.consent_cookie()["c"]["analytics"]
    # Focus goes back to where it was.
    assert "Cookie settings" == visitor.page.evaluate("() => document.activeElement.textContent")


def test_a_changed_consent_text_asks_again(
    browser: Browser, servers: Servers, visit: Callable[..., Visitor]
) -> None:
    visitor = visit()
    visitor.page.get_by_role("button", name="Accept all").click()
    visitor.dialog().wait_for(state="hidden")
    old = visitor.consent_cookie()
    old["v"] = "0000000000000000"  # the version of a text that has since changed
    visitor.context.add_cookies(
        [
            {
                "name": "pv_consent",
                "value": quote(json.dumps(old)),
                "url": servers.shop,
            }
        ]
    )
    visitor.fetched.clear()
    visitor.page.reload()
    visitor.dialog().wait_for(state="visible")
    assert 0 == ran(visitor)
    assert "/analytics.js" not in visitor.fetched
    # The same visitor is asked again: the id is kept.
    visitor.page.get_by_role("button", name="Accept all").click()
    assert old["id"] == visitor.consent_cookie()["id"]


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_axe_finds_no_serious_violation_with_the_banner_open(
    visit: Callable[..., Visitor], lang: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    visitor = visit(lang=lang)
    expected = {"en": "Reject all", "nb": "Avvis alle"}[lang]
    assert visitor.page.get_by_role("button", name=expected).is_visible()
    visitor.page.locator("#pvb details").first.evaluate("d => d.open = true")
    results = Axe().run(visitor.page)
    serious = [
        v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}
    ]
    assert [] == serious, results.generate_report()
    # Kept as an artefact of the run (build/ is ignored by git): the banner as shown.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visitor.page.screenshot(path=str(SCREENSHOTS / f"banner-{lang}.png"))


def test_a_site_with_a_strict_content_security_policy_can_embed_it(
    visit: Callable[..., Visitor],
) -> None:
    visitor = visit(path="/strict")
    accept = visitor.page.get_by_role("button", name="Accept all")
    # Styled, though the page allows no inline style: the sheet is a constructed one.
    assert "rgb(11, 79, 168)" == accept.evaluate("b => getComputedStyle(b).backgroundColor")
    accept.click()
    # The inline analytics script keeps the page's nonce, so the page's policy lets it run.
    # (Polled from here: the page's policy forbids the eval wait_for_function uses.)
    wait_until(lambda: visitor.page.evaluate("() => window.externalAnalytics") is True, "it")
    assert 1 == ran(visitor)
    assert [] == [e for e in visitor.errors if "Content Security Policy" in e]
