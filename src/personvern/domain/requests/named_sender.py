"""Free text that names its own sender: a web form's signature, an address in a logged URL.

A web-form ticket has no customer key; its sender signs it in the text ("Navn: …
E-post: …"). A page logged before sign-in keeps the address typed in its URL
(``?epost=kari%40example.no``). The data map marks such a free-text field
``names_sender: true``. A record found because that field mentions the subject is then
the subject's own record, not a mention of them in someone else's, when both hold:

* **it has no owner key**: none of its references and none of its identities (any
  kind but a browser's ``cookie_id``) holds a value. A record that says whose it is
  (a page viewed while another customer was signed in) stays that person's, whatever
  its text says;
* **its text names the subject first**: before the first mention of the subject
  there is no e-mail address (as written or URL-encoded) and no run of six digits or
  more (a phone number, a national identity number), and every other ``names_sender``
  field of the record names the subject first or no one. The sender signs first, so
  a form signed by one person that mentions another ("my neighbour, kari@example.no")
  is the signer's, and for the neighbour it stays a mention. A form whose text names
  someone else before the subject, or whose first name is not known to be the
  subject's, is a mention of the subject too: when in doubt, the record is not theirs.

Such a record is shown to the subject whole and erased like their other records
(deleted, or its fields erased by their strategies). It lends the search no
identities: the cookie of a browser someone borrowed to send a form is not theirs.
What counts as naming someone is deliberately broad (a date written 01.12.2025 is
eight digits): a false alarm leaves a record a mention, as it was without
``names_sender``; a missed name would hand one person's record to another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from personvern.domain.datamap import DataMap, IdentityKind
from personvern.domain.findings import DocPath, Finding

#: What may name a person in a text: an e-mail address's @ (also fullwidth, small,
#: URL-encoded once or twice, or as an HTML entity), or six digits or more written with
#: the blanks and signs people put in numbers ("+47 913 22 110", "010180 12345").
_NAMES_SOMEONE = re.compile(
    r"[@\uff20\ufe6b]|%(?:25)?40|&#0*64;|&#x0*40;|&commat;|\d(?:[\s\-./()+]{0,3}\d){5,}",
    re.IGNORECASE,
)
#: Identities that do not say whose a record is: a browser's cookie may be borrowed.
_NOT_AN_OWNER = frozenset({IdentityKind.COOKIE_ID})


def has_owner_key(
    values: Mapping[str, Any],
    references: Iterable[str],
    identities: Mapping[str, IdentityKind],
) -> bool:
    """Whether the record says whose it is: a reference or a person's identity holds a value."""
    people = (name for name, kind in identities.items() if kind not in _NOT_AN_OWNER)
    owners = [*references, *people]
    return any(values.get(name) not in (None, "") for name in owners)


def names_subject_first(text: object, subject: re.Pattern[str]) -> bool | None:
    """True if ``text`` names the subject before anyone else, False if not, None if no one.

    ``subject`` finds the subject's mentions (personvern.connectors.port.mention_pattern
    of the search's needles).
    """
    if not isinstance(text, str) or not text:
        return None
    first = subject.search(text)
    end = first.start() if first is not None else len(text)
    if _NAMES_SOMEONE.search(text, 0, end) is not None:
        return False
    return True if first is not None else None


def sent_by_subject(
    texts: Iterable[object],
    subject: re.Pattern[str],
) -> bool:
    """Whether the record's ``names_sender`` texts name the subject as their sender.

    At least one names the subject first, and none names anyone else first.
    """
    verdicts = [names_subject_first(text, subject) for text in texts]
    return True in verdicts and False not in verdicts


def named_sender_findings(datamap: DataMap) -> Iterator[Finding]:
    """Errors in ``names_sender`` declarations, located at the marker."""
    for si, system in enumerate(datamap.systems):
        for di, dataset in enumerate(system.datasets):
            where = f"{system.key}.{dataset.name}"
            people = next(
                (f for f in dataset.fields if f.primary_key and f.identity is not None), None
            )
            for fi, field in enumerate(dataset.fields):
                if not field.names_sender:
                    continue
                path: DocPath = ("systems", si, "datasets", di, "fields", fi, "names_sender")
                name = f"{where}.{field.name}"
                if not field.free_text:
                    yield Finding(
                        path,
                        f"field {name} is not free text, so it cannot name its sender: "
                        "names_sender applies to a free-text field (a form's message, a "
                        "logged URL)",
                        hint="mark the field free_text: true as well, or remove names_sender",
                    )
                if people is not None:
                    yield Finding(
                        path,
                        f"each record of {where} is a person (its key {people.name} is an "
                        f"identity), so the text of {field.name} cannot make it another "
                        "person's own",
                        hint="remove names_sender: the record's own identities say whose it is",
                    )
