"""Synthetic Norwegian and British identifiers for the demo company.

Faker's Norwegian provider makes numbers that look right but fail the checks real
systems apply (mod-11 check digits, number plans), and the demo exists to exercise
those checks. So the identifiers here are built by the rules, and every one is
validated with python-stdnum or phonenumbers before it is used.
"""

from __future__ import annotations

import random
from datetime import date
from functools import cache

import phonenumbers

# Weights of the two mod-11 check digits of a fødselsnummer (Skatteetaten's rule until 2032).
_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


class NoValidCheckDigitError(ValueError):
    """The chosen individual number gives check digit 10, which the number plan skips."""


def _mod11(digits: str, weights: tuple[int, ...]) -> int:
    check = (11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11) % 11
    if check == 10:
        raise NoValidCheckDigitError(digits)
    return check


def individual_number_range(birth_date: date) -> tuple[int, ...]:
    """The individual numbers (digits 7-9) allowed for someone born on ``birth_date``."""
    return _individual_numbers(birth_date.year)


@cache
def _individual_numbers(year: int) -> tuple[int, ...]:
    # The century is encoded in the individual number; these are the ranges the
    # Folkeregister allocates (and python-stdnum decodes) for each period.
    if 1854 <= year <= 1899:
        return tuple(range(500, 750))
    if 1900 <= year <= 1939:
        return tuple(range(500))
    if 1940 <= year <= 1999:
        return (*range(500), *range(900, 1000))
    if 2000 <= year <= 2039:
        return tuple(range(500, 1000))
    msg = f"no individual number range for birth year {year}"
    raise ValueError(msg)


def fodselsnummer(birth_date: date, individual: int, *, d_number: bool = False) -> str:
    """The 11-digit fødselsnummer (or D-number) for a birth date and individual number."""
    if individual not in individual_number_range(birth_date):
        msg = f"individual number {individual:03d} does not encode the year {birth_date.year}"
        raise ValueError(msg)
    day = birth_date.day + (40 if d_number else 0)
    base = f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{individual:03d}"
    k1 = _mod11(base, _K1_WEIGHTS)
    k2 = _mod11(f"{base}{k1}", _K2_WEIGHTS)
    return f"{base}{k1}{k2}"


def random_fodselsnummer(rng: random.Random, birth_date: date, *, d_number: bool = False) -> str:
    """A valid fødselsnummer (or D-number) for ``birth_date`` with a random individual number."""
    allowed = individual_number_range(birth_date)
    while True:
        try:
            return fodselsnummer(birth_date, rng.choice(allowed), d_number=d_number)
        except NoValidCheckDigitError:
            # About one individual number in eleven gives check digit 10; the
            # Folkeregister never issues those, so draw another.
            continue


def random_orgnr(rng: random.Random) -> str:
    """A Norwegian organisation number (9 digits, mod-11 check) in the 8xx/9xx series."""
    while True:
        base = f"{rng.choice('89')}{rng.randrange(10**7):07d}"
        try:
            return f"{base}{_mod11(base, _ORGNR_WEIGHTS)}"
        except NoValidCheckDigitError:
            continue


def random_uk_company_number(rng: random.Random) -> str:
    """A Companies House number for a company registered in England and Wales (8 digits)."""
    return f"{rng.randrange(1, 16_000_000):08d}"


def random_mobile(rng: random.Random, country: str) -> str:
    """A mobile number valid in ``country`` (NO or GB), in E.164 form."""
    while True:
        if country == "NO":
            candidate = f"+47{rng.choice('49')}{rng.randrange(10**7):07d}"
        elif country == "GB":
            candidate = f"+447{rng.choice('45789')}{rng.randrange(10**8):08d}"
        else:
            msg = f"no mobile number plan for {country}"
            raise ValueError(msg)
        # Region check, not just validity: some +44 7 ranges belong to Jersey,
        # Guernsey and the Isle of Man.
        if phonenumbers.is_valid_number_for_region(phonenumbers.parse(candidate), country):
            return candidate


def written_forms(e164: str) -> list[str]:
    """Ways people write a phone number in free text: +47 912 34 567, 912 34 567, 91234567, ..."""
    parsed = phonenumbers.parse(e164)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = "".join(ch for ch in national if ch.isdigit())
    forms = [international, national, digits, e164]
    if parsed.country_code == 47 and len(digits) == 8:
        # Norwegians write mobile numbers 3-2-3 (912 34 567) whatever phonenumbers'
        # grouping for the series is, so both groupings occur in real messages.
        grouped = f"{digits[:3]} {digits[3:5]} {digits[5:]}"
        forms = [f"+47 {grouped}", grouped, digits, international, national, e164]
    return list(dict.fromkeys(forms))
