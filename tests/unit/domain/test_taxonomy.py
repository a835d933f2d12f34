"""The Fides vocabulary and the rules on top of it."""

from __future__ import annotations

import pytest

from personvern.domain.legal_basis import LegalBasis
from personvern.domain.taxonomy import TaxonomyEntry, TaxonomyKind, fides_taxonomy


@pytest.mark.parametrize(
    ("category", "article"),
    [
        ("user.biometric.voice", "Art. 9"),
        ("user.health_and_medical.genetic", "Art. 9"),
        ("user.demographic.religious_belief", "Art. 9"),
        ("user.criminal_history", "Art. 10"),
        ("user.contact.email", None),
        ("user.demographic.language", None),
    ],
)
def test_special_categories(category: str, article: str | None) -> None:
    assert article == fides_taxonomy().special_article(category)


def test_custom_keys_inherit_specialness_from_their_parent() -> None:
    taxonomy = fides_taxonomy().extended(
        TaxonomyKind.DATA_CATEGORY,
        [
            TaxonomyEntry(
                "user.health_and_medical.sick_leave", "Sick leave", "user.health_and_medical"
            )
        ],
    )
    assert "Art. 9" == taxonomy.special_article("user.health_and_medical.sick_leave")


def test_suggestions_for_a_typo_and_for_a_wrong_prefix() -> None:
    taxonomy = fides_taxonomy()
    assert ["user.contact.email"] == taxonomy.suggest(
        TaxonomyKind.DATA_CATEGORY, "user.contact.emial"
    )
    assert ["prospect"] == taxonomy.suggest(TaxonomyKind.DATA_SUBJECT, "prospekt")


@pytest.mark.parametrize(
    ("basis", "article"),
    [
        (LegalBasis.CONSENT, "GDPR Art. 6(1)(a)"),
        (LegalBasis.CONTRACT, "GDPR Art. 6(1)(b)"),
        (LegalBasis.LEGAL_OBLIGATION, "GDPR Art. 6(1)(c)"),
        (LegalBasis.LEGITIMATE_INTERESTS, "GDPR Art. 6(1)(f)"),
    ],
)
def test_legal_basis_articles(basis: LegalBasis, article: str) -> None:
    assert article == basis.article
