"""National identity numbers: checked by the country's rule (python-stdnum for Norway), compact."""

from __future__ import annotations

import pytest

from personvern.domain.identities import national_id
from personvern.domain.identities.errors import InvalidIdentityError

FNR = "01017012343"
#: A D-number: the day of birth plus 40.
D_NUMBER = "41017012337"


def test_the_examples_are_valid_numbers() -> None:
    assert (FNR, D_NUMBER) == (
        national_id.parse(FNR, "NO"),
        national_id.parse(D_NUMBER, "NO"),
    )


@pytest.mark.parametrize(
    ("stored", "canonical"),
    [
        (FNR, FNR),
        ("010170 12343", FNR),
        ("010170-12343", FNR),
        ("  010170 12343 ", FNR),
        ("010170\u00a012343", FNR),
        ("410170 12337", D_NUMBER),
        # Stored as a number, the leading zero is lost; it is padded back.
        (1017012343, FNR),
    ],
)
def test_a_norwegian_number_is_read_in_the_spellings_people_use(
    stored: object, canonical: str
) -> None:
    assert canonical == national_id.canonical_or_none(stored, "NO")


@pytest.mark.parametrize(
    "stored",
    [
        "01017012345",  # check digits wrong
        "010170 1234",  # a digit short
        "320170 12343",  # no such day
        "ukjent",
        "",
        None,
        True,
        "０１０１７０１２３４３",  # fullwidth digits are no number a register issues
    ],
)
def test_a_number_failing_the_rule_is_unreadable_not_an_error(stored: object) -> None:
    assert national_id.canonical_or_none(stored, "NO") is None


def test_intake_names_the_rule_a_number_fails() -> None:
    with pytest.raises(InvalidIdentityError) as refused:
        national_id.parse("01017012345", "NO")
    assert (
        "that is not a valid Norwegian national identity number",
        "11 digits, fødselsnummer or D-number",
    ) == (refused.value.message, refused.value.hint)


def test_stores_are_asked_for_the_three_norwegian_spellings() -> None:
    assert frozenset({FNR, "010170 12343", "010170-12343"}) == national_id.stored_spellings(
        FNR, "NO"
    )
    assert national_id.stored_spellings(FNR, "NO") == national_id.text_needles(FNR, "NO")


def test_without_a_rule_for_the_country_the_number_is_compact_and_opaque() -> None:
    assert ("191212121212", frozenset({"191212121212"})) == (
        national_id.canonical_or_none("19121212-1212", "SE"),
        national_id.stored_spellings("191212121212", "SE"),
    )
    assert national_id.canonical_or_none("12 34 <script>", "SE") is None


def test_the_rule_is_data_a_new_validator_replaces() -> None:
    # The 2032 check digits: a rule built the same way with another validator is used
    # by every function, nothing else changes.
    rule = national_id.RULES["NO"]
    assert (6, 11) == (rule.split, rule.length)
    assert frozenset({FNR, "010170 12343", "010170-12343"}) == rule.spellings(FNR)
