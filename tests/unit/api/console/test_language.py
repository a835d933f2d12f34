"""The console's texts and formats: every key in both languages, every template key defined."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personvern.api.console.language import Language, Wording, negotiate
from personvern.api.console.messages import MESSAGES

TEMPLATE_FOLDERS = (
    files("personvern.api.console") / "templates",
    files("personvern.api.privacy_centre") / "templates" / "privacy",
)
#: Keys a template builds from a value ("state." ~ state): checked by prefix.
_LITERAL = re.compile(r"""(?<![\w.])t\(\s*["']([a-z_.-]+)["']\s*[,)]""")
_PREFIX = re.compile(r"""(?<![\w.])t\(\s*["']([a-z_.-]+\.)["']\s*~""")


def template_texts() -> dict[str, str]:
    """Every console and privacy centre template's source, by name."""
    return {
        f"{folder.name}/{item.name}": item.read_text("utf-8")
        for folder in TEMPLATE_FOLDERS
        for item in folder.iterdir()
        if item.name.endswith(".j2")
    }


def test_every_message_has_both_languages_and_no_blank_text() -> None:
    for key, texts in MESSAGES.items():
        assert {"nb", "en"} == set(texts), key
        assert all(text.strip() for text in texts.values()), key


def test_every_key_a_template_asks_for_exists() -> None:
    missing = []
    prefixes = set()
    for name, source in template_texts().items():
        missing += [f"{name}: {key}" for key in _LITERAL.findall(source) if key not in MESSAGES]
        prefixes.update(_PREFIX.findall(source))
    assert [] == missing
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in MESSAGES), prefix


def test_values_of_an_enum_shown_with_a_prefix_all_have_texts() -> None:
    from personvern.domain.datamap import RetentionAction
    from personvern.domain.legal_basis import LegalBasis
    from personvern.domain.requests.lifecycle import RejectionReason, RequestState, RequestType
    from personvern.domain.requests.urgency import Urgency, WaitingFor
    from personvern.domain.retention.run_status import RunStatus
    from personvern.domain.roles import Role
    from personvern.engine.retention.sweep import TableStatus

    for prefix, enum in (
        ("type.", RequestType),
        ("state.", RequestState),
        ("urgency.", Urgency),
        ("waiting.", WaitingFor),
        ("rejection.", RejectionReason),
        ("role.", Role),
        ("basis.", LegalBasis),
        ("retention.run.", RunStatus),
        ("retention.table.", TableStatus),
        ("retention.action.", RetentionAction),
    ):
        assert [] == [m.value for m in enum if prefix + m.value not in MESSAGES], prefix


@pytest.mark.parametrize(
    ("chosen", "header", "expected"),
    [
        ("en", "nb-NO", Language.EN),
        (None, "en-GB,en;q=0.9", Language.EN),
        (None, "nn-NO,en;q=0.5", Language.NB),
        (None, "de-DE,en;q=0.5", Language.EN),
        (None, "de-DE", Language.NB),
        (None, None, Language.NB),
        ("xx", "en", Language.EN),
    ],
)
def test_the_language_is_the_choice_then_the_browser_then_norwegian(
    chosen: str | None, header: str | None, expected: Language
) -> None:
    assert expected is negotiate(chosen, header)


@pytest.mark.parametrize(
    ("saved", "cookie", "header", "expected"),
    [
        # The signed-in user's setting beats this browser's cookie and its header.
        ("en", "nb", "nb-NO", Language.EN),
        ("nb", "en", "en-GB", Language.NB),
        ("nb", None, "en-GB,en;q=0.9", Language.NB),
        # No setting (or none the console knows): the cookie, then the header, then nb.
        (None, "en", "nb-NO", Language.EN),
        ("xx", None, "en-GB", Language.EN),
        ("", "", "de-DE", Language.NB),
        (None, None, None, Language.NB),
    ],
)
def test_the_users_setting_comes_before_the_browser(
    saved: str | None, cookie: str | None, header: str | None, expected: Language
) -> None:
    assert expected is negotiate(cookie, header, saved=saved)


@given(st.one_of(st.none(), st.text(max_size=50)), st.one_of(st.none(), st.text(max_size=2000)))
def test_any_cookie_and_header_give_a_language(chosen: str | None, header: str | None) -> None:
    assert negotiate(chosen, header) in (Language.NB, Language.EN)


def test_dates_and_numbers_per_language() -> None:
    nb, en = Wording(Language.NB), Wording(Language.EN)
    assert ("3. des. 2026", "3 Dec 2026") == (
        nb.date(date(2026, 12, 3)),
        en.date(date(2026, 12, 3)),
    )
    # Stored in UTC, shown in Oslo time (CET in winter).
    assert "3. des. 2026 09:15" == nb.date(datetime(2026, 12, 3, 8, 15, tzinfo=UTC))
    assert ("1\u202f234,5", "1,234.5") == (nb.number(1234.5, 1), en.number(1234.5, 1))
    assert ("1 dag", "3 days") == (nb.days(1), en.days(3))
    assert "–" == en.date(None)
