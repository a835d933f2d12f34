"""Turn a Fides dataset file into personvern systems, so Fides users can bring their maps.

Fides datasets describe collections and fields with data categories, identities and
references, but not purposes (Fides keeps data uses on systems). The import therefore
leaves ``purposes`` empty and ``personvern check`` lists what remains to be filled in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from personvern.datamap.errors import DataMapError
from personvern.datamap.source import YamlProblemError, read_yaml
from personvern.domain.datamap import IdentityKind, SystemKind


class _Loose(BaseModel):
    # Fides files carry many keys personvern does not use; they are ignored, not errors.
    model_config = ConfigDict(extra="ignore")


class FidesReference(_Loose):
    """A ``fides_meta.references`` entry."""

    dataset: str | None = None
    field: str
    direction: str | None = None


class FidesMeta(_Loose):
    """The ``fides_meta`` block of a field."""

    identity: str | None = None
    primary_key: bool = False
    references: list[FidesReference] = []


class FidesField(_Loose):
    """A field of a Fides collection."""

    name: str
    description: str | None = None
    data_categories: list[str] = []
    fides_meta: FidesMeta | None = None
    fields: list[FidesField] = []


class FidesCollection(_Loose):
    """A table or collection."""

    name: str
    description: str | None = None
    fields: list[FidesField] = []


class FidesDataset(_Loose):
    """One dataset of the file."""

    fides_key: str
    name: str | None = None
    description: str | None = None
    collections: list[FidesCollection] = []


class FidesFile(_Loose):
    """The top level of a Fides dataset file."""

    dataset: list[FidesDataset]


@dataclass
class FidesImport:
    """The converted systems and notes about what could not be carried over."""

    systems: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        """The systems as a data map YAML document, with the notes as comments."""
        header = [
            "# Imported from a Fides dataset file by `personvern import-fides`.",
            "# Fides datasets carry no purposes: list the purposes each field serves,",
            "# then run `personvern check` until it passes.",
        ]
        header += [f"# NOTE: {note}" for note in self.notes]
        body = yaml.safe_dump(
            {"systems": self.systems}, sort_keys=False, allow_unicode=True, width=100
        )
        return "\n".join(header) + "\n" + body


_IDENTITIES = {kind.value for kind in IdentityKind}
_FIDES_IDENTITY_ALIASES = {"phone": "phone_number", "user_id": "account_id"}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9_.\-]", "_", text.lower()).strip("_") or "system"


def import_fides_dataset(path: Path, kind: SystemKind = SystemKind.POSTGRESQL) -> FidesImport:
    """Read a Fides dataset file and convert each dataset into a personvern system."""
    try:
        data, positions = read_yaml(path)
    except YamlProblemError as exc:
        raise DataMapError(exc.problem.render()) from exc
    try:
        parsed = FidesFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        where = next(
            (positions[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in positions), None
        )
        dotted = ".".join(str(p) for p in loc)
        raise DataMapError(
            f"{where or path}: not a Fides dataset file: {dotted}: {error['msg'].lower()}",
            hint="expected a top-level 'dataset:' list with fides_key and collections",
        ) from exc
    converted = FidesImport(systems=[])
    keys = {d.fides_key: _key(d.fides_key) for d in parsed.dataset}
    for dataset in parsed.dataset:
        converted.systems.append(_convert_dataset(dataset, kind, keys, converted.notes))
    _apply_inbound_references(parsed, keys, converted)
    return converted


def _convert_dataset(
    dataset: FidesDataset, kind: SystemKind, keys: dict[str, str], notes: list[str]
) -> dict[str, Any]:
    system_key = keys[dataset.fides_key]
    datasets = []
    for collection in dataset.collections:
        fields = []
        for fides_field in collection.fields:
            where = f"{dataset.fides_key}.{collection.name}.{fides_field.name}"
            if fides_field.fields:
                notes.append(f"{where} has nested fields, which are not imported")
            fields.append(_convert_field(fides_field, dataset.fides_key, keys, where, notes))
        datasets.append(
            {
                "name": collection.name,
                "subjects": ["customer"],
                **(
                    {"description": {"en": collection.description}}
                    if collection.description
                    else {}
                ),
                "fields": fields,
            }
        )
    notes.append(f"{system_key}: subjects default to [customer]; adjust per dataset")
    return {
        "key": system_key,
        "name": dataset.name or dataset.fides_key,
        "kind": kind.value,
        "description": {
            "en": dataset.description or f"Imported from Fides dataset {dataset.fides_key}"
        },
        "connection_env": f"PERSONVERN_{system_key.upper().replace('-', '_').replace('.', '_')}"
        "_URL",
        "datasets": datasets,
    }


def _convert_field(
    fides_field: FidesField, dataset_key: str, keys: dict[str, str], where: str, notes: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": fides_field.name}
    categories = [c for c in fides_field.data_categories if c != "system.operations"]
    if categories:
        out["category"] = categories[0]
        out["purposes"] = []
        if len(categories) > 1:
            notes.append(f"{where} had several categories; kept {categories[0]}")
    meta = fides_field.fides_meta
    if meta is None:
        return out
    if meta.primary_key:
        out["primary_key"] = True
    if meta.identity:
        identity = _FIDES_IDENTITY_ALIASES.get(meta.identity, meta.identity)
        if identity in _IDENTITIES:
            out["identity"] = identity
        else:
            notes.append(f"{where}: identity '{meta.identity}' has no personvern equivalent")
    for reference in meta.references:
        if reference.direction == "to":
            continue  # handled on the other side by _apply_inbound_references
        target = _reference_text(reference, dataset_key, keys)
        if target and "references" not in out:
            out["references"] = target
    return out


def _reference_text(
    reference: FidesReference, from_dataset: str, keys: dict[str, str]
) -> str | None:
    dataset = reference.dataset or from_dataset
    if dataset == from_dataset:
        return reference.field
    if dataset in keys:
        return f"{keys[dataset]}.{reference.field}"
    return None


def _apply_inbound_references(
    parsed: FidesFile, keys: dict[str, str], converted: FidesImport
) -> None:
    """A Fides ``direction: to`` reference means the *other* field points at this one."""
    by_path = {
        (system["key"], dataset["name"], f["name"]): f
        for system in converted.systems
        for dataset in system["datasets"]
        for f in dataset["fields"]
    }
    for dataset in parsed.dataset:
        for collection in dataset.collections:
            for fides_field in collection.fields:
                meta = fides_field.fides_meta
                for reference in meta.references if meta else []:
                    if reference.direction != "to":
                        continue
                    target_ds = reference.dataset or dataset.fides_key
                    coll, _, name = reference.field.partition(".")
                    target = by_path.get((keys.get(target_ds, ""), coll, name))
                    if target is None or "references" in target:
                        continue
                    same = target_ds == dataset.fides_key
                    prefix = "" if same else f"{keys[dataset.fides_key]}."
                    target["references"] = f"{prefix}{collection.name}.{fides_field.name}"
