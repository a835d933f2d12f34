"""The registry of identity kinds, keys, and the lookup connectors run without the country."""

from __future__ import annotations

import pytest

from personvern.domain.datamap import IdentityKind
from personvern.domain.identities import email, keys, national_id, phone
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.identities.kinds import SPELLED, exact_lookup, scheme


def test_every_kind_has_a_module_and_only_contact_details_and_national_ids_are_spelled() -> None:
    modules = {kind: scheme(kind) for kind in IdentityKind}
    assert {
        IdentityKind.EMAIL: email,
        IdentityKind.PHONE_NUMBER: phone,
        IdentityKind.NATIONAL_ID: national_id,
    } == {kind: module for kind, module in modules.items() if module is not keys}
    assert (
        frozenset({IdentityKind.EMAIL, IdentityKind.PHONE_NUMBER, IdentityKind.NATIONAL_ID})
        == SPELLED
    )


@pytest.mark.parametrize(
    ("stored", "canonical"),
    [
        (100001, "100001"),
        (" C-10042 ", "C-10042"),
        ("c%2Fann", "c%2Fann"),
        ("", None),
        (None, None),
    ],
)
def test_a_stored_key_is_its_text_without_blanks(stored: object, canonical: str | None) -> None:
    assert canonical == keys.canonical_or_none(stored, "NO")


def test_intake_names_the_kind_of_key_it_refuses() -> None:
    with pytest.raises(InvalidIdentityError, match="the customer_id contains characters"):
        keys.parse("C 10042", "NO", what="the customer_id")


def test_keys_are_never_looked_for_in_free_text() -> None:
    assert (frozenset({"42"}), frozenset()) == (
        keys.stored_spellings("42", "NO"),
        keys.text_needles("42", "NO"),
    )


def test_a_connector_asks_for_the_walks_spellings_and_confirms_by_the_number() -> None:
    # What a walk in a Norwegian company sends for +47 971 55 337.
    lookup = exact_lookup(IdentityKind.PHONE_NUMBER, phone.stored_spellings("+4797155337", "NO"))

    confirmed = {
        stored: lookup.matches(stored)
        for stored in ["971 55 337", "0047 97155337", "971-55-337", "971 55 338", None, 97155337]
    }

    assert (frozenset({"+4797155337"}), True) == (lookup.wanted, "971 55 337" in lookup.spellings)
    assert {
        "971 55 337": True,
        "0047 97155337": True,
        "971-55-337": True,
        "971 55 338": False,
        None: False,
        97155337: True,
    } == confirmed


def test_a_connector_compares_a_national_id_compact() -> None:
    lookup = exact_lookup(
        IdentityKind.NATIONAL_ID, national_id.stored_spellings("01017012343", "NO")
    )
    assert (frozenset({"01017012343"}), True, False) == (
        lookup.wanted,
        lookup.matches("010170 12343"),
        lookup.matches("010170 12345"),
    )


def test_a_connector_asked_for_an_address_confirms_only_that_address() -> None:
    lookup = exact_lookup(IdentityKind.EMAIL, ["Eivind.Nilsen@Example.no"])
    assert (frozenset({"eivind.nilsen@example.no"}), True, False) == (
        lookup.wanted,
        lookup.matches("EIVIND.NILSEN@example.NO"),
        lookup.matches("eivind.nil\u017fen@example.no"),
    )
