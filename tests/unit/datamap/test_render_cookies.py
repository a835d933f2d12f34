"""The rendered cookie declaration: from the map's web sites and apps, by category."""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.datamap.cookies import render_cookie_declaration
from personvern.datamap.loader import load_datamap
from personvern.datamap.rendering import UnknownFormatError
from personvern.domain.datamap import DataMap
from personvern.domain.errors import UnknownLanguageError
from tests.unit.datamap.wellformed import html_problems, html_text

EKOMLOVEN = {
    "nb": "Etter ekomloven § 3-15 setter vi informasjonskapsler som ikke er strengt "
    "nødvendige, bare når du har samtykket. Det er like enkelt å avvise som å godta",
    "en": "we set cookies that are not strictly necessary only when you have consented. "
    "Rejecting is as easy as accepting",
}


@pytest.fixture
def example(example_datamap_path: Path) -> DataMap:
    return load_datamap(example_datamap_path).datamap


def _one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("fmt", ["txt", "md", "html"])
def test_the_consent_statement_is_in_every_format(example: DataMap, lang: str, fmt: str) -> None:
    document = render_cookie_declaration(example, lang, fmt)
    text = html_text(document) if fmt == "html" else _one_line(document)
    assert EKOMLOVEN[lang] in text


def test_categories_appear_in_banner_order_with_their_cookies(example: DataMap) -> None:
    text = render_cookie_declaration(example, "nb", "txt")
    positions = [
        text.index(marker)
        for marker in (
            "STRENGT NØDVENDIGE",
            "nws_session",
            "nws_consent",
            "PREFERANSER",
            "ANALYSE OG STATISTIKK",
            "nws_analytics_id",
            "device_install_id",
            "MARKEDSFØRING",
        )
    ]
    assert sorted(positions) == positions


def test_each_cookie_has_provider_purpose_duration_and_description(example: DataMap) -> None:
    text = render_cookie_declaration(example, "en", "md")
    assert (
        "| `nws_analytics_id` | nordicworkspace.example | Improving our services, web sites "
        "and apps | 13 months | A random ID that recognises your browser so that we can see "
        "how the pages are used. Set only with your consent. |"
    ) in text


def test_html_is_well_formed(example: DataMap) -> None:
    document = render_cookie_declaration(example, "nb", "html")
    assert [] == html_problems(document)
    assert "til du lukker nettleseren" in html_text(document)


def test_a_cookie_removed_from_the_map_leaves_the_declaration(example: DataMap) -> None:
    web = next(s for s in example.systems if s.key == "website")
    trimmed = web.model_copy(
        update={"cookies": [c for c in web.cookies if c.name != "nws_analytics_id"]}
    )
    systems = [trimmed if s.key == "website" else s for s in example.systems]
    document = render_cookie_declaration(
        example.model_copy(update={"systems": systems}), "en", "txt"
    )
    assert ("nws_analytics_id" in document, "device_install_id" in document) == (False, True)


def test_unknown_language_and_format_are_refused(example: DataMap) -> None:
    with pytest.raises(UnknownLanguageError, match=r"available: nb, en"):
        render_cookie_declaration(example, "da", "txt")
    with pytest.raises(UnknownFormatError, match=r"available: html, md, txt"):
        render_cookie_declaration(example, "nb", "json")
