"""Retention periods: ISO 8601 durations read into parts and said in words (nb, en).

A notice must state how long data is kept (GDPR Art. 13(2)(a)); "P5Y" means nothing
to a reader, "5 år" does. Only the calendar parts the data map allows (years, months,
weeks, days) are understood, the same subset ``RetentionRule.period`` validates.
Languages other than nb and en fall back to English, like the legal-basis labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from personvern.domain.datamap import RetentionAction, RetentionTrigger

_ISO_PERIOD = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class RetentionPeriod:
    """A calendar period: years, months, weeks and days."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    def words(self, lang: str) -> str:
        """The period in words, e.g. ``5 år``, ``1 year and 6 months``, ``90 days``."""
        units = _UNITS.get(lang, _UNITS["en"])
        parts = [
            f"{count} {units[unit][0] if count == 1 else units[unit][1]}"
            for unit, count in (
                ("year", self.years),
                ("month", self.months),
                ("week", self.weeks),
                ("day", self.days),
            )
            if count
        ]
        if not parts:
            return units["zero"][0]
        if len(parts) == 1:
            return parts[0]
        return ", ".join(parts[:-1]) + f" {units['and'][0]} " + parts[-1]


# Each unit: (singular, plural). "and"/"zero" hold the joining word and the empty period.
_UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "year": ("year", "years"),
        "month": ("month", "months"),
        "week": ("week", "weeks"),
        "day": ("day", "days"),
        "and": ("and", "and"),
        "zero": ("no time", "no time"),
    },
    "nb": {
        "year": ("år", "år"),
        "month": ("måned", "måneder"),
        "week": ("uke", "uker"),
        "day": ("dag", "dager"),
        "and": ("og", "og"),
        "zero": ("ingen tid", "ingen tid"),
    },
}


def parse_period(text: str) -> RetentionPeriod:
    """Read an ISO 8601 calendar duration such as ``P5Y``, ``P1Y6M`` or ``P90D``."""
    match = _ISO_PERIOD.match(text.strip())
    if match is None:
        msg = f"'{text}' is not an ISO 8601 duration such as P5Y, P18M or P30D"
        raise ValueError(msg)
    years, months, weeks, days = (int(group) if group else 0 for group in match.groups())
    return RetentionPeriod(years=years, months=months, weeks=weeks, days=days)


def describe_period(text: str, lang: str) -> str:
    """An ISO 8601 duration in words: ``describe_period("P5Y", "nb") == "5 år"``."""
    return parse_period(text).words(lang)


_TRIGGERS: dict[str, dict[RetentionTrigger, str]] = {
    "en": {
        RetentionTrigger.COLLECTED: "after collection",
        RetentionTrigger.LAST_ACTIVITY: "after the last activity",
        RetentionTrigger.CONTRACT_END: "after the contract ends",
        RetentionTrigger.FINANCIAL_YEAR_END: "after the end of the financial year",
        RetentionTrigger.CONSENT_WITHDRAWN: "after consent is withdrawn",
        RetentionTrigger.PURPOSE_FULFILLED: "after the purpose is fulfilled",
    },
    "nb": {
        RetentionTrigger.COLLECTED: "etter innsamling",
        RetentionTrigger.LAST_ACTIVITY: "etter siste aktivitet",
        RetentionTrigger.CONTRACT_END: "etter at avtalen er avsluttet",
        RetentionTrigger.FINANCIAL_YEAR_END: "etter regnskapsårets slutt",
        RetentionTrigger.CONSENT_WITHDRAWN: "etter at samtykket er trukket tilbake",
        RetentionTrigger.PURPOSE_FULFILLED: "etter at formålet er oppfylt",
    },
}

_ACTIONS: dict[str, dict[RetentionAction, str]] = {
    "en": {RetentionAction.DELETE: "deleted", RetentionAction.ANONYMISE: "anonymised"},
    "nb": {RetentionAction.DELETE: "slettes", RetentionAction.ANONYMISE: "anonymiseres"},
}


def describe_trigger(trigger: RetentionTrigger, lang: str) -> str:
    """The event the period runs from, as words that follow the period ("5 år etter ...")."""
    return _TRIGGERS.get(lang, _TRIGGERS["en"])[trigger]


def describe_action(action: RetentionAction, lang: str) -> str:
    """What happens when the period has run, as a past participle ("deleted", "slettes")."""
    return _ACTIONS.get(lang, _ACTIONS["en"])[action]


def describe_retention(period: str, trigger: RetentionTrigger, lang: str) -> str:
    """Period and trigger together: ``5 år etter regnskapsårets slutt``."""
    return f"{describe_period(period, lang)} {describe_trigger(trigger, lang)}"
