"""Mentions of a person in free text: whole addresses and numbers, never a piece of another.

Every connector finds mentions the same way: its store's substring search finds
candidates (mention_search_terms), and mention_pattern confirms them and is what
redaction replaces. The rules are the domain's, so the subject graph can read a text
the way the connectors searched it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from personvern.domain.identities.email import (
    address_spellings,
    ascii_lower,
    canonical_email_or_none,
)

#: Combining marks in the blocks Latin, Greek and Cyrillic text uses: a mark right after
#: a mention makes it another word ("kari@x.no" + U+0301 is "kari@x.nó").
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"


#: URL-encoded characters that end what comes before a mention, as their plain forms do:
#: a blank, " & ( , / : ; < = > ? [ (``epost%3Dkari%40example.no``). Never %2B (+), %2E (.)
#: or %2D (-): those continue an address or a number.
_ENCODED_BOUNDARIES = "20|22|26|28|2C|2F|3A|3B|3C|3D|3E|3F|5B"


#: Where a mention may begin: not after a character that could continue an address or a
#: number. "=", "&", "?" and "/" end what comes before, so "?email=kari%40example.no&x=1"
#: in a logged URL mentions the address; so do some of them URL-encoded, as in a URL
#: inside a URL. The boundaries use Unicode's \w, so "ø" continues a word.
_ENCODED = rf"(?<=%(?ai:{_ENCODED_BOUNDARIES}))"
BEFORE = rf"(?:(?<![\w.%+\-{_MARKS}])|{_ENCODED})"
#: Before an address, the rest of RFC 5322's atext continues its local part too:
#: "x!ola@firma.no" and "{ola@firma.no" are other addresses than "ola@firma.no".
BEFORE_ADDRESS = rf"(?:(?<![\w.%+\-{_MARKS}!#$'*^`{{|}}~])|{_ENCODED})"
#: Where a mention may end: not before a character that continues it (a full stop
#: ending the sentence is fine; ".no" continuing is not).
AFTER = rf"(?![\w\-{_MARKS}])(?!\.\w)"


def mention_pattern(needles: Iterable[str]) -> re.Pattern[str]:
    """A pattern finding the needles as whole mentions, not inside others.

    A store's substring search (LIKE) finds ``ola@firma.no`` inside ``kari.ola@firma.no``
    and ``912 34 567`` inside a longer number; this is the check every connector applies
    to what its store returned, and the pattern redaction replaces.

    Case is ignored for the letters A to Z only (``Kari.Nordmann@Example.NO`` mentions
    kari.nordmann@example.no), never beyond: Unicode case-insensitive matching takes
    ``ſ`` for ``s`` and the Kelvin sign for ``k``, and would find another person's
    address. Like personvern.domain.identities.email, an address whose local part has
    letters outside ASCII matches only as written there; either Unicode composition of
    a needle (NFC or NFD) matches.
    """
    variants = sorted(mention_variants(needles), key=lambda v: (-len(v), v))
    if not variants:
        return re.compile(r"(?!)")
    # Whole mentions only (BEFORE, BEFORE_ADDRESS, AFTER); only the needles themselves
    # are matched with ASCII-only case folding, in the scoped (?ai:...).
    addresses = [v for v in variants if "@" in v]
    others = [v for v in variants if "@" not in v]
    groups = [
        f"{lead}(?:{'|'.join(_needle_pattern(v) for v in group)})"
        for lead, group in ((BEFORE_ADDRESS, addresses), (BEFORE, others))
        if group
    ]
    return re.compile(rf"(?:{'|'.join(groups)}){AFTER}")


def mention_search_terms(needles: Iterable[str]) -> set[str]:
    """Lower-case substrings a store's search must look for to find every mention.

    For a store's ``lower(text) LIKE '%term%'`` and the like: each needle as it is
    written with A-Z lower-cased, and as Python's ``lower()`` gives it, for stores whose
    ``lower()`` folds every letter. Broader than mention_pattern, which confirms.
    """
    return {term for v in mention_variants(needles) for term in (ascii_lower(v), v.lower())}


def mention_variants(needles: Iterable[str]) -> set[str]:
    """The forms mention_pattern finds each needle in (A-Z in any case besides).

    Each needle in NFC and NFD, and a canonical address also with its domain as an
    A-label (personvern.domain.identities.mention_keys reads the same forms).
    """
    variants: set[str] = set()
    for needle in needles:
        if not needle or not needle.strip():
            continue
        forms = {needle}
        if "@" in needle and canonical_email_or_none(needle) == needle:
            forms.update(address_spellings(needle))
        for form in list(forms):
            forms.add(unicodedata.normalize("NFC", form))
            forms.add(unicodedata.normalize("NFD", form))
        variants |= forms
    return variants


def _needle_pattern(needle: str) -> str:
    local, at, domain = needle.rpartition("@")
    if at and not local.isascii():
        # The local part exactly as written, case and all; the domain without case.
        return f"{re.escape(local)}(?ai:{re.escape(at + domain)})"
    return f"(?ai:{re.escape(needle)})"
