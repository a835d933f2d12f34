"""Legal bases for processing (GDPR Art. 6(1)) and conditions for special categories (Art. 9(2))."""

from __future__ import annotations

from enum import StrEnum


class LegalBasis(StrEnum):
    """The six lawful bases of Art. 6(1), by the names people use for them."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"

    @property
    def article(self) -> str:
        """The article reference, e.g. ``GDPR Art. 6(1)(a)``."""
        letter = "abcdef"[list(LegalBasis).index(self)]
        return f"GDPR Art. 6(1)({letter})"

    def label(self, lang: str) -> str:
        """A short human name in ``lang`` (nb or en; other languages fall back to en)."""
        return _LABELS.get(lang, _LABELS["en"])[self]


_LABELS: dict[str, dict[LegalBasis, str]] = {
    "en": {
        LegalBasis.CONSENT: "your consent",
        LegalBasis.CONTRACT: "performance of a contract",
        LegalBasis.LEGAL_OBLIGATION: "a legal obligation",
        LegalBasis.VITAL_INTERESTS: "vital interests",
        LegalBasis.PUBLIC_TASK: "a task in the public interest",
        LegalBasis.LEGITIMATE_INTERESTS: "our legitimate interests",
    },
    "nb": {
        LegalBasis.CONSENT: "ditt samtykke",
        LegalBasis.CONTRACT: "oppfyllelse av en avtale",
        LegalBasis.LEGAL_OBLIGATION: "en rettslig forpliktelse",
        LegalBasis.VITAL_INTERESTS: "vitale interesser",
        LegalBasis.PUBLIC_TASK: "en oppgave i allmennhetens interesse",
        LegalBasis.LEGITIMATE_INTERESTS: "våre berettigede interesser",
    },
}


class SpecialCategoryCondition(StrEnum):
    """The conditions of Art. 9(2) that lift the ban on special categories."""

    EXPLICIT_CONSENT = "9(2)(a)"
    EMPLOYMENT_SOCIAL_SECURITY = "9(2)(b)"
    VITAL_INTERESTS = "9(2)(c)"
    NOT_FOR_PROFIT_BODY = "9(2)(d)"
    MADE_PUBLIC = "9(2)(e)"
    LEGAL_CLAIMS = "9(2)(f)"
    SUBSTANTIAL_PUBLIC_INTEREST = "9(2)(g)"
    HEALTH_OR_SOCIAL_CARE = "9(2)(h)"
    PUBLIC_HEALTH = "9(2)(i)"
    ARCHIVING_RESEARCH_STATISTICS = "9(2)(j)"
    # Art. 10 data (criminal convictions) needs an authorisation in Union or national law.
    ART10_AUTHORISED_BY_LAW = "10"
