"""Customer numbers, employee and prospect numbers, cookie and account ids: opaque keys.

A key has one spelling: the value as stored, surrounding blanks left off (CHAR
columns pad). It is compared exactly, never case-folded: ``C-10042`` and ``c-10042``
may be two customers. Keys are too short or too opaque to look for in free text ("42"
would match every ticket that mentions a price), so they have no text needles.

Intake accepts letters, digits and ``. : - / + = @`` only, at most 200 characters;
a value read from a store is taken as it is, since a store's own keys (a cookie id
with ``%``, a number) are whatever that store made them.
"""

from __future__ import annotations

import re

from personvern.domain.identities.errors import InvalidIdentityError

#: What intake accepts as an identifier someone types.
OPAQUE = re.compile(r"^[\w.:\-/+=@]{1,200}$")
_HINT = "letters, digits and . : - / + = @ only, at most 200"


def parse(value: str, country: str = "", *, what: str = "the identifier") -> str:
    """The key as typed, trimmed, or InvalidIdentityError; ``what`` names it in the message."""
    key = value.strip()
    if not key:
        raise InvalidIdentityError(f"{what} is empty")
    if not OPAQUE.match(key):
        raise InvalidIdentityError(f"{what} contains characters no identifier has", hint=_HINT)
    return key


def canonical_or_none(stored: object, country: str = "") -> str | None:
    """A key read from a store, as text without surrounding blanks; None for no key."""
    if stored is None or isinstance(stored, bool | bytes | dict | list | tuple | set):
        return None
    text = str(stored).strip()
    return text or None


def stored_spellings(canonical: str, country: str = "") -> frozenset[str]:
    """The one spelling a key has."""
    return frozenset({canonical})


def text_needles(canonical: str, country: str = "") -> frozenset[str]:
    """None: keys are not looked for in free text."""
    return frozenset()


def home_country(canonical: str) -> str:
    """No country: a key is read the same everywhere."""
    return ""
