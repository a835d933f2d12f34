"""Phone numbers read as stored, in E.164, with the controller's country as default region."""

from __future__ import annotations

import phonenumbers
import pytest

from personvern.domain.identities import phone
from personvern.domain.identities.errors import InvalidIdentityError

KARI = "+4797155337"


@pytest.mark.parametrize(
    ("stored", "country", "canonical"),
    [
        # The spellings of issue 7, as a Norwegian company's records hold them.
        ("0047 97320840", "NO", "+4797320840"),
        ("971 55 337", "NO", "+4797155337"),
        ("40347783", "NO", "+4740347783"),
        ("(+47) 913 22 110", "NO", "+4791322110"),
        ("+47 913 22 110", "NO", "+4791322110"),
        ("+4791322110", "NO", "+4791322110"),
        ("97 15 53 37", "NO", "+4797155337"),
        ("22 12 34 56", "NO", "+4722123456"),
        ("971-55-337", "NO", "+4797155337"),
        ("971.55.337", "NO", "+4797155337"),
        ("(+47)97155337", "NO", "+4797155337"),
        ("  971 55 337  ", "NO", "+4797155337"),
        ("971\u00a055\u00a0337", "NO", "+4797155337"),
        (97155337, "NO", "+4797155337"),
        (4797155337, "NO", "+4797155337"),
        # The UK's: national with the trunk prefix, and "(0)" kept after the code.
        ("07812 345678", "GB", "+447812345678"),
        ("+44 (0)7812 345678", "GB", "+447812345678"),
        ("+44 (0)7812 345678", "NO", "+447812345678"),
        ("0044 7812 345678", "NO", "+447812345678"),
        ("020 7946 0018", "GB", "+442079460018"),
        # 00 read as "abroad" without a region (connectors) and where it is not the prefix.
        ("0047 97155337", "", "+4797155337"),
        ("0047 97155337", "US", "+4797155337"),
    ],
)
def test_a_number_is_read_in_every_spelling_stores_keep(
    stored: object, country: str, canonical: str
) -> None:
    assert canonical == phone.canonical_or_none(stored, country)


@pytest.mark.parametrize(
    ("stored", "country"),
    [
        (None, "NO"),
        ("", "NO"),
        ("   ", "NO"),
        (True, "NO"),
        (["97155337"], "NO"),
        ("ukjent", "NO"),
        # Words around a number are a note, not a number (phonenumbers would skip them).
        ("tlf 971 55 337", "NO"),
        ("971 55 337 (mobil)", "NO"),
        ("1-800-FLOWERS", "US"),
        # Two numbers in one field, a plus in the middle, a digit missing.
        ("971 55 337 / 22 12 34 56", "NO"),
        ("47+97155337", "NO"),
        ("++4797155337", "NO"),
        ("971 55 33", "NO"),
        # A national spelling means nothing without the country it is read in.
        ("971 55 337", ""),
        ("971 55 337", "XX"),
        # The UK's national spelling is no Norwegian number.
        ("07812 345678", "NO"),
    ],
)
def test_a_value_that_is_no_number_is_unreadable_not_an_error(stored: object, country: str) -> None:
    assert phone.canonical_or_none(stored, country) is None


def test_intake_refuses_what_is_no_number_with_a_hint() -> None:
    with pytest.raises(InvalidIdentityError) as refused:
        phone.parse("+47 12", "NO")
    assert ("that is not a valid phone number", True) == (
        refused.value.message,
        "+47" in (refused.value.hint or ""),
    )


def test_a_norwegian_number_is_asked_for_in_both_groupings_and_every_prefix() -> None:
    spellings = phone.stored_spellings(KARI, "NO")
    expected = {
        "+4797155337",
        "+47 971 55 337",
        "+47 97 15 53 37",
        "971 55 337",
        "97 15 53 37",
        "97155337",
        "0047 97155337",
        "004797155337",
        "0047 971 55 337",
        "(+47) 971 55 337",
        "(+47) 97 15 53 37",
    }
    assert expected == expected & spellings


def test_another_countrys_number_is_asked_for_only_internationally() -> None:
    spellings = phone.stored_spellings("+447812345678", "NO")
    assert set() == {s for s in spellings if not s.startswith(("+", "00", "(+"))}
    assert {"+44 7812 345678", "+44 (0)7812 345678", "0044 7812 345678"} <= spellings


def test_text_is_searched_for_a_number_as_its_own_country_writes_it() -> None:
    # A British customer writes "07812 345678" in a ticket to a Norwegian company.
    assert {"07812 345678", "07812345678"} <= phone.text_needles("+447812345678", "NO")
    assert {"971 55 337", "97 15 53 37", "97155337"} <= phone.text_needles(KARI, "GB")


@pytest.mark.parametrize("country", ["NO", "GB", "SE", ""])
def test_every_spelling_reads_back_as_the_number(country: str) -> None:
    for canonical in (KARI, "+4722123456", "+447812345678", "+46701234567"):
        spellings = phone.stored_spellings(canonical, country)
        assert {canonical} == {phone.canonical_or_none(s, country) for s in spellings}


def test_the_home_country_of_a_number_is_its_region() -> None:
    assert ("NO", "GB", "") == (
        phone.home_country(KARI),
        phone.home_country("+447812345678"),
        phone.home_country("971 55 337"),
    )


def test_a_search_reads_each_spelling_once_and_forgets_the_readings_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parses: list[str] = []
    real = phonenumbers.parse

    def counted(text: str, region: str | None = None) -> phonenumbers.PhoneNumber:
        parses.append(text)
        return real(text, region)

    monkeypatch.setattr(phonenumbers, "parse", counted)
    with phone.readings_remembered():
        first = [phone.canonical_or_none("971 55 337", "NO") for _ in range(3)]
        assert [KARI] * 3 == first
        assert 1 == len(parses)
        # Another country is another reading.
        phone.canonical_or_none("971 55 337", "SE")
        assert 2 == len(parses)
    phone.canonical_or_none("971 55 337", "NO")
    assert 3 == len(parses)
