"""Synthetic identifiers: every fødselsnummer passes python-stdnum and encodes its birth date."""

from __future__ import annotations

import random
from datetime import date, timedelta

import phonenumbers
import pytest
from stdnum.no import fodselsnummer as stdnum_fnr
from stdnum.no import orgnr as stdnum_orgnr

from personvern.demo.generator import ascii_slug, national_id_forms, wav_tone
from personvern.demo.identifiers import (
    NoValidCheckDigitError,
    fodselsnummer,
    individual_number_range,
    random_fodselsnummer,
    random_mobile,
    random_orgnr,
    written_forms,
)


def _birth_dates(n: int) -> list[date]:
    rng = random.Random(7)
    start = date(1900, 1, 1)
    return [
        start + timedelta(days=rng.randrange((date(2024, 12, 31) - start).days)) for _ in range(n)
    ]


@pytest.mark.parametrize("birth_date", _birth_dates(400))
def test_random_fodselsnummer_is_valid_with_its_birth_date(birth_date: date) -> None:
    number = random_fodselsnummer(random.Random(birth_date.toordinal()), birth_date)

    assert stdnum_fnr.is_valid(number)
    assert birth_date == stdnum_fnr.get_birth_date(number)
    assert f"{birth_date:%d%m%y}" == number[:6]


@pytest.mark.parametrize("birth_date", _birth_dates(200))
def test_d_number_adds_40_to_the_day_and_stays_valid(birth_date: date) -> None:
    number = random_fodselsnummer(random.Random(birth_date.toordinal()), birth_date, d_number=True)

    assert stdnum_fnr.is_valid(number)
    assert birth_date.day + 40 == int(number[:2])
    assert birth_date == stdnum_fnr.get_birth_date(number)


def test_known_number_from_stdnum_documentation() -> None:
    # stdnum's doctest: 151086 95088 is valid; its individual number is 950 (born 1986).
    assert "15108695088" == fodselsnummer(date(1986, 10, 15), 950)


def test_individual_number_must_encode_the_century() -> None:
    with pytest.raises(ValueError, match="does not encode"):
        fodselsnummer(date(1986, 10, 15), 600)


def test_check_digit_ten_is_refused_not_wrapped() -> None:
    refused = 0
    for individual in individual_number_range(date(1986, 10, 15)):
        try:
            number = fodselsnummer(date(1986, 10, 15), individual)
        except NoValidCheckDigitError:
            refused += 1
        else:
            assert stdnum_fnr.is_valid(number)
    assert 0 < refused < 300


@pytest.mark.parametrize(
    ("year", "first", "last"),
    [(1880, 500, 749), (1920, 0, 499), (2010, 500, 999)],
)
def test_individual_number_ranges(year: int, first: int, last: int) -> None:
    allowed = individual_number_range(date(year, 6, 1))
    assert (first, last) == (min(allowed), max(allowed))


def test_1940_to_1999_use_two_ranges() -> None:
    allowed = set(individual_number_range(date(1975, 6, 1)))
    assert {0, 499, 900, 999} <= allowed
    assert not allowed & {500, 899}


def test_orgnr_passes_stdnum() -> None:
    rng = random.Random(1)
    assert all(stdnum_orgnr.is_valid(random_orgnr(rng)) for _ in range(500))


@pytest.mark.parametrize("country", ["NO", "GB"])
def test_mobile_numbers_are_valid_for_their_country(country: str) -> None:
    rng = random.Random(3)
    for _ in range(200):
        parsed = phonenumbers.parse(random_mobile(rng, country))
        assert phonenumbers.is_valid_number(parsed)
        assert country == phonenumbers.region_code_for_number(parsed)


def test_written_forms_of_a_norwegian_mobile() -> None:
    assert [
        "+47 912 34 567",
        "912 34 567",
        "91234567",
        "+47 91 23 45 67",
        "91 23 45 67",
        "+4791234567",
    ] == written_forms("+4791234567")


def test_written_forms_of_a_british_mobile() -> None:
    assert ["+44 7700 900123", "07700 900123", "07700900123", "+447700900123"] == written_forms(
        "+447700900123"
    )


def test_national_id_forms() -> None:
    assert ["15108695088", "151086 95088"] == national_id_forms("15108695088")


def test_ascii_slug_folds_norwegian_letters() -> None:
    assert "bjorn.ase.aerlig" == ascii_slug("Bjørn Åse Ærlig")


def test_wav_tone_is_a_small_real_wav() -> None:
    data = wav_tone(440)
    assert data.startswith(b"RIFF")
    assert b"WAVE" == data[8:12]
    assert 4000 < len(data) < 5000
