"""The cookie declaration: web and app cookies by banner category, necessary first."""

from __future__ import annotations

import pytest

from personvern.domain.cookie_declaration import build_cookie_declaration, describe_duration
from personvern.domain.errors import UnknownLanguageError
from tests.unit.domain.sample_datamap import sample_datamap


@pytest.mark.parametrize(
    ("duration", "lang", "expected"),
    [
        ("session", "nb", "til du lukker nettleseren"),
        ("session", "en", "until you close the browser"),
        ("12 months", "nb", "12 måneder"),
        ("1 year", "nb", "1 år"),
        ("30 days", "en", "30 days"),
        ("P13M", "nb", "13 måneder"),
        ("until the app is removed", "nb", "until the app is removed"),
    ],
)
def test_cookie_lifetime_in_words(duration: str, lang: str, expected: str) -> None:
    assert expected == describe_duration(duration, lang)


def test_groups_follow_the_banner_order_and_only_necessary_needs_no_consent() -> None:
    declaration = build_cookie_declaration(sample_datamap(), "en")
    assert [
        ("strictly_necessary", False, ["sid"]),
        ("preferences", True, []),
        ("analytics", True, ["stats"]),
        ("marketing", True, []),
    ] == [(g.category, g.requires_consent, [c.name for c in g.cookies]) for g in declaration.groups]
    assert declaration.has_consent_cookies


def test_a_cookie_shows_provider_purpose_duration_and_description() -> None:
    declaration = build_cookie_declaration(sample_datamap(), "nb")
    stats = declaration.groups[2].cookies[0]
    assert ("Stats Inc", "Sikkerhet", "13 måneder", "Statistikk.", True, "test.example") == (
        stats.provider,
        stats.purpose,
        stats.duration,
        stats.description,
        stats.third_party,
        stats.channel,
    )


def test_an_undeclared_language_is_refused() -> None:
    with pytest.raises(UnknownLanguageError, match=r"available: nb, en"):
        build_cookie_declaration(sample_datamap(), "fi")
