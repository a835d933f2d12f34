"""Every kind of identity behind one interface: read it, spell it, and match a stored value.

Each kind has a module with the same functions (IdentityScheme): e-mail addresses
(personvern.domain.identities.email), phone numbers (phone), national identity numbers
(national_id), and every other kind an opaque key (keys). ``country`` is the
controller's (the first controller's ``country`` in the data map): the region a phone
number without a country code is read in, and the rule a national identity number is
checked by.

The walk over a subject's records (personvern.domain.requests.subject_graph) knows the
country: it learns found values by ``canonical_or_none`` and asks the stores for every
``stored_spellings`` of what it knows, each of which reads back as the identity. A
connector does not know the country; ``exact_lookup`` gives it, from what it was asked
for, the canonical identities wanted, the spellings to ask its store for, and the check
a returned value must pass (its canonical form, read as its own country writes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from personvern.domain.datamap import IdentityKind
from personvern.domain.identities import email, keys, national_id, phone


class IdentityScheme(Protocol):
    """How one kind of identity is read, written and compared (a module implements it)."""

    def parse(self, value: str, country: str) -> str:
        """The canonical form of a value someone typed, or InvalidIdentityError."""
        ...

    def canonical_or_none(self, stored: object, country: str) -> str | None:
        """The canonical form of a value as stored, or None; never raises."""
        ...

    def stored_spellings(self, canonical: str, country: str) -> frozenset[str]:
        """The spellings a store may keep the identity in, each read back as ``canonical``."""
        ...

    def text_needles(self, canonical: str, country: str) -> frozenset[str]:
        """The spellings people write the identity in, for mentions in free text."""
        ...

    def home_country(self, canonical: str) -> str:
        """The country whose national spellings the identity has ("" for none)."""
        ...


_SCHEMES: Mapping[IdentityKind, IdentityScheme] = {
    IdentityKind.EMAIL: email,
    IdentityKind.PHONE_NUMBER: phone,
    IdentityKind.NATIONAL_ID: national_id,
}
#: Kinds written in more than one way: compared by canonical form, asked for in every
#: spelling, and looked for in free text.
SPELLED = frozenset(_SCHEMES)


def scheme(kind: IdentityKind) -> IdentityScheme:
    """The module that reads, spells and compares identities of ``kind``."""
    return _SCHEMES.get(kind, keys)


@dataclass(frozen=True)
class ExactLookup:
    """One identity field's equality search, as a connector runs it without the country."""

    kind: IdentityKind
    #: The canonical identities asked for.
    wanted: frozenset[str]
    #: What to ask the store for: the spellings given, and those of ``wanted`` that read
    #: the same in every country.
    spellings: frozenset[str]
    #: The countries a returned value is read in: each wanted identity's own (a phone
    #: number's region), where its national spellings mean it.
    countries: frozenset[str] = frozenset({""})

    def matches(self, stored: object) -> bool:
        """Whether a value the store returned is, in canonical form, one of ``wanted``."""
        read = scheme(self.kind).canonical_or_none
        return any(read(stored, country) in self.wanted for country in self.countries)


def exact_lookup(kind: IdentityKind, given: Iterable[object]) -> ExactLookup:
    """The lookup of a field of ``kind`` for the values a walk asked for.

    The walk asks for canonical identities and their spellings; a spelling that only
    the controller's country reads (``971 55 337``) is passed on to the store as it is,
    and a returned value is read in the country of the identity it is compared with.
    """
    kinds = scheme(kind)
    values = [v for v in given if isinstance(v, str | int) and not isinstance(v, bool)]
    wanted = frozenset(c for v in values if (c := kinds.canonical_or_none(v, "")) is not None)
    spellings = {str(value) for value in values if str(value).strip()}
    for canonical in wanted:
        spellings |= kinds.stored_spellings(canonical, "")
    countries = frozenset(kinds.home_country(c) for c in wanted)
    return ExactLookup(kind, wanted, frozenset(spellings), countries)
