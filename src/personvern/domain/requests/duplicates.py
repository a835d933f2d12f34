"""When two person records of one dataset are the same subject, kept twice.

A company keeps some people twice: a second customer record typed in capitals, an
address in other letter cases, the phone number in another spelling. Such records are
one subject, and a request about them is answered and carried out over both, with no
one asked to review it. Two records that merely share one identity (a family's shared
mailbox, a switchboard number two firms answer) are two people, and the request stops
for review as before.

Two records are the same subject when, read in canonical form
(personvern.domain.identities: e-mail case, phone spelling, national identity number
with a space):

* every identity value of one is among the other's (the record's own key aside: two
  records have two keys), and it carries at least one;
* no identity value on either cannot be read (an unreadable value may be anyone's);
* their names, where both carry one, are the same name in another case or spacing;
* and, unless their identity values are exactly the same, both carry a name and it
  agrees: a record holding less than the other must say whose it is.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from personvern.domain.datamap import IdentityKind

#: The canonical form of a stored value of a kind, or None when it cannot be read.
Canonical = Callable[[IdentityKind, Any], "str | None"]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def identity_values(
    identities: Mapping[str, IdentityKind],
    key_field: str,
    values: Mapping[str, Any],
    canonical: Canonical,
) -> frozenset[tuple[IdentityKind, str]] | None:
    """The record's identities in canonical form (its key aside), or None if one is unreadable."""
    found: set[tuple[IdentityKind, str]] = set()
    for name, kind in identities.items():
        value = values.get(name)
        if name == key_field or _blank(value):
            continue
        read = canonical(kind, value)
        if read is None:
            return None
        found.add((kind, read))
    return frozenset(found)


def same_name(first: Any, second: Any) -> bool:
    """Whether two stored names are one name, in another letter case or spacing."""
    return _name(first) == _name(second)


def _name(value: Any) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(value)).casefold().split())


def same_subject(
    identities: Mapping[str, IdentityKind],
    key_field: str,
    names: Sequence[str],
    first: Mapping[str, Any],
    second: Mapping[str, Any],
    canonical: Canonical,
) -> bool:
    """Whether two person records of one dataset are one subject kept twice (see module)."""
    ours = identity_values(identities, key_field, first, canonical)
    theirs = identity_values(identities, key_field, second, canonical)
    if not ours or not theirs or not (ours <= theirs or theirs <= ours):
        return False
    named = [n for n in names if not _blank(first.get(n)) and not _blank(second.get(n))]
    if any(not same_name(first[n], second[n]) for n in named):
        return False
    return ours == theirs or bool(named)
