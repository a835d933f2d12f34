"""National identity numbers: checked by the controller's country's rule, compared compact.

The canonical form is the number without separators. Where personvern knows the
country's rule (Norway: fødselsnummer and D-number, 11 digits, two check digits),
a number must pass it; elsewhere any compact identifier is taken as it is.

Norwegians write the number ``DDMMYYNNNNN``, ``DDMMYY NNNNN`` or ``DDMMYY-NNNNN``:
stores are asked for all three, and texts are searched for all three. A number
stored as an integer has lost its leading zero (``1017012343``); it is padded back.

The rule is data (``RULES``), not code spread over the engine: Norway changes the
check digits of new numbers from 2032 (Skatteetaten's "nytt fødselsnummer"), and the
validator that accepts both the old and the new rule replaces ``is_valid`` here,
nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from stdnum.no import fodselsnummer

from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.identities.keys import OPAQUE

#: Separators people put in national identity numbers: blanks, dots and hyphens.
_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]")


@dataclass(frozen=True)
class NationalIdRule:
    """How one country's national identity numbers are checked and written."""

    #: How messages name the number.
    name: str
    hint: str
    #: Digits in a number.
    length: int
    #: Whether a compact number of ``length`` ASCII digits is a valid number.
    is_valid: Callable[[str], bool]
    #: Where people put a blank or a hyphen (after the birth date).
    split: int

    def spellings(self, compact: str) -> frozenset[str]:
        """The ways the number is written: compact, with a blank, with a hyphen."""
        head, tail = compact[: self.split], compact[self.split :]
        return frozenset({compact, f"{head} {tail}", f"{head}-{tail}"})


#: The countries whose rule personvern knows, by ISO 3166-1 alpha-2 code.
RULES: Mapping[str, NationalIdRule] = {
    "NO": NationalIdRule(
        name="Norwegian national identity number",
        hint="11 digits, fødselsnummer or D-number",
        length=11,
        # python-stdnum checks both check digits and the birth date, D- and H-numbers
        # included. Replace it here when the 2032 rule for new numbers is known.
        is_valid=fodselsnummer.is_valid,
        split=6,
    ),
}


def parse(value: str, country: str) -> str:
    """The compact number, or InvalidIdentityError if it breaks the country's rule."""
    rule = RULES.get(country.upper())
    canonical = canonical_or_none(value, country)
    if canonical is None:
        if rule is not None:
            raise InvalidIdentityError(f"that is not a valid {rule.name}", hint=rule.hint)
        raise InvalidIdentityError(
            "that is not a national identity number",
            hint="letters, digits and . : - / + = @ only, at most 200",
        )
    return canonical


def canonical_or_none(stored: object, country: str) -> str | None:
    """The compact number of a value as stored or typed, or None if it cannot be one."""
    rule = RULES.get(country.upper())
    if isinstance(stored, int) and not isinstance(stored, bool):
        text = str(stored).zfill(rule.length) if rule is not None and stored >= 0 else str(stored)
    elif isinstance(stored, str):
        text = stored
    else:
        return None
    compact = _SEPARATORS.sub("", text)
    if rule is None:
        return compact if OPAQUE.match(compact) else None
    if len(compact) != rule.length or not (compact.isascii() and compact.isdigit()):
        return None
    return compact if rule.is_valid(compact) else None


def stored_spellings(canonical: str, country: str) -> frozenset[str]:
    """The spellings a store may keep the number in (the country's, or the number alone)."""
    rule = RULES.get(country.upper())
    if rule is None or len(canonical) != rule.length:
        return frozenset({canonical})
    return rule.spellings(canonical)


def text_needles(canonical: str, country: str) -> frozenset[str]:
    """The spellings people write the number in."""
    return stored_spellings(canonical, country)


def home_country(canonical: str) -> str:
    """No country can be told from the number: it is compared compact, without a rule."""
    return ""
