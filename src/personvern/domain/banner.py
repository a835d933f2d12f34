"""The cookie banner's configuration and the reading of a visitor's choice (ekomloven § 3-15).

The banner offers the cookie categories the data map's web and app systems declare
(strictly necessary ones are listed, never asked about). A category is consented to
through the purposes its cookies serve: accepting "analytics" grants the consent of
every purpose with a consent text that an analytics cookie names, refusing it
withdraws them. The texts come from the data map (category descriptions are the
purposes' consent texts, services are the cookies); a small built-in table gives the
buttons and headings in Norwegian Bokmål and English.

The banner's *version* is a hash of what a visitor agrees to: the choosable
categories, their purposes and the versions of those purposes' consent texts in every
language. When a text changes, the version changes, and every visitor is asked again.

Global Privacy Control (a browser's ``Sec-GPC: 1``, ``navigator.globalPrivacyControl``)
is a refusal of sale and sharing; personvern reads it as a refusal of the categories in
:data:`GPC_REFUSES` (marketing), whatever the visitor clicks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from personvern.domain.consent.ledger import ConsentError, ConsentTextChangedError, current_texts
from personvern.domain.cookie_declaration import CATEGORY_ORDER, describe_duration
from personvern.domain.datamap import CookieCategory, DataMap, SystemKind
from personvern.domain.localized_names import localized

#: Categories a Global Privacy Control signal refuses (sale and sharing: marketing).
GPC_REFUSES: tuple[CookieCategory, ...] = (CookieCategory.MARKETING,)

#: Languages the built-in button texts exist in; other map languages fall back to English.
_UI: Mapping[str, Mapping[str, str]] = {
    "nb": {
        "title": "Informasjonskapsler",
        "intro": "Vi bruker informasjonskapsler og lignende teknologi. De nødvendige brukes "
        "alltid; de andre bare hvis du sier ja. Du kan ombestemme deg når som helst.",
        "accept": "Godta alle",
        "reject": "Avvis alle",
        "save": "Lagre valgene",
        "more": "Detaljer",
        "policy": "Les mer om informasjonskapsler",
        "always": "Alltid på",
        "gpc": "Nettleseren din sender Global Privacy Control. Vi behandler det som et nei "
        "til markedsføring og deling, uansett hva du velger her.",
        "strictly_necessary": "Nødvendige",
        "strictly_necessary_d": "Trengs for at nettsidene skal virke og for å huske valget ditt.",
        "preferences": "Innstillinger",
        "analytics": "Statistikk",
        "marketing": "Markedsføring",
    },
    "en": {
        "title": "Cookies",
        "intro": "We use cookies and similar technology. The necessary ones are always on; "
        "the others only if you say yes. You can change your mind at any time.",
        "accept": "Accept all",
        "reject": "Reject all",
        "save": "Save choices",
        "more": "Details",
        "policy": "Read more about cookies",
        "always": "Always on",
        "gpc": "Your browser sends Global Privacy Control. We treat it as a no to marketing "
        "and sharing, whatever you choose here.",
        "strictly_necessary": "Necessary",
        "strictly_necessary_d": "Needed for the pages to work and to remember your choice.",
        "preferences": "Preferences",
        "analytics": "Statistics",
        "marketing": "Marketing",
    },
}


class BannerChoiceError(ConsentError):
    """A visitor's choice cannot be read as sent."""

    title = "Invalid banner choice"


@dataclass(frozen=True)
class BannerCategory:
    """One category of the banner: its cookies' purposes that need consent."""

    category: CookieCategory
    #: Purposes with a consent text that a cookie of this category serves.
    purposes: tuple[str, ...]

    @property
    def required(self) -> bool:
        """Strictly necessary cookies are set whatever the visitor chooses."""
        return self.category is CookieCategory.STRICTLY_NECESSARY


@dataclass(frozen=True)
class Banner:
    """What the banner shows and asks, and its version."""

    categories: tuple[BannerCategory, ...]
    version: str
    languages: tuple[str, ...]

    def category(self, key: str) -> BannerCategory | None:
        """The category ``key`` of the banner, or None."""
        return next((c for c in self.categories if c.category.value == key), None)

    @property
    def choosable(self) -> tuple[BannerCategory, ...]:
        """The categories a visitor may accept or refuse."""
        return tuple(c for c in self.categories if not c.required)


def _cookies(datamap: DataMap) -> list[tuple[str, Any]]:
    """Every (system name, cookie) of the web and app systems, in the map's order."""
    return [
        (system.name, cookie)
        for system in datamap.systems
        if system.kind in {SystemKind.WEB, SystemKind.APP}
        for cookie in system.cookies
    ]


def banner_of(datamap: DataMap) -> Banner:
    """The banner the data map describes: the categories its cookies fall in, and its version."""
    cookies = _cookies(datamap)
    categories: list[BannerCategory] = []
    for category in CATEGORY_ORDER:
        mine = [c for _, c in cookies if c.category is category]
        if not mine:
            continue
        purposes: list[str] = []
        for cookie in mine:
            purpose = datamap.purpose(cookie.purpose) if cookie.purpose else None
            if purpose is not None and purpose.consent and purpose.key not in purposes:
                purposes.append(purpose.key)
        categories.append(
            BannerCategory(
                category,
                () if category is CookieCategory.STRICTLY_NECESSARY else tuple(purposes),
            )
        )
    return Banner(
        tuple(categories),
        _version(datamap, categories),
        tuple(datamap.organization.languages),
    )


