"""Phone numbers: one canonical form (E.164), read from the spellings stores and people use.

A number is read with the controller's country as the default region, so a store
that keeps ``971 55 337``, ``40347783``, ``0047 97320840``, ``(+47) 913 22 110`` or
``+44 (0)7911 123456`` holds a number, and it is compared as ``+4797155337``. Reading
never raises: a value that is no valid number is unreadable (None), and the request
names the record it sits on (personvern.domain.requests.subject_graph).

Only digits, blanks, ``+``, parentheses, hyphens and dots are read. phonenumbers would
also read letters (``1-800-FLOWERS``) and skip words (``tlf 971 55 337``, ``ext. 12``),
which would turn a note in a phone field into somebody's number.

The spellings searched for are the international ones (``+47 971 55 337``,
``0047 97155337``, ``(+47) 97 15 53 37``, ...) and, for a number of the controller's
country, the national ones (``971 55 337``, ``97 15 53 37``, ``97155337``). A
national spelling of another country's number is not searched in stores: read in
the controller's country it would be a different number, or none. Free text is
searched for a number's own national spellings wherever it is from, since people write
their own number the way they do at home.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import phonenumbers

from personvern.domain.identities.errors import InvalidIdentityError

#: Characters a phone number is written with; anything else makes the value unreadable.
_WRITTEN = re.compile(r"[0-9+()\-. ]+")
#: Blanks copied from documents: no-break spaces and tabs count as spaces.
_BLANKS = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\t": " "})
#: Longer than any number people write, with every separator (phonenumbers stops at 250).
_MAX_LENGTH = 40
_HINT = "digits with the country code, for example +47 912 34 567"
_E164 = phonenumbers.PhoneNumberFormat.E164


def parse(value: str, country: str) -> str:
    """The number in E.164, or InvalidIdentityError if it is no valid number."""
    canonical = canonical_or_none(value, country)
    if canonical is None:
        raise InvalidIdentityError("that is not a valid phone number", hint=_HINT)
    return canonical


#: Readings of one search (see ``readings_remembered``); None outside one.
_READINGS: ContextVar[dict[tuple[str, str], str | None] | None] = ContextVar(
    "personvern_phone_readings", default=None
)


@contextmanager
def readings_remembered() -> Iterator[None]:
    """Within the block, each spelling is read once; the readings are forgotten after it.

    One search reads the subject's few numbers hundreds of times (every spelling asked
    for, every spelling checked, every value returned, in each dataset), and reading
    is phonenumbers' full parse. Kept for one search only, never across requests: the
    readings are the subject's numbers.
    """
    token = _READINGS.set({})
    try:
        yield
    finally:
        _READINGS.reset(token)


def canonical_or_none(stored: object, country: str) -> str | None:
    """The number in E.164 of a value as stored or typed, or None if it is no valid number."""
    if isinstance(stored, int) and not isinstance(stored, bool):
        stored = str(stored)
    if not isinstance(stored, str):
        return None
    readings = _READINGS.get()
    if readings is None:
        return _read(stored, country)
    key = (stored, country)
    if key not in readings:
        readings[key] = _read(stored, country)
    return readings[key]


def _read(stored: str, country: str) -> str | None:
    text = stored.translate(_BLANKS).strip()
    if not text or len(text) > _MAX_LENGTH or not _WRITTEN.fullmatch(text):
        return None
    start = text.lstrip("( ")
    if "+" in text and (text.count("+") > 1 or not start.startswith("+")):
        # A plus anywhere but before the country code is not a number someone wrote.
        return None
    number = _valid(text, country)
    if number is None and start.startswith("00"):
        # 00 is how most of the world dials abroad; phonenumbers reads it only for
        # regions whose international prefix it is, and for no region when none is given.
        number = _valid("+" + start[2:], country)
    return None if number is None else phonenumbers.format_number(number, _E164)


def stored_spellings(canonical: str, country: str) -> frozenset[str]:
    """The spellings a store may keep the number in, each read back as ``canonical``."""
    number = _valid(canonical, "")
    if number is None:
        return frozenset({canonical})
    candidates = _international(number) | _national(number)
    return frozenset(s for s in candidates if canonical_or_none(s, country) == canonical)


def text_needles(canonical: str, country: str) -> frozenset[str]:
    """The spellings people write the number in: international, and national as at home."""
    return stored_spellings(canonical, home_country(canonical)) | stored_spellings(
        canonical, country
    )


def home_country(canonical: str) -> str:
    """The region the number belongs to ("NO"), or "" if it is no valid number."""
    number = _valid(canonical, "")
    if number is None:
        return ""
    return phonenumbers.region_code_for_number(number) or ""


def _valid(text: str, country: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, country.upper() or None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _groupings(number: phonenumbers.PhoneNumber) -> set[str]:
    """The national significant number as written after a country code."""
    digits = phonenumbers.national_significant_number(number)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groupings = {digits, international.removeprefix(f"+{number.country_code}").strip()}
    if number.country_code == 47 and len(digits) == 8:
        # Norwegians write mobiles 3-2-3 and landlines 2-2-2-2, and both for either,
        # whatever phonenumbers' grouping for the series is.
        groupings |= {
            f"{digits[:3]} {digits[3:5]} {digits[5:]}",
            " ".join(digits[i : i + 2] for i in range(0, 8, 2)),
        }
    return groupings


def _international(number: phonenumbers.PhoneNumber) -> set[str]:
    code = number.country_code
    prefixes = [f"+{code}", f"+{code} ", f"00{code}", f"00{code} ", f"(+{code})", f"(+{code}) "]
    region = phonenumbers.region_code_for_number(number)
    trunk = phonenumbers.ndd_prefix_for_region(region, True) if region else None
    if trunk:
        # "+44 (0)7911 123456": the national prefix kept in parentheses (the UK's habit).
        prefixes += [f"+{code} ({trunk})", f"+{code} ({trunk}) ", f"+{code}({trunk})"]
    return {prefix + grouping for prefix in prefixes for grouping in _groupings(number)}


def _national(number: phonenumbers.PhoneNumber) -> set[str]:
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    forms = {national, "".join(ch for ch in national if ch.isdigit())}
    region = phonenumbers.region_code_for_number(number)
    trunk = phonenumbers.ndd_prefix_for_region(region, True) if region else None
    # With the national prefix and without ("7812 345678" as a British number): the
    # latter is also the part every other spelling contains, so a store's LIKE search
    # needs it alone rather than each prefixed spelling (personvern.connectors.sql).
    forms |= {prefix + grouping for prefix in {"", trunk or ""} for grouping in _groupings(number)}
    return forms
