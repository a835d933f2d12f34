"""Mention keys: what personvern's mention index keeps of a text, and what a search asks it.

A free-text field is searched for the subject's needles (the written forms of their
e-mail address, phone number and national identity number: ``text_needles`` of each
identity module) with a substring search confirmed by mention_pattern. The mention
index (personvern.engine.mention_index) answers the same question without reading the
text: it keeps, per record, the *mention keys* of its text, keyed-hashed, and a search
asks for the keys of its needles. This module says what the keys are:

* an e-mail address mentioned as written (``Kari@Example.NO``, decomposed, with its
  domain as an A-label) or URL-encoded in a logged URL (``kari%40example.no``) has the
  key ``email:`` + its canonical form (personvern.domain.identities.email), the form
  every needle of the address reads as;
* a phone number or a national identity number (digits with blanks, hyphens, dots,
  parentheses and a leading ``+``: ``+47 971 55 337``, ``(+44) 7911 123456``,
  ``010170 12343``) has the key ``digits:`` + its digits. Digits, not E.164: a text
  does not say whose national spelling ``7911 123456`` is, and the needles of a
  British customer include it.

No false negatives, by construction: a text's keys are taken from *every* stretch of
it that mention_pattern could match as a whole mention (every start its ``BEFORE`` or
``BEFORE_ADDRESS`` allows, every end ``AFTER`` allows, shaped like an address or a
number), and a needle has a key only where each form mention_pattern finds it in is
such a stretch with that key (needle_mention_keys checks each form). A needle without
a key (a national identity number of a country without a rule, with letters in it)
makes needle_mention_keys answer None: that field is then searched by reading the
text, as without an index. Keys find more than mentions (``digits:97155337`` is also
in ``971-55-337``, and in ``+47 971 55 337`` the key of ``971 55 337`` is there too):
mention_pattern still confirms every record.

Change ``RULES`` whenever the keys a text or a needle gets change: an index built by
other rules is not used until it is built again.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

from personvern.domain.identities.email import canonical_email_or_none
from personvern.domain.identities.mentions import (
    AFTER,
    BEFORE,
    BEFORE_ADDRESS,
    mention_variants,
)

#: The version of the rules below; an index records it and is ignored under others.
RULES = "1"

EMAIL = "email:"
DIGITS = "digits:"

#: What a number needle is written with (phone spellings of every region, national ids).
_NUMBER_CHARS = frozenset("0123456789 ()+-.")
#: A whole stretch of the characters numbers are written with, holding a digit at least
#: (it starts where no such character is before it, and takes what it can: linear time).
_NUMBER_RUN = re.compile(r"(?<![0-9 ()+\-.])[ ()+\-.]*+[0-9][0-9 ()+\-.]*+")
_DIGIT_GROUP = re.compile(r"[0-9]+")
#: Digits in a number needle, and its length: every phone spelling of every region
#: with six digits or more (a Cook Islands "71 234" has five and is searched directly),
#: every Norwegian national identity number.
MIN_DIGITS = 6
MAX_DIGITS = 20
MAX_NUMBER_LENGTH = 40
#: Characters (not octets) an address's part may take in a text: 64 octets before the
#: @ and 255 after it (RFC 5321), decomposed (NFD) or percent-encoded, stay within these
#: (needle_key checks every form of a needle against them).
MAX_LOCAL_LENGTH = 256
MAX_DOMAIN_LENGTH = 1024

_NUMBER_START = re.compile(rf"{BEFORE}[0-9+(]")
_AFTER = re.compile(AFTER)
_ADDRESS_START = re.compile(BEFORE_ADDRESS)
_START = re.compile(BEFORE)
_AT = re.compile(r"@|%40")

#: ASCII an address's local part may hold (RFC 5322 atext and the dot), plain or
#: percent-encoded; an encoded local part is made of these too.
_LOCAL_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-."
)
#: ASCII a domain may hold, plain (letters, digits, hyphens, dots) or percent-encoded.
_DOMAIN_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.%")


def text_mention_keys(text: object) -> frozenset[str]:
    """The mention keys of a stored text: of every stretch that could be a whole mention."""
    if not isinstance(text, str) or not text:
        return frozenset()
    keys: set[str] = set()
    if "@" in text or "%40" in text:
        keys |= _address_keys(text)
    keys |= _number_keys(text)
    return frozenset(keys)


def needle_mention_keys(needles: Iterable[str]) -> frozenset[str] | None:
    """The keys whose records hold every mention of the needles, or None if some needle
    has none (then the text must be read to find it)."""
    keys: set[str] = set()
    for needle in needles:
        if not needle or not needle.strip():
            continue
        key = needle_key(needle)
        if key is None:
            return None
        keys.add(key)
    return frozenset(keys)


def needle_key(needle: str) -> str | None:
    """The one key of every form mention_pattern finds ``needle`` in, or None."""
    key = _key_of(needle)
    if key is None:
        return None
    for form in mention_variants([needle]):
        # Every form a text may hold the needle in must be a stretch text_mention_keys
        # reads, with the same key: in its own letters, and in A-Z of the other case.
        for written in {form, form.swapcase() if form.isascii() else form}:
            if not _readable(written) or _key_of(written) != key:
                return None
    return key


def _key_of(needle: str) -> str | None:
    if "@" in needle:
        canonical = canonical_email_or_none(needle)
        return None if canonical is None else EMAIL + canonical
    if "%40" in needle:
        canonical = canonical_email_or_none(unquote(needle))
        # Encoded, the whole needle is matched without regard to the case of A-Z, which
        # is the same address only for a local part in ASCII (as text_needles encodes).
        if canonical is None or not canonical.partition("@")[0].isascii():
            return None
        return EMAIL + canonical
    if _is_number(needle):
        return DIGITS + "".join(char for char in needle if char.isdigit())
    return None


def _readable(form: str) -> bool:
    """Whether the stretches text_mention_keys reads include ``form`` whole."""
    if "@" in form:
        local, _, domain = form.partition("@")
        return _readable_parts(local, domain, encoded=False)
    if "%40" in form:
        local, _, domain = form.partition("%40")
        return _readable_parts(local, domain, encoded=True)
    return _is_number(form)


def _readable_parts(local: str, domain: str, *, encoded: bool) -> bool:
    return (
        0 < len(local) <= MAX_LOCAL_LENGTH
        and 0 < len(domain) <= MAX_DOMAIN_LENGTH
        and all(_in_local(char) for char in local)
        and all(_in_domain(char, encoded=encoded) for char in domain)
        and not (encoded and ("%40" in local or "%40" in domain))
    )


def _is_number(text: str) -> bool:
    digits = sum(char.isdigit() for char in text)
    return (
        0 < len(text) <= MAX_NUMBER_LENGTH
        and set(text) <= _NUMBER_CHARS
        and text[0] in "0123456789+("
        and text[-1].isdigit()
        and MIN_DIGITS <= digits <= MAX_DIGITS
    )


def _in_local(char: str) -> bool:
    if char.isascii():
        return char in _LOCAL_ASCII
    return unicodedata.category(char)[0] not in "CZ"


def _in_domain(char: str, *, encoded: bool) -> bool:
    if char.isascii():
        return char in _DOMAIN_ASCII and (encoded or char != "%")
    return unicodedata.category(char)[0] not in "CZ"


def _number_keys(text: str) -> set[str]:
    """``digits:`` keys of every stretch of a number run that may be a whole mention."""
    keys: set[str] = set()
    for run in _NUMBER_RUN.finditer(text):
        low = run.start()
        stretch = run.group()
        # The run's digits, and how many come before each of its positions.
        digits = "".join(char for char in stretch if char.isdigit())
        if len(digits) < MIN_DIGITS:
            continue
        before = [0]
        for char in stretch:
            before.append(before[-1] + char.isdigit())
        starts = [m.start() for m in _NUMBER_START.finditer(text, low, run.end())]
        # A mention ends after a digit, and never before another digit: at the end of a
        # group of digits, where AFTER holds (seen in the whole text, past the run).
        ends = [
            low + group.end()
            for group in _DIGIT_GROUP.finditer(stretch)
            if _AFTER.match(text, low + group.end())
        ]
        for start in starts:
            first = bisect.bisect_right(ends, start)
            last = bisect.bisect_right(ends, start + MAX_NUMBER_LENGTH)
            for end in ends[first:last]:
                found = digits[before[start - low] : before[end - low]]
                if MIN_DIGITS <= len(found) <= MAX_DIGITS:
                    keys.add(DIGITS + found)
    return keys


def _address_keys(text: str) -> set[str]:
    """``email:`` keys of every stretch around an @ (or %40) that may be a whole mention."""
    keys: set[str] = set()
    for at in _AT.finditer(text):
        encoded = at.group() != "@"
        decode = unquote if encoded else str
        # The local part: back over the characters it may hold, to where it may begin
        # (never over another %40: a local part holds no @, encoded or not).
        left = at.start()
        while (
            left > 0
            and at.start() - left < MAX_LOCAL_LENGTH
            and _in_local(text[left - 1])
            and not (encoded and text[left - 3 : left] == "%40")
        ):
            left -= 1
        begins = _START if encoded else _ADDRESS_START
        starts = [
            m.start()
            for m in begins.finditer(text, left, at.start() - 1)
            if _local_part(decode(text[m.start() : at.start()]))
        ]
        if not starts:
            continue
        # The domain: on over the characters it may hold, to where it may end.
        right = at.end()
        limit = min(len(text), at.end() + MAX_DOMAIN_LENGTH)
        while (
            right < limit
            and _in_domain(text[right], encoded=encoded)
            and not (encoded and text[right : right + 3] == "%40")
        ):
            right += 1
        ends = [
            e
            for e in range(at.end() + 1, right + 1)
            if _AFTER.match(text, e) and _domain(decode(text[at.end() : e]))
        ]
        for start in starts:
            for end in ends:
                stretch = text[start:end]
                canonical = canonical_email_or_none(decode(stretch))
                if canonical is not None:
                    keys.add(EMAIL + canonical)
    return keys


def _local_part(local: str) -> bool:
    """Whether ``local`` can be the part before the @ of an address (with the shortest
    domain there is, so that no address whose local part it is fails the test)."""
    return canonical_email_or_none(f"{local}@a.b") is not None


def _domain(domain: str) -> bool:
    """Whether ``domain`` can be the part after the @ of an address."""
    return canonical_email_or_none(f"a@{domain}") is not None
