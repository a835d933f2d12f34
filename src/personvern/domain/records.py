"""What crosses the connector port: what to look for, the records found, what to erase.

Plain values, shared by the domain (which plans a request from the records found) and
every connector (personvern.connectors.port says what a connector does with them).
Keys are a dataset's primary key values, as the data map names them, ``int`` or ``str``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from personvern.domain.datamap import ErasureStrategy

#: A record's primary key value.
Key = int | str

#: What a masked text field holds after erasure (the same in every connector).
MASK = "***"


@dataclass(frozen=True)
class IndexedMentions:
    """Where a mention index says one free-text field's mentions of the needles are.

    Every record whose text mentions a needle is among ``keys`` (records whose text
    mentioned one when the index last read them) or has its ``marker`` field (the
    dataset's change marker) past ``after``, or empty. A connector may search only those
    records, or ignore this and search them all: the answer is the same.
    """

    keys: frozenset[Key]
    #: The field the index refreshes from (personvern.domain.change_marker).
    marker: str
    #: The index's high-water mark: records past it are read, not looked up.
    after: Any


@dataclass(frozen=True)
class Criteria:
    """What to look for in one dataset; rows matching any part are returned.

    ``exact`` maps a field to values compared for equality; identity fields of kind
    e-mail are compared in the canonical form of personvern.domain.identities.email,
    whatever the store's own comparison. ``mentions`` maps a free-text field to needles
    found as whole mentions (see mention_pattern). ``exclude`` lists keys already found,
    so a later round of the same request returns only new rows. ``indexed`` narrows the
    search of a ``mentions`` field to the records a mention index names (optional for
    a connector; see IndexedMentions).
    """

    exact: Mapping[str, frozenset[Key]] = field(default_factory=dict)
    mentions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exclude: frozenset[Key] = frozenset()
    indexed: Mapping[str, IndexedMentions] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.exact.values()) or any(self.mentions.values())


@dataclass(frozen=True)
class Record:
    """One row, document or file found about the subject."""

    key: Key
    #: The record's declared fields (never columns the data map does not declare).
    values: Mapping[str, Any]
    #: Fields whose value matched the criteria (exact or mention).
    matched_fields: frozenset[str] = frozenset()
    #: The only fields the subject may see, for a record about another person that the
    #: data map shows them in part (a business customer's contact); None: all of them.
    shown_fields: frozenset[str] | None = None


@dataclass(frozen=True)
class Redaction:
    """Mentions of the subject to blank out in one free-text field of the given records."""

    field: str
    keys: tuple[Key, ...]
    needles: tuple[str, ...]
    replacement: str = "[…]"


@dataclass(frozen=True)
class ErasureStep:
    """What to erase in one dataset: whole records, some fields, and mentions in text."""

    dataset: str
    delete: tuple[Key, ...] = ()
    #: Records kept but with these fields erased, each by its strategy (null/mask/pseudonymise).
    update: tuple[Key, ...] = ()
    update_fields: Mapping[str, ErasureStrategy] = field(default_factory=dict)
    redactions: tuple[Redaction, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.delete or (self.update and self.update_fields) or self.redactions)


@dataclass(frozen=True)
class ErasureOutcome:
    """What one step changed (0 everywhere when it had been done before)."""

    dataset: str
    deleted: int = 0
    updated: int = 0
    redacted: int = 0


@dataclass(frozen=True)
class ExportedFile:
    """One file handed over as it is (a call recording, a document)."""

    dataset: str
    key: Key
    name: str
    media_type: str
    size: int
    open: Callable[[], BinaryIO]


#: Turns (dataset, field, key) into a stable keyed pseudonym; given to connectors by the engine.
Pseudonymiser = Callable[[str, str, Key], str]


def erased_value(strategy: ErasureStrategy, current: Any, pseudonym: Callable[[], str]) -> Any:
    """The value a kept record's field holds once erased by ``strategy``.

    An empty field stays empty: a mask or a pseudonym would invent a value. ``delete``
    is no field's erasure (whole records are deleted by key), so it keeps the value.
    """
    if strategy in (ErasureStrategy.KEEP, ErasureStrategy.DELETE_ROW):
        return current
    if current is None or strategy is ErasureStrategy.SET_NULL:
        return None
    if strategy is ErasureStrategy.MASK:
        return MASK
    return pseudonym()
