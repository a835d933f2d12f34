"""Mention keys: what the mention index keeps of a text finds every mention a search finds.

The search that counts is the connectors': a substring search whose rows mention_pattern
confirms (``_mentions`` in personvern.connectors.sql). Whatever it finds, the index
must find too, for texts holding addresses and numbers in every spelling people use,
mixed with what surrounds them in tickets, forms and logged URLs.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import phonenumbers
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from stdnum.no import fodselsnummer

from personvern.domain.identities import email, national_id, phone
from personvern.domain.identities.mention_keys import (
    DIGITS,
    EMAIL,
    needle_key,
    needle_mention_keys,
    text_mention_keys,
)
from personvern.domain.identities.mentions import mention_pattern

# -- examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Skriv til Kari.Nordmann@Example.NO i dag", "email:kari.nordmann@example.no"),
        ("Fra: kari@xn--b-5ga.no.", "email:kari@bø.no"),
        ("Fra: kari@bo\u0308.no", "email:kari@bö.no"),
        ("/kontakt?epost=kari%40example.no&x=1", "email:kari@example.no"),
        ("GET /s?q=KARI%2Bx%40EXAMPLE.NO HTTP/1.1", "email:kari+x@example.no"),
        ("u=%3Dkari%40b%C3%B8.no", "email:kari@bø.no"),
        ("Ring +47 971 55 337 (mobil)", "digits:4797155337"),
        ("Ring +47 971 55 337 (mobil)", "digits:97155337"),
        ("tlf:97155337.", "digits:97155337"),
        ("(+44) 7911 123456", "digits:447911123456"),
        ("+44 (0)7911 123456", "digits:4407911123456"),
        ("tel%3D97155337", "digits:97155337"),
        ("fnr 010170-12343, født", "digits:01017012343"),
    ],
)
def test_a_text_holds_the_keys_of_its_mentions(text: str, key: str) -> None:
    assert key in text_mention_keys(text)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # Another address, not hers: atext before the local part continues it.
        ("x!ola@firma.no", "email:ola@firma.no"),
        ("ola@firma.no.example", "email:ola@firma.no"),
        # A longer number is another number.
        ("1912 34 5678", "digits:91234567"),
        ("010170123456", "digits:01017012345"),
    ],
)
def test_a_piece_of_another_mention_has_no_key(text: str, key: str) -> None:
    assert key not in text_mention_keys(text)
    # ... as mention_pattern does not find it either.
    needle = {"email:ola@firma.no": "ola@firma.no"}.get(key, "")
    if needle:
        assert mention_pattern([needle]).search(text) is None


def test_texts_without_mentions_and_values_that_are_not_text_have_no_keys() -> None:
    assert frozenset() == text_mention_keys("Ringte om faktura 42, se sak 2024, Storgata 1")
    assert frozenset() == text_mention_keys(None)
    assert frozenset() == text_mention_keys(12345678)


def test_every_needle_a_walk_sends_has_a_key() -> None:
    needles = (
        email.text_needles("kari+x@bø.no", "NO")
        | email.text_needles("ørjan@example.no", "NO")
        | phone.text_needles("+4797155337", "NO")
        | phone.text_needles("+447911123456", "NO")
        | phone.text_needles("+12015550123", "NO")
        | national_id.text_needles("01017012343", "NO")
    )
    keys = needle_mention_keys(n for n in needles if len(n) >= 6)
    assert keys is not None
    assert {
        "email:kari+x@bø.no",
        "email:ørjan@example.no",
        "digits:4797155337",
        "digits:97155337",
        "digits:004797155337",
        "digits:7911123456",
        "digits:07911123456",
        "digits:01017012343",
    } <= keys


def test_a_needle_the_index_cannot_find_makes_the_field_searched_by_its_text() -> None:
    # A national identity number of a country without a rule is any identifier.
    assert needle_mention_keys(national_id.text_needles("QQ123456C", "GB")) is None
    assert needle_key("hello world") is None
    # Five digits: shorter than any number the index keeps.
    assert needle_key("71 234") is None
    # Encoded, a local part outside ASCII would be matched without regard to case.
    assert needle_key("%C3%98rjan%40example.no") is None


# -- properties --------------------------------------------------------------------

#: Pieces of local parts: ASCII atext, the URL separators, letters outside ASCII
#: composed and decomposed.
_LOCAL_PIECES = [*"abcxyzKARI019._-+=&/?'", "ø", "é", "e\u0301", "Å"]
_LOCALS = st.lists(st.sampled_from(_LOCAL_PIECES), min_size=1, max_size=12).map("".join)
_DOMAINS = st.sampled_from(["example.no", "firma.co.uk", "bø.no", "sub.ex-ample.com", "x.io"])


@st.composite
def _addresses(draw: st.DrawFn) -> str:
    canonical = email.canonical_email_or_none(f"{draw(_LOCALS)}@{draw(_DOMAINS)}")
    assume(canonical is not None)
    assert canonical is not None
    return canonical


def _valid_phone(region: str, digits: str) -> str | None:
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_REGIONS = {"NO": (8, "2345679"), "GB": (10, "7"), "SE": (9, "7"), "US": (10, "2345678")}


@st.composite
def _phones(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(sorted(_REGIONS)))
    length, firsts = _REGIONS[region]
    digits = draw(st.sampled_from(firsts)) + draw(
        st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1)
    )
    canonical = _valid_phone(region, digits)
    assume(canonical is not None)
    assert canonical is not None
    return canonical


@st.composite
def _fodselsnummer(draw: st.DrawFn) -> str:
    base = (
        f"{draw(st.integers(1, 28)):02d}{draw(st.integers(1, 12)):02d}"
        f"{draw(st.integers(0, 99)):02d}{draw(st.integers(0, 499)):03d}"
    )
    k1 = fodselsnummer.calc_check_digit1(base)
    assume(len(k1) == 1)
    k2 = fodselsnummer.calc_check_digit2(base + k1)
    assume(len(k2) == 1)
    assume(fodselsnummer.is_valid(base + k1 + k2))
    return base + k1 + k2


#: (kind, canonical) of identities a subject may have.
_IDENTITIES = st.one_of(
    st.tuples(st.just("email"), _addresses()),
    st.tuples(st.just("phone"), _phones()),
    st.tuples(st.just("national_id"), _fodselsnummer()),
)
_MODULES = {"email": email, "phone": phone, "national_id": national_id}


def _needles(kind: str, canonical: str) -> set[str]:
    """The needles a walk sends for the identity (subject_graph.SubjectWalk.needles)."""
    return {n for n in _MODULES[kind].text_needles(canonical, "NO") if len(n) >= 6}


def _case(text: str, flips: list[bool]) -> str:
    """``text`` with the A-Z letters flipped where ``flips`` says (case people type)."""
    out = []
    for i, char in enumerate(text):
        flip = flips[i % len(flips)] if flips else False
        out.append(char.swapcase() if flip and char.isascii() and char.isalpha() else char)
    return "".join(out)


#: What surrounds mentions: words, punctuation, digits, URL pieces, marks, @ and %.
_FILLER = st.lists(
    st.sampled_from(
        [*"abc XYZ æøå 0123456789 .,;:!?()[]<>\"'=&/+-_#*%@~\n\t", "%20", "%3D", "%40", "\u0301"]
    ),
    max_size=12,
).map("".join)


@st.composite
def _written(draw: st.DrawFn, kind: str, canonical: str) -> str:
    """The identity as someone wrote it: a needle, or another spelling, in any case."""
    forms = sorted(_needles(kind, canonical))
    if kind == "email":
        local, _, domain = canonical.rpartition("@")
        forms += [unicodedata.normalize("NFD", canonical), f"{quote(local, safe='')}%40{domain}"]
    elif kind == "phone":
        number = phonenumbers.parse(canonical)
        forms += [
            phonenumbers.format_number(number, fmt)
            for fmt in (
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.NATIONAL,
                phonenumbers.PhoneNumberFormat.RFC3966,
            )
        ]
    written = draw(st.sampled_from(forms))
    return _case(written, draw(st.lists(st.booleans(), max_size=8)))


@st.composite
def _texts(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """A text mentioning some identities in some spellings, and those identities."""
    identities = draw(st.lists(_IDENTITIES, min_size=1, max_size=3))
    parts = [draw(_FILLER)]
    for kind, canonical in identities:
        for _ in range(draw(st.integers(0, 2))):
            parts += [draw(_written(kind, canonical)), draw(_FILLER)]
    return "".join(parts), identities


@settings(max_examples=400, deadline=None)
@given(_texts())
@example(("Mail: KARI@Example.no, tlf 971 55 337.", [("email", "kari@example.no")]))
@example(("?e=kari%2Bx%40example.no&", [("email", "kari+x@example.no")]))
def test_whatever_the_search_finds_the_index_finds(
    case: tuple[str, list[tuple[str, str]]],
) -> None:
    text, identities = case
    keys = text_mention_keys(text)
    for kind, canonical in identities:
        needles = _needles(kind, canonical)
        wanted = needle_mention_keys(needles)
        assert wanted is not None, (kind, canonical)
        for needle in needles:
            if mention_pattern([needle]).search(text) is not None:
                assert needle_key(needle) in keys, (needle, text)
        if mention_pattern(needles).search(text) is not None:
            assert wanted & keys, (canonical, text)


#: Texts made of the characters mentions are made of, for the boundaries' corner cases.
_NEAR = st.lists(st.sampled_from([*"9715 53+()-.@%40k=&/x\u0301", "ø", "47"]), max_size=40).map(
    "".join
)


@settings(max_examples=400, deadline=None)
@given(_NEAR, _IDENTITIES)
def test_no_false_negative_in_texts_of_mention_characters(
    text: str, identity: tuple[str, str]
) -> None:
    kind, canonical = identity
    written = sorted(_needles(kind, canonical))[0]
    text = text[: len(text) // 2] + written + text[len(text) // 2 :]
    keys = text_mention_keys(text)
    for needle in _needles(kind, canonical):
        if mention_pattern([needle]).search(text) is not None:
            assert needle_key(needle) in keys, (needle, text)


@given(st.text(max_size=200))
def test_any_text_is_read_without_error_and_its_keys_are_keys(text: str) -> None:
    for key in text_mention_keys(text):
        assert key.startswith((EMAIL, DIGITS))
        if key.startswith(EMAIL):
            canonical = key.removeprefix(EMAIL)
            assert canonical == email.canonical_email_or_none(canonical)
        else:
            assert key.removeprefix(DIGITS).isdigit()
