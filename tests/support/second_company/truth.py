"""What every request on the second test company must do, from the generator's own knowledge.

The generator recorded, row by row as it wrote them, which records are each subject's
and which only mention them (:class:`~.generator.Claim`). Nothing here reads a
database or mimics the engine: the expectations are the claims, arranged per request:

* **access**: per dataset, the keys of every record the subject owns or is mentioned in,
  and the files the export hands over;
* **erasure**: per dataset, the keys to delete, the keys whose personal fields are
  erased (with each field's value afterwards, by the data map's strategies), the keys
  whose mentions of the subject are redacted (with each text afterwards), and the keys
  kept, with why; the files deleted; and every row and file as it must remain;
* **review**: a subject whose own row cannot be read must stop for review, naming the
  row, and change nothing;
* **needs**: per aspect of a request, the features of issue 7 the expectation depends on
  (the union of what its claims need), which the tests turn into strict xfails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tests.support.second_company.datamap import (
    email_fields,
    erasure_strategies,
    primary_keys,
)
from tests.support.second_company.generator import (
    ID_DOCUMENTS,
    RECORDINGS,
    Claim,
    Feature,
    SecondCompany,
    Subject,
    Treatment,
)

#: What a masked text field holds after erasure (the connectors' documented mask).
MASK = "***"
#: What a masked e-mail field holds: an address that can never receive mail (RFC 6761).
MASKED_EMAIL = "erased@invalid.example"
#: The file datasets and the store (system) holding their files.
FILE_DATASETS = {RECORDINGS: "opptak", ID_DOCUMENTS: "id_dokumenter"}


class Pseudonym:
    """Stands for a keyed pseudonym: any value that is neither empty nor the original."""

    def __repr__(self) -> str:
        return "<pseudonym>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pseudonym)

    def __hash__(self) -> int:
        return hash(Pseudonym)


PSEUDONYM = Pseudonym()


class Aspect(StrEnum):
    """One of the four things the tests check of a subject."""

    ACCESS_PLAN = "access plan"
    ACCESS_RUN = "access run"
    ERASURE_PLAN = "erasure plan"
    ERASURE_RUN = "erasure run"


Keys = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Expectation:
    """Everything a subject's access and erasure requests must do."""

    subject: Subject
    #: Per "system.dataset": keys of the records the access answer holds.
    access: Keys
    #: Paths in the export zip of the files handed over (files/<system>/<name>).
    exported_files: frozenset[str]
    delete: Keys
    #: Per dataset, per key: each erased field's value afterwards.
    erase: Mapping[str, Mapping[str, Mapping[str, Any]]]
    #: Per dataset, per key: each redacted text field afterwards.
    redact: Mapping[str, Mapping[str, Mapping[str, str]]]
    #: Per dataset, per key: why the record is kept.
    keep: Mapping[str, Mapping[str, str]]
    #: Per file store: paths of the files an erasure deletes.
    deleted_files: Mapping[str, frozenset[str]]
    #: The start of the message a request must stop for review with, if it must.
    review: str | None
    needs: Mapping[Aspect, frozenset[Feature]]

    @property
    def name(self) -> str:
        """The subject's name (the test id)."""
        return self.subject.name

    def erased(self) -> dict[str, dict[str, frozenset[str]]]:
        """Per dataset, the keys in each of the plan's parts, as an erasure plan names them."""
        names = set(self.delete) | set(self.erase) | set(self.redact) | set(self.keep)
        return {
            name: {
                "delete": self.delete.get(name, frozenset()),
                "erase_fields": frozenset(self.erase.get(name, {})),
                "redact": frozenset(self.redact.get(name, {})),
                "keep": frozenset(self.keep.get(name, {})),
            }
            for name in sorted(names)
        }


def _merged(claims: tuple[Claim, ...]) -> dict[tuple[str, str], Claim]:
    """One claim per record: the subject's own claim wins over a mention of them."""
    merged: dict[tuple[str, str], Claim] = {}
    for claim in claims:
        place = (claim.dataset, claim.key)
        if place not in merged or (claim.is_own and not merged[place].is_own):
            merged[place] = claim
    return merged


