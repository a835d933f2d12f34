"""Restriction of processing (Art. 18): how the data map says a dataset's records are restricted.

A restricted record is kept but not otherwise processed. personvern cannot stop a
system from using a record; the system can, when the record carries a mark it
honours. A dataset declares that mark as ``restriction: {field: restricted_at}``
(set to the time of restriction) or ``{field: is_restricted, mark: flag}`` (set to
true), and a restriction request sets it on the subject's records. A dataset
without one gets a manual step instead: a person restricts the records by hand.

The field must be one the dataset declares, and one whose value nobody needs: not
a key (the record is found and referenced by it), not an identity (the subject is
found by it), not free text (someone's words would be overwritten).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from personvern.domain.datamap import DataMap, RestrictionMark
from personvern.domain.findings import DocPath, Finding


def restriction_findings(datamap: DataMap) -> Iterator[Finding]:
    """Problems with the datasets' ``restriction`` declarations, located at the field named."""
    for si, system in enumerate(datamap.systems):
        for di, dataset in enumerate(system.datasets):
            restriction = dataset.restriction
            if restriction is None:
                continue
            path: DocPath = ("systems", si, "datasets", di, "restriction", "field")
            where = f"{system.key}.{dataset.name}"
            names = [f.name for f in dataset.fields]
            field = next((f for f in dataset.fields if f.name == restriction.field), None)
            if field is None:
                close = difflib.get_close_matches(restriction.field, names, n=1)
                yield Finding(
                    path,
                    f"restriction field '{restriction.field}' is not a field of {where}",
                    hint=f"did you mean '{close[0]}'?"
                    if close
                    else f"declare it under {where}'s fields, e.g. "
                    f"{{name: {restriction.field}, label: ...}}",
                )
                continue
            name = f"{where}.{field.name}"
            if field.primary_key or field.references:
                yield Finding(
                    path,
                    f"restriction field {name} is a key: setting it would break the record "
                    "or the records that refer to it",
                    hint="name a column of its own, e.g. restricted_at",
                )
            elif field.identity is not None:
                yield Finding(
                    path,
                    f"restriction field {name} holds the subject's {field.identity.value}: "
                    "setting it would lose how the subject is found",
                    hint="name a column of its own, e.g. restricted_at",
                )
            elif field.free_text:
                yield Finding(
                    path,
                    f"restriction field {name} is free text: setting it would overwrite "
                    "what someone wrote",
                    hint="name a timestamp or flag column of its own, e.g. restricted_at",
                )
            if not any(f.primary_key for f in dataset.fields):
                yield Finding(
                    path,
                    f"{where} has no primary_key, so requests never find its records "
                    "to restrict them",
                    hint="declare the dataset's primary_key, or drop the restriction",
                )


def restriction_value(restriction_mark: RestrictionMark | str, at: datetime) -> Any:
    """What the restriction field is set to: the time ``at``, or true for a flag."""
    if RestrictionMark(restriction_mark) is RestrictionMark.FLAG:
        return True
    return at


def is_restricted(value: Any, restriction_mark: RestrictionMark | str) -> bool:
    """Whether a record's current value of the restriction field already marks it restricted."""
    if value is None:
        return False
    if RestrictionMark(restriction_mark) is RestrictionMark.TIMESTAMP:
        return str(value).strip() != ""
    # Stores spell a flag many ways (1, "t", "true", True); anything else is not set.
    return str(value).strip().casefold() in {"1", "t", "true", "y", "yes"}
