"""A mention of an address is that address: lookalike letters are not case differences."""

from __future__ import annotations

import pytest

from personvern.domain.identities.mentions import mention_pattern, mention_search_terms

LONG_S = "\u017f"  # ſ
KELVIN = "\u212a"  # K


@pytest.mark.parametrize(
    ("needle", "text", "found"),
    [
        # Case of A-Z is ignored, as people shout addresses in messages.
        ("kari.nordmann@example.no", "Write to Kari.Nordmann@Example.NO today", True),
        # Long s, both ways.
        (f"eivind.nil{LONG_S}en@x.no", "from eivind.nilsen@x.no", False),
        ("eivind.nilsen@x.no", f"from eivind.nil{LONG_S}en@x.no", False),
        ("eivind.nilsen@x.no", f"from EIVIND.NIL{LONG_S}EN@X.NO", False),
        (f"eivind.nil{LONG_S}en@x.no", f"from eivind.nil{LONG_S}en@X.NO", True),
        # The Kelvin sign and the letter K, both ways.
        ("kari@x.no", f"from {KELVIN}ari@x.no", False),
        ("kari@x.no", f"from {KELVIN}ARI@x.no", False),
        # Fullwidth and dotless letters.
        ("kari@x.no", "from \uff4b\uff41\uff52\uff49@x.no", False),
        ("kari@x.no", "from kar\u0131@x.no", False),
        ("kar\u0131@x.no", "from KARI@x.no", False),
        # Outside ASCII the local part is matched as written; the domain without case.
        ("Ørjan@x.no", "from ørjan@x.no", False),
        ("Ørjan@x.no", "from Ørjan@X.NO", True),
        ("Ørjan@x.no", "from ØRJAN@x.no", False),
        # Either composition of an accented letter.
        ("ren\u00e9@x.no", "from rene\u0301@x.no", True),
        ("rene\u0301@x.no", "from ren\u00e9@x.no", True),
        # A combining mark after the mention makes it another address.
        ("kari@x.no", "from kari@x.no\u0301 today", False),
        # An IDN domain, written as A-label in the text.
        ("kari@bø.no", "from kari@XN--B-5GA.no", True),
        # Norwegian letters continue a word on both sides.
        ("kari@x.no", "from økari@x.no", False),
        ("ola@firma.no", "ola@firma.noå", False),
        # Phone numbers and national ids are unaffected.
        ("912 34 567", "ring 912 34 567.", True),
        ("01017012343", "fnr 01017012343 står her", True),
    ],
)
def test_mentions_ignore_the_case_of_ascii_letters_only(
    needle: str, text: str, found: bool
) -> None:
    assert found == (mention_pattern([needle]).search(text) is not None)


def test_redaction_leaves_the_lookalike_address_alone() -> None:
    text = f"eivind.nil{LONG_S}en@x.no skrev om eivind.nilsen@x.no og EIVIND.NILSEN@x.no"
    assert f"eivind.nil{LONG_S}en@x.no skrev om […] og […]" == mention_pattern(
        ["eivind.nilsen@x.no"]
    ).sub("[…]", text)


@pytest.mark.parametrize(
    ("needle", "text"),
    [
        ("kari.nordmann@example.no", "Write to Kari.Nordmann@Example.NO today"),
        ("Ørjan@bø.no", "from Ørjan@xn--b-5ga.NO"),
        ("ren\u00e9@x.no", "from rene\u0301@X.NO"),
    ],
)
def test_search_terms_find_every_mention_the_pattern_confirms(needle: str, text: str) -> None:
    # For a store's lower(text) LIKE '%term%': ASCII-only and Unicode lower() alike.
    assert mention_pattern([needle]).search(text)
    for lower in (str.lower, lambda t: "".join(c.lower() if c.isascii() else c for c in t)):
        assert any(term in lower(text) for term in mention_search_terms([needle]))
