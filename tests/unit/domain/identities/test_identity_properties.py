"""Properties every identity module keeps, over arbitrary text and the spellings people type.

Each kind is reached through the registry (personvern.domain.identities.kinds), so a
kind added there is checked here too: reading never raises, intake raises only
InvalidIdentityError, and every spelling a store is asked for reads back as the
identity, as the connectors read it too.
"""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.no import fodselsnummer

from personvern.domain.datamap import IdentityKind
from personvern.domain.identities import national_id, phone
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.identities.kinds import SPELLED, exact_lookup, scheme

KINDS = list(IdentityKind)
#: The controller's country: known rules, unknown ones, none, and a code in lower case.
COUNTRIES = st.sampled_from(["NO", "GB", "SE", "US", "", "XX", "no"])
#: Values a store's driver may hand over for a field.
STORED = st.one_of(
    st.text(max_size=60),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
)
#: Characters phone numbers and national ids are typed with, and some that break them.
_TYPED = st.text(alphabet="0123456789 +()-./\u00a0\tabc#*０", max_size=30)


@pytest.mark.parametrize("kind", KINDS, ids=[k.value for k in KINDS])
@given(text=st.one_of(st.text(max_size=80), _TYPED), country=COUNTRIES)
def test_intake_raises_only_invalid_identity_and_agrees_with_reading(
    kind: IdentityKind, text: str, country: str
) -> None:
    kinds = scheme(kind)
    try:
        parsed = kinds.parse(text, country)
    except InvalidIdentityError:
        return
    assert parsed == kinds.canonical_or_none(text, country)


@pytest.mark.parametrize("kind", KINDS, ids=[k.value for k in KINDS])
@given(stored=st.one_of(STORED, _TYPED), country=COUNTRIES)
def test_reading_a_stored_value_never_raises_and_its_spellings_read_back(
    kind: IdentityKind, stored: object, country: str
) -> None:
    kinds = scheme(kind)
    canonical = kinds.canonical_or_none(stored, country)
    if canonical is None:
        return
    spellings = kinds.stored_spellings(canonical, country)
    assert canonical in spellings
    assert {canonical} == {kinds.canonical_or_none(s, country) for s in spellings}
    kinds.text_needles(canonical, country)


def _valid_phone(region: str, digits: str) -> str | None:
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


#: Norwegian numbers: mobiles (4, 9) and landlines (2, 3, 5, 6, 7), eight digits.
_NO_DIGITS = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("2345679"),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
)
_NO_PREFIX = st.sampled_from(["", "+47", "+47 ", "0047", "0047 ", "(+47) ", "(+47)", "47 "])
_NO_GROUPING = st.sampled_from(
    [
        lambda d: d,
        lambda d: f"{d[:3]} {d[3:5]} {d[5:]}",
        lambda d: " ".join(d[i : i + 2] for i in range(0, 8, 2)),
        lambda d: f"{d[:3]}-{d[3:5]}-{d[5:]}",
        lambda d: f"{d[:3]}.{d[3:5]}.{d[5:]}",
    ]
)


@given(digits=_NO_DIGITS, prefix=_NO_PREFIX, grouping=_NO_GROUPING, pad=st.sampled_from(["", " "]))
def test_a_norwegian_number_typed_any_common_way_reads_as_its_e164(
    digits: str, prefix: str, grouping: object, pad: str
) -> None:
    canonical = _valid_phone("NO", digits)
    assume(canonical is not None)
    assert callable(grouping)
    typed = f"{pad}{prefix}{grouping(digits)}{pad}"
    assert canonical == phone.canonical_or_none(typed, "NO")


#: British mobiles: 07 and nine digits.
_GB_DIGITS = st.text(alphabet="0123456789", min_size=9, max_size=9).map(lambda d: "7" + d)
_GB_SPELLING = st.sampled_from(
    [
        lambda d: f"0{d[:4]} {d[4:]}",
        lambda d: f"0{d}",
        lambda d: f"+44 {d[:4]} {d[4:]}",
        lambda d: f"+44 (0){d[:4]} {d[4:]}",
        lambda d: f"+44(0){d}",
        lambda d: f"0044 {d[:4]} {d[4:]}",
        lambda d: f"(+44) {d}",
    ]
)