def _version(datamap: DataMap, categories: list[BannerCategory]) -> str:
    """A hash of the categories offered, their purposes and every consent text's version."""
    agreed: list[Any] = []
    for category in categories:
        texts: dict[str, dict[str, str]] = {}
        for key in category.purposes:
            purpose = datamap.purpose(key)
            assert purpose is not None  # banner_of only lists declared purposes
            texts[key] = {lang: t.version for lang, t in sorted(current_texts(purpose).items())}
        agreed.append([category.category.value, texts])
    canonical = json.dumps(agreed, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def ui_texts(lang: str) -> Mapping[str, str]:
    """The built-in button and heading texts in ``lang`` (English when not built in)."""
    return _UI.get(lang, _UI["en"])


def banner_config(datamap: DataMap) -> dict[str, Any]:
    """The banner's configuration as the script reads it, every language of the map.

    Compact keys, since it travels inside the script: ``v`` version, ``langs``, ``gpc``
    the categories GPC refuses, ``cats`` [{``k`` key, ``req`` required}], ``t`` per
    language the texts: built-in ones, ``policy`` URL, and per category ``n`` name,
    ``d`` description (the purposes' consent texts) and ``s`` services
    [name, provider, duration, description].
    """
    banner = banner_of(datamap)
    cookies = _cookies(datamap)
    texts: dict[str, Any] = {}
    for lang in banner.languages:
        ui = dict(ui_texts(lang))
        categories: dict[str, Any] = {}
        for category in banner.categories:
            key = category.category.value
            consents = [
                localized(p.consent, lang)
                for p in (datamap.purpose(k) for k in category.purposes)
                if p is not None
            ]
            described = ui["strictly_necessary_d"] if category.required else " ".join(consents)
            categories[key] = {
                "n": ui[key],
                "d": described,
                "s": [
                    [
                        cookie.name,
                        cookie.provider,
                        describe_duration(cookie.duration, lang),
                        localized(cookie.description, lang),
                    ]
                    for _, cookie in cookies
                    if cookie.category is category.category
                ],
            }
        texts[lang] = {
            **{k: v for k, v in ui.items() if k not in _CATEGORY_KEYS},
            "c": categories,
        }
    return {
        "v": banner.version,
        "langs": list(banner.languages),
        "policy": datamap.organization.cookie_policy_url or "",
        "gpc": [c.value for c in GPC_REFUSES],
        "cats": [{"k": c.category.value, "req": c.required} for c in banner.categories],
        "t": texts,
    }


_CATEGORY_KEYS = frozenset(
    {*(c.value for c in CookieCategory), "strictly_necessary_d"},
)


@dataclass(frozen=True)
class PurposeChoice:
    """What a visitor's choice means for one purpose: consent given or refused."""

    purpose: str
    granted: bool


@dataclass(frozen=True)
class ReadChoice:
    """A visitor's choice as recorded: per category, and what it means per purpose."""

    categories: Mapping[str, bool]
    purposes: tuple[PurposeChoice, ...]
    #: Categories refused because the browser sent Global Privacy Control.
    refused_by_gpc: tuple[str, ...]


def read_choice(
    banner: Banner, version: str, choices: Mapping[str, bool], *, gpc: bool
) -> ReadChoice:
    """Read a visitor's per-category choice against the banner they were shown.

    The version must be the banner's current one (else ConsentTextChangedError: show
    the new banner and ask again). Every choosable category must be answered, no
    other key given; strictly necessary cannot be refused. With ``gpc`` the categories
    of :data:`GPC_REFUSES` are refused whatever was sent. A purpose served by several
    categories is granted only if all of them are accepted.
    """
    if version != banner.version:
        raise ConsentTextChangedError(
            "the banner's texts have changed since this choice was shown",
            hint="load the banner again and ask the visitor again",
        )
    known = {c.category.value for c in banner.choosable}
    unknown = sorted(set(choices) - known - {CookieCategory.STRICTLY_NECESSARY.value})
    if unknown:
        raise BannerChoiceError(
            f"unknown cookie categories: {', '.join(unknown)}",
            hint="answer " + (", ".join(sorted(known)) or "no category"),
        )
    if choices.get(CookieCategory.STRICTLY_NECESSARY.value) is False:
        raise BannerChoiceError(
            "strictly necessary cookies cannot be refused",
            hint="leave strictly_necessary out of the choice",
        )
    missing = sorted(known - set(choices))
    if missing:
        raise BannerChoiceError(
            f"no answer for the categories {', '.join(missing)}",
            hint="send true or false for every category the banner shows",
        )
    refused = tuple(
        c.value for c in GPC_REFUSES if gpc and c.value in known and choices.get(c.value)
    )
    gpc_refused = {c.value for c in GPC_REFUSES} if gpc else set()
    decided = {key: bool(choices[key]) and key not in gpc_refused for key in sorted(known)}
    granted: dict[str, bool] = {}
    for category in banner.choosable:
        for purpose in category.purposes:
            granted[purpose] = granted.get(purpose, True) and decided[category.category.value]
    return ReadChoice(
        decided,
        tuple(PurposeChoice(p, g) for p, g in granted.items()),
        refused,
    )


def category_purposes(banner: Banner, category: CookieCategory) -> tuple[str, ...]:
    """The purposes whose consent a category stands for (none when it is not offered)."""
    found = banner.category(category.value)
    return found.purposes if found is not None else ()
