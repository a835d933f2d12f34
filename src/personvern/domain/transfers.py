"""Where personal data may go: the EEA, adequacy decisions and the other transfer tools.

The lists are data with the date each decision applies from, so that a check can be
asked about any day. An EU adequacy decision applies in Norway once incorporated into
the EEA Agreement; the dates below are the EU dates, which the EEA has followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

EU_MEMBER_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
EEA_COUNTRIES = EU_MEMBER_STATES | {"NO", "IS", "LI"}


@dataclass(frozen=True)
class AdequacyDecision:
    """An adequacy decision for a country (or organisation) with the period it covers."""

    country: str
    name: str
    applies_from: date
    applies_until: date | None = None
    #: Some decisions cover only part of the recipients there (the US: DPF participants).
    requires_dpf_certification: bool = False
    scope: str = ""

    def in_force(self, on: date) -> bool:
        """Whether the decision covers a transfer made on ``on``."""
        if on < self.applies_from:
            return False
        return self.applies_until is None or on <= self.applies_until


ADEQUACY_DECISIONS: tuple[AdequacyDecision, ...] = (
    AdequacyDecision("AD", "Andorra", date(2010, 10, 19)),
    AdequacyDecision("AR", "Argentina", date(2003, 6, 30)),
    AdequacyDecision("CA", "Canada", date(2001, 12, 20), scope="commercial organisations (PIPEDA)"),
    AdequacyDecision("FO", "Faroe Islands", date(2010, 3, 5)),
    AdequacyDecision("GG", "Guernsey", date(2003, 11, 21)),
    AdequacyDecision("IL", "Israel", date(2011, 1, 31)),
    AdequacyDecision("IM", "Isle of Man", date(2004, 4, 28)),
    AdequacyDecision("JP", "Japan", date(2019, 1, 23)),
    AdequacyDecision("JE", "Jersey", date(2008, 5, 8)),
    AdequacyDecision("NZ", "New Zealand", date(2012, 12, 19)),
    AdequacyDecision("KR", "Republic of Korea", date(2021, 12, 17)),
    AdequacyDecision("CH", "Switzerland", date(2000, 7, 26)),
    AdequacyDecision("GB", "United Kingdom", date(2021, 6, 28), applies_until=date(2031, 12, 27)),
    AdequacyDecision("UY", "Uruguay", date(2012, 8, 21)),
    AdequacyDecision("EPO", "European Patent Organisation", date(2025, 7, 15)),
    AdequacyDecision("BR", "Brazil", date(2026, 1, 27)),
    AdequacyDecision(
        "US",
        "United States (EU-US Data Privacy Framework)",
        date(2023, 7, 10),
        requires_dpf_certification=True,
        scope="organisations certified under the Data Privacy Framework",
    ),
)


class TransferMechanism(StrEnum):
    """The ground a recipient's transfer rests on (GDPR Chapter V)."""

    EEA = "eea"
    ADEQUACY = "adequacy"
    SCC_MODULE_1 = "scc_2021_module_1"
    SCC_MODULE_2 = "scc_2021_module_2"
    SCC_MODULE_3 = "scc_2021_module_3"
    SCC_MODULE_4 = "scc_2021_module_4"
    BCR = "bcr"
    ART49_DEROGATION = "art49_derogation"

    def describe(self, lang: str) -> str:
        """The safeguard as a reader of the notice or the ROPA should see it."""
        return _MECHANISM_TEXT.get(lang, _MECHANISM_TEXT["en"])[self]


