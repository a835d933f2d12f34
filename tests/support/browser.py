"""A real browser for web page tests: Debian's chromium, driven by Playwright, offline.

Playwright never downloads a browser here; it drives /usr/bin/chromium. Every request to
a host other than 127.0.0.1 is aborted and recorded, so a page that needs the internet
fails its test. Without chromium or Playwright the tests skip, except under CI=true, where
browser-backed tests must run and so fail instead.

The fixtures are named ``browser`` and ``offline_page``; a test module imports their
functions (or the root conftest lists this module in ``pytest_plugins``)::

    from tests.support.browser import browser_fixture, offline_page_fixture  # noqa: F401
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.support.servers import in_ci

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: the tests run as root in a container. The rest keeps chromium from calling
# home (updates, sync, field trials) so that the only traffic is the page's own.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = frozenset({"127.0.0.1"})


def _install_chromium() -> None:
    """Install Debian's chromium with apt when it is missing and we may (root, apt-get)."""
    apt = shutil.which("apt-get")
    if CHROMIUM.exists() or apt is None or os.geteuid() != 0:
        return
    command = [apt, "install", "-y", "-q", "chromium"]
    # Package lists may be stale on a fresh machine: update once, then try again.
    if subprocess.run(command, capture_output=True, check=False).returncode != 0:
        subprocess.run([apt, "update", "-q"], capture_output=True, check=False)
        subprocess.run(command, capture_output=True, check=False)


def _missing() -> str | None:
    """Why a browser cannot be started here, or None if it can."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed: pip install -e '.[dev]'"
    _install_chromium()
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: install Debian's chromium: apt-get install chromium"
    return None


@pytest.fixture(scope="session", name="browser")
def browser_fixture() -> Iterator[Browser]:
    """Debian's chromium, headless, for the whole test session."""
    missing = _missing()
    if missing is not None:
        if in_ci():
            pytest.fail(f"{missing} (CI=true: browser tests must run, not skip)")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class OfflinePage:
    """A browser page that reaches 127.0.0.1 only; ``blocked`` lists what it tried elsewhere."""

    page: Page
    blocked: list[str] = field(default_factory=list)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


@pytest.fixture(name="offline_page")
def offline_page_fixture(browser: Browser) -> Iterator[OfflinePage]:
    """A fresh page in its own browser context that cannot reach any other host."""
    context = browser.new_context()
    try:
        offline = OfflinePage(context.new_page())
        offline.page.route("**/*", offline._route)
        yield offline
    finally:
        context.close()
