"""Mentions are whole addresses and numbers, never a piece of someone else's."""

from __future__ import annotations

import pytest

from personvern.domain.identities.mentions import mention_pattern

NEEDLES = ["ola@firma.no", "+47 912 34 567", "912 34 567", "01017012345"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Skriv til ola@firma.no.", True),
        ("Fra: Ola@Firma.NO, i går", True),
        ("(ring +47 912 34 567)", True),
        ("fnr 01017012345 står her", True),
        ("kari.ola@firma.no", False),
        ("ola@firma.no.example", False),
        ("1912 34 5678", False),
        ("010170123456", False),
        ("ola-ola@firma.no", False),
        # Other atext before the address makes it another address.
        ("x!ola@firma.no", False),
        ("{ola@firma.no", False),
        ("o'ola@firma.no", False),
        ("#ola@firma.no", False),
        # ... but a URL's separators end what comes before it.
        ("/kontakt?epost=ola@firma.no&x=1", True),
        ("/send/ola@firma.no", True),
        ("a&ola@firma.no", True),
        # A number after such a character is still the number.
        ("tlf#912 34 567", True),
        ("*912 34 567", True),
    ],
)
def test_whole_mentions_only(text: str, found: bool) -> None:
    assert found == (mention_pattern(NEEDLES).search(text) is not None)


def test_redaction_replaces_the_longest_form_whole() -> None:
    text = "Ring +47 912 34 567 eller skriv til ola@firma.no, ikke kari.ola@firma.no."
    assert "Ring […] eller skriv til […], ikke kari.ola@firma.no." == mention_pattern(NEEDLES).sub(
        "[…]", text
    )


def test_no_needles_match_nothing() -> None:
    assert mention_pattern([]).search("anything") is None
