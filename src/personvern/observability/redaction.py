"""Find and mask personal data and secrets in log text.

What is masked: e-mail addresses, phone numbers (as libphonenumber recognises them, in
Norway and in international form), Norwegian national identity numbers (11 digits with a
valid checksum, python-stdnum), personvern API tokens (``pv_...``), JWTs, bearer
credentials and download links. The mask names the kind (``[email]``), never the value,
so a log still says what happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import phonenumbers
from stdnum.no import fodselsnummer

#: Region for numbers written without a country code: personvern's home market.
PHONE_REGION = "NO"

_EMAIL = re.compile(r"[\w.!#$%&'*+=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# The user part of a URL (postgresql://user:***@host): a service account, shown with the
# password hidden; not an e-mail address.
_URL_USERINFO = re.compile(r"[A-Za-z][\w+.-]*://[^/@\s]*@")
_API_TOKEN = re.compile(r"\bpv_[A-Za-z0-9_-]{8,}")
_JWT = re.compile(r"\beyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\[credential\])[^\s,;\"']+")
_DOWNLOAD = re.compile(r"(/downloads/)(?!<link>)[^/?\s\"']+")
# 11 digits, or 6 + 5 with one space or dash, not inside a longer number.
_NATIONAL_ID = re.compile(r"(?<![\d])(\d{6})[ -]?(\d{5})(?![\d])")
# Cheap pre-check before the (slow) phone number matcher: 8 or more digits close together.
_MAYBE_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
# personvern's own identifiers and times: UUIDs (runs, jobs), hex ids of 16 or more
# characters with at least one letter (requests, records), ISO 8601 timestamps. Random
# hex holds 8 digits in a row often enough (a UUID in a hundred) to be read as a phone
# number, masking the very id a log line is about.
_IDENTIFIER = re.compile(
    r"(?<![\w-])(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
    r"|(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{16,})(?![\w-])"
    # ISO 8601 times: "17:57:46.437374" holds "46.437374", a valid Norwegian number.
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)


def _emails(text: str) -> Iterator[tuple[int, int]]:
    userinfo = [m.span() for m in _URL_USERINFO.finditer(text)]
    for match in _EMAIL.finditer(text):
        if not any(start <= match.start() < end for start, end in userinfo):
            yield match.span()


def _national_ids(text: str) -> Iterator[tuple[int, int]]:
    identifiers = _identifier_spans(text)
    for match in _NATIONAL_ID.finditer(text):
        if fodselsnummer.is_valid(match.group(1) + match.group(2)) and not _inside(
            match.span(), identifiers
        ):
            yield match.span()


def _phone_numbers(text: str) -> Iterator[tuple[int, int]]:
    if not _MAYBE_PHONE.search(text):
        return
    identifiers = _identifier_spans(text)
    matcher = phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, phonenumbers.Leniency.VALID)
    for match in matcher:
        if not _inside((match.start, match.end), identifiers):
            yield match.start, match.end


def _identifier_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _IDENTIFIER.finditer(text)]


def _inside(span: tuple[int, int], identifiers: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in identifiers)


def _spans(pattern: re.Pattern[str]) -> Callable[[str], Iterator[tuple[int, int]]]:
    def find(text: str) -> Iterator[tuple[int, int]]:
        for match in pattern.finditer(text):
            yield match.span()

    return find


#: (kind, finder), in the order they are applied: secrets first, so a token that happens
#: to contain digits is masked as a token, not as a phone number.
_FINDERS: tuple[tuple[str, Callable[[str], Iterator[tuple[int, int]]]], ...] = (
    ("jwt", _spans(_JWT)),
    ("api-token", _spans(_API_TOKEN)),
    ("email", _emails),
    ("national-id", _national_ids),
    ("phone", _phone_numbers),
)


def find_personal_data(text: str) -> set[str]:
    """The kinds of personal data and secrets in ``text`` (empty: none found)."""
    kinds = {kind for kind, find in _FINDERS if next(find(text), None) is not None}
    if _BEARER.search(text):
        kinds.add("bearer")
    if _DOWNLOAD.search(text):
        kinds.add("download-link")
    return kinds


def redact(text: str) -> str:
    """``text`` with every piece of personal data or secret replaced by ``[kind]``."""
    text = _BEARER.sub(r"\1[credential]", text)
    text = _DOWNLOAD.sub(r"\1<link>", text)
    for kind, find in _FINDERS:
        spans = list(find(text))
        for start, end in reversed(spans):
            text = text[:start] + f"[{kind}]" + text[end:]
    return text
