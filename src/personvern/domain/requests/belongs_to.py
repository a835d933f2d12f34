"""Persons who belong to another person: a business customer's contacts and designated employees.

A dataset of persons (each record a person: its ``primary_key`` is an ``identity``)
may say that its records belong to a person of another dataset, through a field
referencing that person::

    belongs_to: {field: customer_id, erased_with_it: true, shown_to_it: [name, job_title]}

Each of them stays a person in their own right: their own request finds everything
about them by their own identities. What the declaration changes is the request of
the person they belong to:

* **Erasure.** With ``erased_with_it: true`` the records go with that person, as
  their own erasure would take them (deleted, or their fields erased by the dataset's
  strategies; under a legal hold, kept), and so do the records that point at them (an
  employee's security card). Without it they are kept as another person's.
* **Access.** That person sees of them only their key, the ``field`` pointing back at
  them, and the fields in ``shown_to_it``; omitted, their names and job titles (fields
  whose category is ``user.name`` or ``user.job_title``), never their contact details,
  card numbers or other identifiers (Art. 15(4)). Of records pointing at them (their
  security cards) that person sees only the keys and references.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from personvern.domain.datamap import DataField, DataMap, Dataset
from personvern.domain.findings import DocPath, Finding, Severity
from personvern.domain.requests.subject_graph import MatchKind, SubjectWalk

#: What the person they belong to sees of them when ``shown_to_it`` is omitted: who
#: they are and what they do there, nothing to reach or identify them by.
DEFAULT_SHOWN_CATEGORIES = ("user.name", "user.job_title")


def is_person_dataset(dataset: Dataset) -> bool:
    """Whether each record of ``dataset`` is a person (its primary key is an identity)."""
    return any(f.primary_key and f.identity is not None for f in dataset.fields)


def shown_to_owner(dataset: Dataset) -> frozenset[str]:
    """The fields of a belonging person's record that the person they belong to may see."""
    belongs = dataset.belongs_to
    if belongs is None:
        return frozenset(f.name for f in dataset.fields)
    technical = {f.name for f in dataset.fields if f.primary_key} | {belongs.field}
    if belongs.shown_to_it is not None:
        return frozenset(technical | set(belongs.shown_to_it))
    return frozenset(technical | {f.name for f in dataset.fields if _default_shown(f)})


def technical_fields(dataset: Dataset) -> frozenset[str]:
    """The keys and references of a record: what is shown of a belonging person's other records."""
    return frozenset(f.name for f in dataset.fields if f.primary_key or f.references)


def partly_shown(datamap: DataMap, walk: SubjectWalk) -> dict[str, dict[Any, frozenset[str]]]:
    """Per dataset, the records of persons belonging to the subject, and the fields shown.

    The persons themselves show :func:`shown_to_owner`; the records reached through them
    (their security cards) only their keys and references.
    """
    declared = {
        f"{system.key}.{dataset.name}": dataset
        for system in datamap.systems
        for dataset in system.datasets
    }
    belonging = walk.belonging_people()
    shown: dict[str, dict[Any, frozenset[str]]] = {
        name: dict.fromkeys(keys, shown_to_owner(declared[name]))
        for name, keys in belonging.items()
    }
    if not belonging:
        return shown
    for node in walk.graph.nodes:
        fields = technical_fields(declared[node.name])
        for key, (values, match) in walk.records(node.name).items():
            if (
                match is MatchKind.REFERENCE
                and key not in shown.get(node.name, {})
                and walk.points_at(node, values, belonging)
            ):
                shown.setdefault(node.name, {})[key] = fields
    return shown


def _default_shown(field: DataField) -> bool:
    if field.identity is not None or field.free_text or field.category is None:
        return False
    return any(
        field.category == shown or field.category.startswith(f"{shown}.")
        for shown in DEFAULT_SHOWN_CATEGORIES
    )


def belongs_to_findings(datamap: DataMap) -> Iterator[Finding]:
    """Problems with the datasets' ``belongs_to`` declarations, each at its key."""
    datasets = {
        (system.key, dataset.name): dataset
        for system in datamap.systems
        for dataset in system.datasets
    }
    for si, system in enumerate(datamap.systems):
        for di, dataset in enumerate(system.datasets):
            if dataset.belongs_to is None:
                continue
            path: DocPath = ("systems", si, "datasets", di, "belongs_to")
            yield from _findings(system.key, dataset, path, datasets)


def _findings(
    system: str,
    dataset: Dataset,
    path: DocPath,
    datasets: Mapping[tuple[str, str], Dataset],
) -> Iterator[Finding]:
    belongs = dataset.belongs_to
    assert belongs is not None
    where = f"{system}.{dataset.name}"
    names = [f.name for f in dataset.fields]
    if not is_person_dataset(dataset):
        yield Finding(
            path,
            f"{where} declares belongs_to, but its records are not persons: its "
            "primary_key has no identity, so none of them could make their own request",
            hint="give the primary key an identity (e.g. identity: employee_id), "
            "or drop belongs_to",
        )
    field = next((f for f in dataset.fields if f.name == belongs.field), None)
    if field is None:
        close = difflib.get_close_matches(belongs.field, names, n=1)
        yield Finding(
            (*path, "field"),
            f"belongs_to field '{belongs.field}' is not a field of {where}",
            hint=f"did you mean '{close[0]}'?"
            if close
            else "name the field that references the person they belong to",
        )
    elif field.references is None:
        yield Finding(
            (*path, "field"),
            f"belongs_to field {where}.{field.name} references nothing: it must point at "
            "the person the records belong to",
            hint=f"add references: customers.id (the person's dataset and key) to {field.name}",
        )
    else:
        parts = field.references.split(".")
        target_key = (system, parts[0]) if len(parts) == 2 else (parts[0], parts[1])
        target = datasets.get(target_key)
        # A reference to a dataset that does not exist is reported by the reference check.
        if target is not None and not is_person_dataset(target):
            yield Finding(
                (*path, "field"),
                f"belongs_to field {where}.{field.name} references "
                f"{target_key[0]}.{target_key[1]}, whose records are not persons (its "
                "primary_key has no identity): nobody there can be erased or answered",
                hint="point belongs_to at the reference to the customer (or other person) "
                "the records belong to",
            )
    for index, name in enumerate(belongs.shown_to_it or ()):
        shown_path = (*path, "shown_to_it", index)
        shown = next((f for f in dataset.fields if f.name == name), None)
        if shown is None:
            close = difflib.get_close_matches(name, names, n=1)
            yield Finding(
                shown_path,
                f"shown_to_it field '{name}' is not a field of {where}",
                hint=f"did you mean '{close[0]}'?"
                if close
                else f"list fields {where} declares: {', '.join(names)}",
            )
        elif shown.identity is not None and not shown.primary_key:
            yield Finding(
                shown_path,
                f"shown_to_it shows {where}.{name} ({shown.identity.value}) to the person "
                "the records belong to: another person's contact details or identifiers, "
                "which Art. 15(4) asks to leave out unless that person needs them",
                hint="leave it out of shown_to_it unless the customer must see it",
                severity=Severity.WARNING,
            )