@given(digits=_GB_DIGITS, spelling=_GB_SPELLING)
def test_a_british_number_typed_any_common_way_reads_as_its_e164(
    digits: str, spelling: object
) -> None:
    canonical = _valid_phone("GB", digits)
    assume(canonical is not None)
    assert callable(spelling)
    assert canonical == phone.canonical_or_none(spelling(digits), "GB")


@st.composite
def _fodselsnummer(draw: st.DrawFn) -> str:
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 40]))  # 40 more: a D-number
    month = draw(st.integers(1, 12))
    year = draw(st.integers(0, 99))
    individual = draw(st.integers(0, 499))
    base = f"{day:02d}{month:02d}{year:02d}{individual:03d}"
    k1 = (
        int(fodselsnummer.calc_check_digit1(base))
        if len(fodselsnummer.calc_check_digit1(base)) == 1
        else None
    )
    assume(k1 is not None)
    k2 = fodselsnummer.calc_check_digit2(f"{base}{k1}")
    assume(len(k2) == 1)
    number = f"{base}{k1}{k2}"
    assume(fodselsnummer.is_valid(number))
    return number


@given(number=_fodselsnummer(), separator=st.sampled_from(["", " ", "-", "  ", "."]))
def test_a_national_id_typed_with_a_separator_reads_as_its_eleven_digits(
    number: str, separator: str
) -> None:
    assert number == national_id.canonical_or_none(f"{number[:6]}{separator}{number[6:]}", "NO")
    assert {number} == {
        national_id.canonical_or_none(s, "NO") for s in national_id.text_needles(number, "NO")
    }


def _valid(kind: IdentityKind) -> st.SearchStrategy[str]:
    if kind is IdentityKind.PHONE_NUMBER:
        return _NO_DIGITS.map(lambda d: _valid_phone("NO", d) or "+4797155337")
    if kind is IdentityKind.NATIONAL_ID:
        return _fodselsnummer()
    return st.sampled_from(["kari.nordmann@example.no", "Ørjan@bø.no", "o'brien+tag@ex.co.uk"])


@pytest.mark.parametrize("kind", sorted(SPELLED), ids=[k.value for k in sorted(SPELLED)])
@given(data=st.data())
def test_a_connector_reads_the_walks_spellings_as_the_identity_without_the_country(
    kind: IdentityKind, data: st.DataObject
) -> None:
    canonical = data.draw(_valid(kind))
    kinds = scheme(kind)
    spellings = kinds.stored_spellings(canonical, "NO")

    lookup = exact_lookup(kind, spellings)

    assert (frozenset({canonical}), True) == (
        lookup.wanted,
        spellings <= lookup.spellings and all(lookup.matches(s) for s in spellings),
    )


@given(digits=_NO_DIGITS, other=_NO_DIGITS)
def test_a_connector_never_takes_another_number_for_the_subjects(digits: str, other: str) -> None:
    canonical, stranger = _valid_phone("NO", digits), _valid_phone("NO", other)
    assume(canonical is not None and stranger is not None and canonical != stranger)
    assert canonical is not None
    assert stranger is not None
    lookup = exact_lookup(IdentityKind.PHONE_NUMBER, phone.stored_spellings(canonical, "NO"))
    assert not any(lookup.matches(s) for s in phone.stored_spellings(stranger, "NO"))


_NUMBERS = st.one_of(
    _NO_DIGITS.map(lambda d: _valid_phone("NO", d)),
    _GB_DIGITS.map(lambda d: _valid_phone("GB", d)),
)


@given(canonical=_NUMBERS, country=COUNTRIES)
def test_text_needles_of_a_phone_read_back_in_its_home_country(
    canonical: str | None, country: str
) -> None:
    assume(canonical is not None)
    assert canonical is not None
    home = phone.home_country(canonical)
    needles = phone.text_needles(canonical, country)
    assert {canonical} == {phone.canonical_or_none(n, home) for n in needles}
