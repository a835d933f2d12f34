"""The cookie declaration: every cookie the company's web sites and apps set, by category.

ekomloven § 3-15 (in force 1 January 2025) allows storing or reading information on a
user's device without consent only where it is strictly necessary for the service
the user asked for; everything else needs consent to the GDPR standard. The
declaration therefore groups cookies into the banner's categories, strictly
necessary first, so the reader sees which ones are set regardless of their choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from personvern.domain.datamap import CookieCategory, DataMap, SystemKind
from personvern.domain.localized_names import localized
from personvern.domain.notice import require_language
from personvern.domain.retention_period import RetentionPeriod, describe_period

# The banner's order: what is always set first, then what the user may refuse.
CATEGORY_ORDER: tuple[CookieCategory, ...] = (
    CookieCategory.STRICTLY_NECESSARY,
    CookieCategory.PREFERENCES,
    CookieCategory.ANALYTICS,
    CookieCategory.MARKETING,
)

_PLAIN_DURATION = re.compile(r"^(\d+)\s*(year|month|week|day)s?$", re.IGNORECASE)
_SESSION = {"en": "until you close the browser", "nb": "til du lukker nettleseren"}


@dataclass(frozen=True)
class CookieEntry:
    """One cookie as the declaration lists it."""

    name: str
    provider: str
    purpose: str
    duration: str
    description: str
    third_party: bool
    channel: str


@dataclass(frozen=True)
class CookieGroup:
    """The cookies of one category; ``requires_consent`` is false only for the necessary."""

    category: str
    requires_consent: bool
    cookies: tuple[CookieEntry, ...]


@dataclass(frozen=True)
class CookieDeclaration:
    """All cookie groups for one language, with where the declaration is published."""

    lang: str
    organization: str
    channels: tuple[str, ...]
    groups: tuple[CookieGroup, ...]
    policy_url: str

    @property
    def has_consent_cookies(self) -> bool:
        """Whether any cookie needs consent (then the banner must offer a choice)."""
        return any(g.requires_consent and g.cookies for g in self.groups)


def describe_duration(duration: str, lang: str) -> str:
    """A cookie's lifetime in ``lang``: ISO 8601 or "13 months" are translated, other text kept."""
    text = duration.strip()
    if text.lower() == "session":
        return _SESSION.get(lang, _SESSION["en"])
    if text.upper().startswith("P"):
        try:
            return describe_period(text.upper(), lang)
        except ValueError:
            return text
    match = _PLAIN_DURATION.match(text)
    if match is None:
        # Free text such as "until the app is removed" is shown as the map states it.
        return text
    count, unit = int(match.group(1)), match.group(2).lower()
    return RetentionPeriod(**{f"{unit}s": count}).words(lang)


def build_cookie_declaration(datamap: DataMap, lang: str) -> CookieDeclaration:
    """Compose the cookie declaration for ``lang`` from the web and app systems."""
    require_language(datamap, lang)
    systems = [s for s in datamap.systems if s.kind in {SystemKind.WEB, SystemKind.APP}]
    by_category: dict[CookieCategory, list[CookieEntry]] = {c: [] for c in CATEGORY_ORDER}
    for system in systems:
        for cookie in system.cookies:
            purpose = datamap.purpose(cookie.purpose) if cookie.purpose else None
            by_category[cookie.category].append(
                CookieEntry(
                    name=cookie.name,
                    provider=cookie.provider,
                    purpose=localized(purpose.name, lang) if purpose else "",
                    duration=describe_duration(cookie.duration, lang),
                    description=localized(cookie.description, lang),
                    third_party=cookie.third_party,
                    channel=system.name,
                )
            )
    return CookieDeclaration(
        lang=lang,
        organization=datamap.organization.name,
        channels=tuple(s.name for s in systems),
        groups=tuple(
            CookieGroup(
                category=category.value,
                requires_consent=category is not CookieCategory.STRICTLY_NECESSARY,
                cookies=tuple(by_category[category]),
            )
            for category in CATEGORY_ORDER
        ),
        policy_url=datamap.organization.cookie_policy_url or "",
    )