_MECHANISM_TEXT: dict[str, dict[TransferMechanism, str]] = {
    "en": {
        TransferMechanism.EEA: "within the EEA",
        TransferMechanism.ADEQUACY: "adequacy decision (GDPR Art. 45)",
        TransferMechanism.SCC_MODULE_1: "EU standard contractual clauses 2021, module 1 "
        "(controller to controller)",
        TransferMechanism.SCC_MODULE_2: "EU standard contractual clauses 2021, module 2 "
        "(controller to processor)",
        TransferMechanism.SCC_MODULE_3: "EU standard contractual clauses 2021, module 3 "
        "(processor to processor)",
        TransferMechanism.SCC_MODULE_4: "EU standard contractual clauses 2021, module 4 "
        "(processor to controller)",
        TransferMechanism.BCR: "binding corporate rules (GDPR Art. 47)",
        TransferMechanism.ART49_DEROGATION: "derogation for specific situations (GDPR Art. 49)",
    },
    "nb": {
        TransferMechanism.EEA: "innenfor EØS",
        TransferMechanism.ADEQUACY: "beslutning om tilstrekkelig beskyttelsesnivå (GDPR art. 45)",
        TransferMechanism.SCC_MODULE_1: "EUs standardkontraktsklausuler 2021, modul 1 "
        "(behandlingsansvarlig til behandlingsansvarlig)",
        TransferMechanism.SCC_MODULE_2: "EUs standardkontraktsklausuler 2021, modul 2 "
        "(behandlingsansvarlig til databehandler)",
        TransferMechanism.SCC_MODULE_3: "EUs standardkontraktsklausuler 2021, modul 3 "
        "(databehandler til databehandler)",
        TransferMechanism.SCC_MODULE_4: "EUs standardkontraktsklausuler 2021, modul 4 "
        "(databehandler til behandlingsansvarlig)",
        TransferMechanism.BCR: "bindende virksomhetsregler (GDPR art. 47)",
        TransferMechanism.ART49_DEROGATION: "unntak for særlige situasjoner (GDPR art. 49)",
    },
}


@dataclass(frozen=True)
class TransferAssessment:
    """The answer to "may data go to this country on this ground on this day?"."""

    lawful: bool
    third_country: bool
    reason: str


def is_third_country(country: str) -> bool:
    """Whether ``country`` (ISO 3166-1 alpha-2) lies outside the EEA."""
    return country.upper() not in EEA_COUNTRIES


def adequacy_for(country: str, on: date, *, dpf_certified: bool = False) -> AdequacyDecision | None:
    """The adequacy decision covering a transfer to ``country`` on ``on``, if any."""
    for decision in ADEQUACY_DECISIONS:
        if decision.country != country.upper() or not decision.in_force(on):
            continue
        if decision.requires_dpf_certification and not dpf_certified:
            continue
        return decision
    return None


def assess_transfer(
    country: str,
    mechanism: TransferMechanism | None,
    on: date,
    *,
    dpf_certified: bool = False,
) -> TransferAssessment:
    """Decide whether a transfer to ``country`` resting on ``mechanism`` is lawful on ``on``."""
    country = country.upper()
    if not is_third_country(country):
        return TransferAssessment(True, False, f"{country} is in the EEA")
    if mechanism is None or mechanism is TransferMechanism.EEA:
        covered = adequacy_for(country, on, dpf_certified=dpf_certified)
        hint = (
            f"; {covered.name} has an adequacy decision, so declare transfer: adequacy"
            if covered
            else ""
        )
        return TransferAssessment(
            False, True, f"{country} is outside the EEA and no transfer mechanism is declared{hint}"
        )
    if mechanism is TransferMechanism.ADEQUACY:
        covered = adequacy_for(country, on, dpf_certified=dpf_certified)
        if covered:
            return TransferAssessment(True, True, f"adequacy decision: {covered.name}")
        if country == "US" and not dpf_certified:
            return TransferAssessment(
                False,
                True,
                "the US adequacy decision covers only Data Privacy Framework participants; "
                "set dpf_certified: true if the recipient is certified, or use SCCs",
            )
        return TransferAssessment(
            False, True, f"there is no adequacy decision for {country} in force on {on.isoformat()}"
        )
    return TransferAssessment(True, True, mechanism.describe("en"))