def _after_erasure(dataset: str, row: Mapping[str, Any]) -> dict[str, Any]:
    strategies = erasure_strategies(dataset) or {}
    emails = email_fields(dataset)
    after: dict[str, Any] = {}
    for name, strategy in strategies.items():
        if strategy == "null" or row[name] is None:
            # An empty field stays empty: a mask or pseudonym would invent a value.
            after[name] = None
        elif strategy == "mask":
            after[name] = MASKED_EMAIL if name in emails else MASK
        else:
            after[name] = PSEUDONYM
    return after


def expectation(company: SecondCompany, subject: Subject) -> Expectation:
    """The expectations of one subject's requests."""
    claims = _merged(subject.claims)
    access: dict[str, set[str]] = defaultdict(set)
    delete: dict[str, set[str]] = defaultdict(set)
    erase: dict[str, dict[str, Mapping[str, Any]]] = defaultdict(dict)
    redact: dict[str, dict[str, Mapping[str, str]]] = defaultdict(dict)
    keep: dict[str, dict[str, str]] = defaultdict(dict)
    deleted_files: dict[str, set[str]] = defaultdict(set)
    exported: set[str] = set()
    for (dataset, key), claim in claims.items():
        access[dataset].add(key)
        if claim.export_path:
            exported.add(claim.export_path)
        if claim.erasure is Treatment.DELETE:
            delete[dataset].add(key)
            if claim.stored_at:
                deleted_files[FILE_DATASETS[dataset]].add(claim.stored_at)
        elif claim.erasure is Treatment.ERASE_FIELDS:
            erase[dataset][key] = _after_erasure(dataset, company.row(dataset, key))
        elif claim.erasure is Treatment.REDACT:
            redact[dataset][key] = dict(claim.redacted)
        else:
            keep[dataset][key] = claim.keep_reason or ""
    found = frozenset().union(*(c.find for c in claims.values()))
    acted = frozenset().union(*(c.act for c in claims.values()))
    if subject.review is not None:
        # The request stops before it plans anything: nothing but the row matters.
        found = acted = frozenset()
    plan = subject.request_needs | found
    needs = {
        Aspect.ACCESS_PLAN: plan,
        Aspect.ACCESS_RUN: plan | subject.run_needs,
        Aspect.ERASURE_PLAN: plan | acted,
        Aspect.ERASURE_RUN: plan | acted | subject.run_needs,
    }
    return Expectation(
        subject=subject,
        access={name: frozenset(keys) for name, keys in sorted(access.items())},
        exported_files=frozenset(exported),
        delete={name: frozenset(keys) for name, keys in sorted(delete.items())},
        erase=dict(erase),
        redact=dict(redact),
        keep=dict(keep),
        deleted_files={store: frozenset(paths) for store, paths in deleted_files.items()},
        review=subject.review.message if subject.review else None,
        needs=needs,
    )


def expectations(company: SecondCompany) -> tuple[Expectation, ...]:
    """The expectations of every subject, in the generator's order."""
    return tuple(expectation(company, subject) for subject in company.subjects)


def remaining_rows(
    company: SecondCompany, erased: Expectation | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every row of every table as it must be after ``erased``'s erasure (None: untouched).

    A row whose text cannot be decoded is given by its key alone, as the tests read it.
    """
    unreadable = {(bad.dataset, str(bad.key)) for bad in company.unreadable}
    keys = primary_keys()
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for dataset, rows in company.rows.items():
        column = keys[dataset]
        table: dict[str, dict[str, Any]] = {}
        for row in rows:
            key = str(row[column])
            if erased is not None and key in erased.delete.get(dataset, frozenset()):
                continue
            after = dict(row)
            if erased is not None:
                after.update(erased.erase.get(dataset, {}).get(key, {}))
                after.update(erased.redact.get(dataset, {}).get(key, {}))
            table[key] = {column: row[column]} if (dataset, key) in unreadable else after
        tables[dataset] = table
    return tables


def remaining_files(
    company: SecondCompany, erased: Expectation | None = None
) -> dict[str, frozenset[str]]:
    """The paths of every file store's files after ``erased``'s erasure (None: untouched)."""
    gone = erased.deleted_files if erased is not None else {}
    return {
        store: frozenset(set(files) - gone.get(store, frozenset()))
        for store, files in company.files.items()
    }
