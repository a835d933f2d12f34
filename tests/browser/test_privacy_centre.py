"""The privacy centre in a real browser: file an access request, read the code from the
local SMTP server, enter it, see the request listed; give and withdraw a consent.

Screenshots of the pages in both languages go to $PERSONVERN_SCREENSHOTS when it is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from personvern.api.app import create_app
from personvern.settings import Settings
from tests.browser.test_console import screenshots
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.smtp import Inbox, smtp_server
from tests.support.live_server import serving

ADDRESS = "kari.nordmann@example.no"


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[tuple[str, Inbox]]:
    """The app on a live port, mailing its codes to a local SMTP server."""
    with smtp_server() as inbox:
        settings = Settings(
            home=tmp_path / "home",
            database_url=None,
            smtp_host=inbox.host,
            smtp_port=inbox.port,
        )
        with serving(create_app(settings, EXAMPLE_DATAMAP)) as url:
            yield url, inbox


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A browser page in English."""
    context = browser.new_context(locale="en-GB")
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_person_files_verifies_and_follows_an_access_request(
    centre: tuple[str, Inbox], page: Page
) -> None:
    url, inbox = centre
    page.goto(f"{url}/privacy/")
    page.get_by_role("link", name="See the data we hold about you").click()
    page.get_by_label("Your e-mail address").fill(ADDRESS)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Enter the code")).to_be_visible()
    assert ADDRESS.split("@", maxsplit=1)[0] not in page.url
    page.get_by_label("Code").fill(inbox.last_code(ADDRESS))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    listed = page.locator("table").inner_text()
    assert "Access" in listed
    assert "verified" in listed

    page.get_by_role("link", name="Consents").click()
    page.get_by_role("button", name="Give consent").first.click()
    expect(page.get_by_text("You have given consent.")).to_be_visible()
    page.get_by_role("button", name="Withdraw consent").first.click()
    expect(page.get_by_text("You have withdrawn consent.").first).to_be_visible()

    folder = screenshots()
    if folder is not None:
        for lang, switch in (("en", "Norsk"), ("nb", "English")):
            for name in ("", "status", "consents"):
                page.goto(f"{url}/privacy/{name}")
                shot = f"privacy-{name or 'home'}-{lang}.png"
                page.screenshot(path=str(folder / shot), full_page=True)
            page.get_by_role("button", name=switch).click()
