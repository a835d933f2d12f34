"""How long personvern keeps its own records: they are personal data too.

personvern stores requests and their answers, unproven requests, consent proofs,
download links, web events and its audit trail. Each kind has a rule here, with its
period (set in personvern's settings), what the period runs from, and why that long, so
the same sweep that enforces the company's rules enforces these, and the record of
processing shows them as personvern's own processing. Periods are counted in UTC days,
like the data map's rules: a record is kept through its expiry day and due the day after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from personvern.domain.retention.due import last_due_day
from personvern.domain.retention_period import RetentionPeriod, parse_period

#: The system name the sweep, its evidence and the report give personvern's own store.
OWN_SYSTEM = "personvern"


@dataclass(frozen=True)
class OwnRecordRule:
    """One kind of personvern's own records, how long it is kept and why."""

    key: str
    #: The table in personvern's store.
    table: str
    #: ISO 8601 period (the setting's value).
    period: str
    #: The setting that changes the period.
    setting: str
    #: What the period runs from and why that long, per language (en, nb).
    what: Mapping[str, str]
    runs_from: Mapping[str, str]
    basis: Mapping[str, str]

    @property
    def target(self) -> str:
        """ "personvern.<table>", as evidence and messages name it."""
        return f"{OWN_SYSTEM}.{self.table}"

    @property
    def parsed_period(self) -> RetentionPeriod:
        """The period in parts."""
        return parse_period(self.period)

    def last_due_day(self, today: date) -> date | None:
        """The latest trigger day due on ``today`` (the data map's rules count the same way)."""
        return last_due_day(self.parsed_period, today)

    def text(self, part: Mapping[str, str], lang: str) -> str:
        """One of the rule's texts in ``lang`` (English when not translated)."""
        return part.get(lang, part["en"])


def own_record_rules(periods: Mapping[str, str] | None = None) -> tuple[OwnRecordRule, ...]:
    """The rules of personvern's own records; ``periods`` (by key) replaces their defaults."""
    chosen = periods or {}
    return tuple(
        dataclasses.replace(rule, period=chosen.get(rule.key, rule.period)) for rule in _RULES
    )


class _Fields(TypedDict):
    period: str
    table: str
    setting: str
    what: Mapping[str, str]
    runs_from: Mapping[str, str]
    basis: Mapping[str, str]


_DEFINED: dict[str, _Fields] = {
    "own-requests": {
        "period": "P3Y",
        "table": "data_subject_requests",
        "setting": "PERSONVERN_RETENTION_OWN_REQUESTS",
        "what": {
            "en": "Data subject requests, their history, tasks and answers",
            "nb": "Henvendelser fra registrerte, med historikk, oppgaver og svar",
        },
        "runs_from": {"en": "after the request was closed", "nb": "etter at saken ble avsluttet"},
        "basis": {
            "en": "to show how a request was answered while a claim can be brought "
            "(foreldelsesloven § 2: 3 years)",
            "nb": "for å kunne dokumentere hvordan henvendelsen ble besvart så lenge et krav "
            "kan fremmes (foreldelsesloven § 2: 3 år)",
        },
    },
    "own-unverified-requests": {
        "period": "P30D",
        "table": "data_subject_requests",
        "setting": "PERSONVERN_UNVERIFIED_RETENTION_DAYS",
        "what": {
            "en": "Requests whose identity was never verified",
            "nb": "Henvendelser der identiteten aldri ble bekreftet",
        },
        "runs_from": {"en": "after the request was received", "nb": "etter at den kom inn"},
        "basis": {
            "en": "an unproven claim about a person serves no purpose once the code has "
            "long expired (GDPR Art. 5(1)(e))",
            "nb": "en ubekreftet påstand om en person har ikke noe formål når koden for lengst "
            "er utløpt (personvernforordningen art. 5 nr. 1 bokstav e)",
        },
    },
    "own-download-links": {
        "period": "P0D",
        "table": "download_links",
        "setting": "PERSONVERN_RETENTION_OWN_DOWNLOAD_LINKS",
        "what": {"en": "Download links to answers", "nb": "Nedlastingslenker til svar"},
        "runs_from": {
            "en": "after the link expired or was revoked",
            "nb": "etter at lenken utløp eller ble trukket tilbake",
        },
        "basis": {
            "en": "a link that no longer works serves no purpose (GDPR Art. 5(1)(e))",
            "nb": "en lenke som ikke virker lenger, har ikke noe formål "
            "(personvernforordningen art. 5 nr. 1 bokstav e)",
        },
    },
    "own-consent-proofs": {
        "period": "P3Y",
        "table": "consent_records",
        "setting": "PERSONVERN_RETENTION_OWN_CONSENT_PROOFS",
        "what": {
            "en": "Consent proofs superseded by a later grant or withdrawal (the record in "
            "force is always kept)",
            "nb": "Samtykkebevis som er erstattet av et senere samtykke eller tilbaketrekking "
            "(beviset som gjelder, beholdes alltid)",
        },
        "runs_from": {"en": "after it was superseded", "nb": "etter at det ble erstattet"},
        "basis": {
            "en": "to prove a consent (GDPR Art. 7(1)) while a claim about processing based "
            "on it can be brought (foreldelsesloven § 2: 3 years)",
            "nb": "for å kunne bevise samtykket (personvernforordningen art. 7 nr. 1) så lenge "
            "et krav om behandlingen kan fremmes (foreldelsesloven § 2: 3 år)",
        },
    },
    "own-web-events": {
        "period": "P13M",
        "table": "web_events",
        "setting": "PERSONVERN_RETENTION_OWN_WEB_EVENTS",
        "what": {
            "en": "Web and app events collected with analytics consent",
            "nb": "Hendelser fra nettsted og app samlet inn med samtykke til analyse",
        },
        "runs_from": {"en": "after they occurred", "nb": "etter at de skjedde"},
        "basis": {
            "en": "a year's comparison and a month to report on it (13 months, as CNIL's "
            "guidance on audience measurement allows)",
            "nb": "sammenligning over ett år og en måned til å rapportere (13 måneder, som "
            "CNILs veiledning om publikumsmåling tillater)",
        },
    },
    "own-audit-events": {
        "period": "P5Y",
        "table": "audit_events",
        "setting": "PERSONVERN_RETENTION_OWN_AUDIT_EVENTS",
        "what": {
            "en": "Audit trail events (the oldest go first; the chain stays verifiable)",
            "nb": "Hendelser i revisjonssporet (de eldste først; kjeden kan fortsatt verifiseres)",
        },
        "runs_from": {"en": "after they were recorded", "nb": "etter at de ble registrert"},
        "basis": {
            "en": "accountability (GDPR Art. 5(2)) for as long as the records an event "
            "speaks of are kept, bookkeeping included (bokføringsloven § 13: 5 years)",
            "nb": "ansvarlighet (personvernforordningen art. 5 nr. 2) så lenge opplysningene "
            "en hendelse gjelder oppbevares, regnskap medregnet (bokføringsloven § 13: 5 år)",
        },
    },
}

#: The rules with their default periods, in the order the sweep runs them (children first:
#: download links before the requests they belong to).
_ORDER = (
    "own-download-links",
    "own-unverified-requests",
    "own-requests",
    "own-consent-proofs",
    "own-web-events",
    "own-audit-events",
)
_RULES: tuple[OwnRecordRule, ...] = tuple(OwnRecordRule(key=k, **_DEFINED[k]) for k in _ORDER)
#: Each rule's default period, by key.
DEFAULT_PERIODS: dict[str, str] = {rule.key: rule.period for rule in _RULES}
