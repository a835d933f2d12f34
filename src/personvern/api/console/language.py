"""The console's two languages: which one a page is shown in, and how it formats values.

Every page exists in Norwegian (bokmål) and English. The choice is the signed-in user's
setting (saved in personvern's store by the language switch, so it follows them to any
browser), else the choice made in this browser while signed out (a cookie the switch also
sets: the sign-in page and the privacy centre have no user), else the browser's
``Accept-Language``, else Norwegian: the company is Norwegian and so are most of its
privacy staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from personvern.api.console.messages import MESSAGES

#: Name of the cookie holding this browser's choice (not personal data: "nb" or "en").
LANGUAGE_COOKIE = "personvern-console-lang"
#: Times are shown in the company's zone; the store keeps UTC.
OSLO = ZoneInfo("Europe/Oslo")

_MONTHS = {
    "nb": ("jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.",
           "nov.", "des."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}  # fmt: skip


class Language(StrEnum):
    """A language the console is written in."""

    NB = "nb"
    EN = "en"


def negotiate(
    chosen: str | None, accept_language: str | None, *, saved: str | None = None
) -> Language:
    """The saved setting, else this browser's choice, else its first known language, else nb.

    ``saved`` is the signed-in user's setting from the store, ``chosen`` the cookie; each
    counts only if it names a language of the console.
    """
    for choice in (saved, chosen):
        if choice in (Language.NB, Language.EN):
            return Language(choice)
    for part in (accept_language or "")[:500].split(","):
        tag = part.split(";")[0].strip().lower()
        primary = tag.split("-")[0]
        # Bokmål, nynorsk and plain "no" all read the Norwegian pages.
        if primary in ("nb", "nn", "no"):
            return Language.NB
        if primary == "en":
            return Language.EN
    return Language.NB


@dataclass(frozen=True)
class Wording:
    """Texts, dates and numbers in one language, for templates (``t``, ``date``, ``number``)."""

    language: Language

    def t(self, key: str, **values: object) -> str:
        """The message ``key`` in this language, with ``{name}`` placeholders filled."""
        text = MESSAGES[key][self.language]
        return text.format(**values) if values else text

    def date(self, value: date | datetime | None) -> str:
        """``3. des. 2026`` / ``3 Dec 2026``; a time of day is added for datetimes."""
        if value is None:
            return "–"
        months = _MONTHS[self.language]
        if isinstance(value, datetime):
            local = value.astimezone(OSLO)
            day = self.date(local.date())
            return f"{day} {local:%H:%M}"
        if self.language is Language.NB:
            return f"{value.day}. {months[value.month - 1]} {value.year}"
        return f"{value.day} {months[value.month - 1]} {value.year}"

    def number(self, value: float, digits: int = 0) -> str:
        """``1 234,5`` in Norwegian, ``1,234.5`` in English."""
        text = f"{value:,.{digits}f}"
        if self.language is Language.NB:
            # Norwegian groups with a (narrow, no-break) space and uses a decimal comma.
            return text.replace(",", "\u202f").replace(".", ",")
        return text

    def days(self, count: int) -> str:
        """A count of days with its unit, singular or plural."""
        key = "unit.day" if abs(count) == 1 else "unit.days"
        return self.t(key, n=self.number(count))
