"""The port every connector implements: find, hand over, erase and correct a subject's records.

The request engine decides *what* to do (which identities to look for, which rows to
erase and which the law keeps); a connector only knows *how* to do it in one kind of
store. Work is pushed down: ``locate`` answers one dataset's criteria with one query
(or one call), ``erase`` runs one set-based statement per dataset and change, inside
one transaction per system, and running it again changes nothing.

Values cross the port as plain Python values; keys are the dataset's primary key,
which the data map names (``primary_key: true``), as ``int`` or ``str``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

from personvern.domain.datamap import DataField, Dataset, ErasureStrategy, System
from personvern.domain.identities.email import (
    address_spellings,
    ascii_lower,
    canonical_email_or_none,
)
from personvern.errors import PersonvernError

#: A record's primary key value.
Key = int | str


class ConnectorError(PersonvernError):
    """A connector could not do what the engine asked."""

    http_status = 502
    title = "Connected system failed"


class ConnectorUnavailableError(ConnectorError):
    """The system cannot be reached now; the request waits and retries."""

    http_status = 503
    title = "Connected system unavailable"

    def __init__(self, system: str, reason: str) -> None:
        super().__init__(
            f"{system} cannot be reached: {reason}",
            hint="the request waits and is retried; the deadline keeps running",
        )
        self.system = system
        self.reason = reason


class ConnectorDataError(ConnectorError):
    """A record cannot be read as stored; retrying will not help, a person must fix it.

    The message names the system, the dataset and the keys of the records, never
    their values: those are personal data, and the message is kept on the request.
    """

    title = "Unreadable record in a connected system"

    def __init__(self, system: str, dataset: str | None, keys: Sequence[str], reason: str) -> None:
        where = f"{system}.{dataset}" if dataset else system
        if not keys:
            what = "a record cannot be read"
            fix = "find and fix or remove it"
        elif len(keys) == 1:
            what = f"the record with key {keys[0]} cannot be read"
            fix = "fix or remove the record"
        else:
            what = f"the records with keys {', '.join(keys)} cannot be read"
            fix = "fix or remove the records"
        super().__init__(f"{where}: {what} ({reason}); {fix}, then run the request again")
        self.system = system
        self.dataset = dataset
        self.keys = tuple(keys)
        self.reason = reason


class ConnectorNotConfiguredError(ConnectorError):
    """The data map names a connection variable that is not set."""

    http_status = 503
    title = "Connected system not configured"


class ConnectorResponseError(ConnectorError):
    """The system answered with something that breaks the contract (treated as hostile)."""


@dataclass(frozen=True)
class Criteria:
    """What to look for in one dataset; rows matching any part are returned.

    ``exact`` maps a field to values compared for equality; identity fields of kind
    e-mail are compared in the canonical form of personvern.domain.identities.email,
    whatever the store's own comparison. ``mentions`` maps a free-text field to needles
    found as whole mentions (see mention_pattern). ``exclude`` lists keys already found,
    so a later round of the same request returns only new rows.
    """

    exact: Mapping[str, frozenset[Key]] = field(default_factory=dict)
    mentions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exclude: frozenset[Key] = frozenset()

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


class Connector(Protocol):
    """One system of the data map, reachable for requests."""

    system: System

    def check(self) -> None:
        """Raise ConnectorUnavailableError if the system cannot be reached now."""
        ...

    def locate(self, dataset: str, criteria: Criteria) -> list[Record]:
        """Every record of ``dataset`` matching ``criteria``, in one pushed-down query."""
        ...

    def export_files(self, dataset: str, keys: Sequence[Key]) -> Iterator[ExportedFile]:
        """The files behind the given records (nothing for datasets without files)."""
        ...

    def erase(
        self, steps: Sequence[ErasureStep], pseudonymise: Pseudonymiser
    ) -> list[ErasureOutcome]:
        """Apply the steps in order (children first) in one transaction; idempotent."""
        ...

    def rectify(self, dataset: str, keys: Sequence[Key], changes: Mapping[str, Any]) -> int:
        """Set the given fields of the given records; returns how many records changed."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class FileInventory(Protocol):
    """A connector that can list a file dataset's files, to count those nobody owns."""

    def unattributed(self, dataset: str) -> int:
        """Files the dataset's pattern lists that its owner rule attributes to nobody."""
        ...

    def keys(self, dataset: str) -> list[Key]:
        """The key of every record of the dataset (for files owned by a column, the paths)."""
        ...


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector factory needs besides the system: where to put temporary files."""

    work_dir: Path
    environ: Mapping[str, str]


#: Combining marks in the blocks Latin, Greek and Cyrillic text uses: a mark right after
#: a mention makes it another word ("kari@x.no" + U+0301 is "kari@x.nó").
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"


#: URL-encoded characters that end what comes before a mention, as their plain forms do:
#: a blank, " & ( , / : ; < = > ? [ (``epost%3Dkari%40example.no``). Never %2B (+), %2E (.)
#: or %2D (-): those continue an address or a number.
_ENCODED_BOUNDARIES = "20|22|26|28|2C|2F|3A|3B|3C|3D|3E|3F|5B"


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
    variants = sorted(_variants(needles), key=lambda v: (-len(v), v))
    if not variants:
        return re.compile(r"(?!)")
    alternatives = "|".join(_needle_pattern(v) for v in variants)
    # Not preceded by a character that could continue an address or a number, and not
    # followed by one (a full stop ending the sentence is fine; ".no" continuing is not).
    # "=", "&", "?" and "/" end what comes before, so "?email=kari%40example.no&x=1" in
    # a logged URL mentions the address; so do some of them URL-encoded, as in a URL
    # inside a URL. The boundaries use Unicode's \w, so "ø" continues a word; only the
    # needles themselves are matched with ASCII-only case folding, in the scoped (?ai:...).
    before = rf"(?:(?<![\w.%+\-{_MARKS}])|(?<=%(?ai:{_ENCODED_BOUNDARIES})))"
    return re.compile(rf"{before}(?:{alternatives})(?![\w\-{_MARKS}])(?!\.\w)")


def mention_search_terms(needles: Iterable[str]) -> set[str]:
    """Lower-case substrings a store's search must look for to find every mention.

    For a store's ``lower(text) LIKE '%term%'`` and the like: each needle as it is
    written with A-Z lower-cased, and as Python's ``lower()`` gives it, for stores whose
    ``lower()`` folds every letter. Broader than mention_pattern, which confirms.
    """
    return {term for v in _variants(needles) for term in (ascii_lower(v), v.lower())}


def _variants(needles: Iterable[str]) -> set[str]:
    """Each needle in NFC and NFD, and an address also with its domain as an A-label."""
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


def declared_dataset(system: System, name: str) -> Dataset:
    """The dataset ``name`` of ``system`` as the data map declares it, or ConnectorError."""
    for dataset in system.datasets:
        if dataset.name == name:
            return dataset
    raise ConnectorError(f"{system.key}.{name} is not a dataset of the data map")


def primary_key_field(system: System, dataset: Dataset) -> DataField:
    """The field the data map marks ``primary_key``, or ConnectorError."""
    field_ = next((f for f in dataset.fields if f.primary_key), None)
    if field_ is None:
        raise ConnectorError(f"{system.key}.{dataset.name} declares no primary key field")
    return field_
