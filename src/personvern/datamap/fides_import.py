"""Turn Fides dataset files into personvern systems, so Fides users can bring their maps.

Fides datasets describe collections and fields with data categories, identities and
references, but not purposes (Fides keeps data uses on systems). The import therefore
leaves ``purposes`` empty and ``personvern check`` lists what remains to be filled in.

A folder of dataset files is one project, as Fides reads it: a reference to a dataset
in another file of the folder points at that file's system. Whatever has no place in
personvern's map (a second reference on one field, a nested field's identity, Fides's
erasure order) is left out with a note saying what and why; the result always has
the structure ``personvern check`` expects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from personvern.datamap.errors import DataMapError
from personvern.datamap.source import MAX_FILES, YamlProblemError, data_map_files, read_yaml
from personvern.domain.datamap import ErasureStrategy, IdentityKind, SystemKind


def _empty_if_none(value: Any) -> Any:
    # fideslang accepts null wherever a list is optional; null and [] mean the same.
    return [] if value is None else value


Names = Annotated[list[str], BeforeValidator(_empty_if_none)]


class _Loose(BaseModel):
    # Fides files carry many keys personvern does not use; they are ignored, not errors.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _WithMeta(_Loose):
    """A dataset, collection or field: it may say ``fidesops_meta`` for ``fides_meta``."""

    @model_validator(mode="before")
    @classmethod
    def _older_meta_name(cls, data: Any) -> Any:
        # fideslang reads the older name ``fidesops_meta`` when ``fides_meta`` is absent or
        # empty (FidesopsMetaBackwardsCompat); SaaS datasets still use the older name.
        if isinstance(data, dict) and "fidesops_meta" in data:
            data = dict(data)
            older = data.pop("fidesops_meta")
            data["fides_meta"] = data.get("fides_meta") or older
        return data


class FidesReference(_Loose):
    """A ``fides_meta.references`` entry: ``collection.field`` of a dataset."""

    dataset: str | None = None
    field: str
    direction: Literal["from", "to"] | None = None


class FidesMaskingOverride(_Loose):
    """A ``masking_strategy_override``: the Fides masking strategy and its settings."""

    strategy: str
    configuration: dict[str, Any] | None = None


class FidesMeta(_Loose):
    """The ``fides_meta`` (or ``fidesops_meta``) block of a field."""

    identity: str | None = None
    primary_key: bool | None = None
    references: Annotated[list[FidesReference], BeforeValidator(_empty_if_none)] = []
    data_type: str | None = None
    return_all_elements: bool | None = None
    read_only: bool | None = None
    custom_request_field: str | None = None
    masking_strategy_override: FidesMaskingOverride | None = None


class FidesField(_WithMeta):
    """A field of a Fides collection, with nested fields for documents."""

    name: str
    description: str | None = None
    data_categories: Names = []
    fides_meta: FidesMeta | None = None
    fields: Annotated[list[FidesField], BeforeValidator(_empty_if_none)] = []


class FidesCollectionMeta(_Loose):
    """The ``fides_meta`` of a collection: traversal and erasure hints."""

    after: Names = []
    erase_after: Names = []
    skip_processing: bool | None = None
    masking_strategy_override: FidesMaskingOverride | None = None


class FidesCollection(_WithMeta):
    """A table or collection."""

    name: str
    description: str | None = None
    data_categories: Names = []
    data_subjects: Names = []
    fields: Annotated[list[FidesField], BeforeValidator(_empty_if_none)] = []
    fides_meta: FidesCollectionMeta | None = None


class FidesDatasetMeta(_Loose):
    """The ``fides_meta`` of a dataset."""

    after: Names = []


class FidesDataset(_WithMeta):
    """One dataset of a file."""

    fides_key: str
    name: str | None = None
    description: str | None = None
    data_categories: Names = []
    data_subjects: Names = []
    collections: Annotated[list[FidesCollection], BeforeValidator(_empty_if_none)] = []
    fides_meta: FidesDatasetMeta | None = None


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
            "# Imported from Fides dataset files by `personvern import-fides`.",
            "# Fides datasets carry no purposes: list the purposes each field serves,",
            "# then run `personvern check` until it passes.",
        ]
        header += [f"# NOTE: {note}" for note in self.notes]
        body = yaml.safe_dump(
            {"systems": self.systems}, sort_keys=False, allow_unicode=True, width=100
        )
        return "\n".join(header) + "\n" + body


_IDENTITIES = {kind.value for kind in IdentityKind}
_FIDES_IDENTITY_ALIASES = {
    "phone": "phone_number",
    "user_id": "account_id",
    # Fides's own consent cookie and Google Analytics' client id both live in a cookie.
    "fides_user_device_id": "cookie_id",
    "ga_client_id": "cookie_id",
}
#: Fides masking strategies (fides/api/service/masking/strategy) and the personvern
#: erasure that does the same to the value.
_ERASURES = {
    "null_rewrite": ErasureStrategy.SET_NULL,
    "string_rewrite": ErasureStrategy.MASK,
    "random_string_rewrite": ErasureStrategy.MASK,
    "hash": ErasureStrategy.PSEUDONYMISE,
    "hmac": ErasureStrategy.PSEUDONYMISE,
    "aes_encrypt": ErasureStrategy.PSEUDONYMISE,
    "preserve": ErasureStrategy.KEEP,
}
# The shapes domain/datamap.py accepts for keys, table and column names and categories.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CATEGORY = re.compile(r"[a-z0-9][a-z0-9_.\-]*")
_MAX_NAME = 120
_MAX_SYSTEM_KEY = 60  # leaves room for PERSONVERN_..._URL within 120 characters
_NOT_PERSONAL = "system.operations"
_RENAMED = (
    "imported as '{safe}' (personvern names use letters, digits and '_' and do not start "
    "with a digit, and the map has no separate {what} name): rename the {what} or this "
    "{entry} so that the connector finds it"
)


def import_fides_dataset(path: Path, kind: SystemKind = SystemKind.POSTGRESQL) -> FidesImport:
    """Convert a Fides dataset file, or a folder of them read as one project, into systems."""
    notes = _Notes()
    sources = _read_project(path, notes)
    project = _Project.plan(sources, notes)
    edges = project.edges(notes)
    systems = [project.convert(plan, kind, edges, notes) for plan in project.datasets]
    project.note_unreachable(systems, notes)
    return FidesImport(systems=systems, notes=notes.in_order())


# Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    file: Path
    dataset: FidesDataset


def _read_project(path: Path, notes: _Notes) -> list[_Source]:
    if not path.exists():
        raise DataMapError(f"{path}: no such file or folder")
    files = data_map_files(path)
    if len(files) > MAX_FILES:
        raise DataMapError(
            f"{path}: more than {MAX_FILES} YAML files",
            hint="import the folder that holds the Fides datasets only",
        )
    sources: list[_Source] = []
    for file in files:
        try:
            data, positions = read_yaml(file)
        except YamlProblemError as exc:
            where = exc.problem.location or file
            raise DataMapError(
                f"{where}: {exc.problem.finding.message}", hint=exc.problem.finding.hint
            ) from exc
        if path.is_dir() and not (isinstance(data, dict) and "dataset" in data):
            shown = _shown(str(file.relative_to(path)))
            notes.add((-1,), f"{shown}: no top-level 'dataset:' list; skipped")
            continue
        sources += [_Source(file, dataset) for dataset in _parse(file, data, positions).dataset]
    if not sources and path.is_dir():
        raise DataMapError(
            f"{path}: no Fides datasets (no YAML file with a top-level 'dataset:' list "
            "that lists any)"
        )
    if not sources:
        raise DataMapError(f"{path}: the 'dataset:' list is empty: there is nothing to import")
    return sources


def _parse(file: Path, data: Any, positions: dict[Any, Any]) -> FidesFile:
    try:
        return FidesFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        where = next(
            (positions[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in positions), None
        )
        dotted = ".".join(str(p) for p in loc)
        field = f"{dotted}: " if dotted else ""
        # pydantic names its own classes ("or instance of FidesField"): not the reader's words.
        message = re.sub(r" or instance of \w+", "", error["msg"]).lower()
        raise DataMapError(
            f"{where or file}: not a Fides dataset file: {field}{message}",
            hint="expected a top-level 'dataset:' list with fides_key and collections",
        ) from exc


# Planning names -----------------------------------------------------------------------


class _Notes:
    """Notes with their place in the project, so they read in file order."""

    def __init__(self) -> None:
        self._notes: list[tuple[tuple[int, ...], str]] = []

    def add(self, order: tuple[int, ...], text: str) -> None:
        self._notes.append((order, text))

    def in_order(self) -> list[str]:
        return [text for _order, text in sorted(self._notes, key=lambda note: note[0])]


@dataclass
class _CollectionPlan:
    index: int
    fides: FidesCollection
    name: str
    #: Fides name of each top-level field -> (its index, its personvern name).
    fields: dict[str, tuple[int, str]]


@dataclass
class _DatasetPlan:
    index: int
    source: _Source
    key: str
    collections: dict[str, _CollectionPlan]

    @property
    def fides(self) -> FidesDataset:
        return self.source.dataset


@dataclass(frozen=True)
class _Address:
    """A top-level field of the project, by its Fides names."""

    dataset: int
    collection: str
    field: str


@dataclass
class _Project:
    datasets: list[_DatasetPlan]
    by_fides_key: dict[str, list[_DatasetPlan]]

    @classmethod
    def plan(cls, sources: list[_Source], notes: _Notes) -> _Project:
        """Give every dataset, collection and field a name personvern accepts."""
        taken: set[str] = set()
        datasets: list[_DatasetPlan] = []
        by_fides_key: dict[str, list[_DatasetPlan]] = {}
        for index, source in enumerate(sources):
            fides_key = source.dataset.fides_key
            placeholder = "<" in fides_key
            # A SaaS connector's dataset says <instance_fides_key>, which Fides fills in per
            # connector instance; its file name tells the datasets apart.
            wanted = _system_key(source.file.stem if placeholder else fides_key)
            key = _unique(wanted, taken, _MAX_SYSTEM_KEY)
            if placeholder:
                notes.add(
                    (index,),
                    f"{key}: fides_key '{_shown(fides_key)}' is a placeholder Fides fills in "
                    f"per connector instance; named '{key}' after its file",
                )
            elif key != wanted:
                notes.add(
                    (index,),
                    f"{key}: fides_key '{_shown(fides_key)}' gives the system key '{wanted}', "
                    f"which another dataset of the project has; imported as '{key}'",
                )
            plan = _DatasetPlan(index, source, key, {})
            plan.collections = _plan_collections(plan, notes)
            datasets.append(plan)
            by_fides_key.setdefault(fides_key, []).append(plan)
        return cls(datasets, by_fides_key)

    # References -------------------------------------------------------------------

    def edges(self, notes: _Notes) -> dict[_Address, list[_Address]]:
        """Which field points at which, as personvern reads ``references``: F -> T."""
        edges: dict[_Address, list[_Address]] = {}
        # A field's own references first, then those other fields declare towards it
        # (direction: to), so that what a field says about itself wins the one slot.
        for inbound in (False, True):
            for plan in self.datasets:
                for collection in plan.collections.values():
                    for index, _name in collection.fields.values():
                        fides_field = collection.fides.fields[index]
                        self._field_edges(plan, collection, fides_field, (), inbound, edges, notes)
        return edges

    def _field_edges(
        self,
        plan: _DatasetPlan,
        collection: _CollectionPlan,
        fides_field: FidesField,
        parents: tuple[str, ...],
        inbound: bool,
        edges: dict[_Address, list[_Address]],
        notes: _Notes,
    ) -> None:
        path = (*parents, fides_field.name)
        meta = fides_field.fides_meta
        for reference in meta.references if meta else []:
            if (reference.direction == "to") != inbound:
                continue
            order = (plan.index, collection.index, collection.fields[path[0]][0])
            shown = f"{reference.dataset or plan.fides.fides_key}.{reference.field}"
            where = _where(plan, collection.fides.name, path)
            if parents:
                notes.add(
                    (*order, 1),
                    f"{where}: reference to {_shown(shown)} dropped: it is declared on a nested "
                    "field (personvern references top-level fields only)",
                )
                continue
            target = self._resolve(reference, plan)
            if isinstance(target, str):
                notes.add(order, f"{where}: reference to {_shown(shown)} dropped: {target}")
                continue
            here = _Address(plan.index, collection.fides.name, fides_field.name)
            holder, points_at = (target, here) if inbound else (here, target)
            if points_at not in edges.setdefault(holder, []):
                edges[holder].append(points_at)
        for nested in fides_field.fields:
            self._field_edges(plan, collection, nested, path, inbound, edges, notes)

    def _resolve(self, reference: FidesReference, here: _DatasetPlan) -> _Address | str:
        """The referenced top-level field, or why it cannot be referenced."""
        target = self._dataset(reference.dataset, here)
        return target if isinstance(target, str) else _field_of(target, reference.field)

    def _dataset(self, fides_key: str | None, here: _DatasetPlan) -> _DatasetPlan | str:
        """The dataset a reference names, or why it is not one of the project."""
        # A dataset's references to its own key stay inside it, even where several files
        # share a placeholder key such as <instance_fides_key>.
        if fides_key is None or fides_key == here.fides.fides_key:
            return here
        found = self.by_fides_key.get(fides_key, [])
        if not found:
            return (
                f"dataset '{_shown(fides_key)}' is not among the imported files "
                "(import the folder that holds it too)"
            )
        if len(found) > 1:
            return f"several imported datasets have fides_key '{_shown(fides_key)}'"
        return found[0]

    def _reference_text(self, holder: _DatasetPlan, target: _Address) -> str:
        plan = self.datasets[target.dataset]
        collection = plan.collections[target.collection]
        text = f"{collection.name}.{collection.fields[target.field][1]}"
        return text if plan is holder else f"{plan.key}.{text}"

    # Conversion -------------------------------------------------------------------

    def convert(
        self,
        plan: _DatasetPlan,
        kind: SystemKind,
        edges: dict[_Address, list[_Address]],
        notes: _Notes,
    ) -> dict[str, Any]:
        """The personvern system of one Fides dataset."""
        dataset = plan.fides
        order = (plan.index,)
        categories = [c for c in dataset.data_categories if c != _NOT_PERSONAL]
        if categories:
            notes.add(
                order,
                f"{plan.key}: the dataset's data_categories {_listed(categories)} are not "
                "copied to its fields; give each field that holds personal data its own category",
            )
        if dataset.fides_meta and dataset.fides_meta.after:
            notes.add(
                order,
                f"{plan.key}: fides_meta.after {_listed(dataset.fides_meta.after)} is not "
                "carried: personvern orders its searches by references",
            )
        defaulted = False
        converted = []
        for collection in plan.collections.values():
            subjects = _subjects(collection.fides.data_subjects or dataset.data_subjects)
            defaulted = defaulted or not subjects
            converted.append(
                {
                    "name": collection.name,
                    "subjects": subjects or ["customer"],
                    **_text("description", collection.fides.description),
                    "fields": self._convert_fields(plan, collection, edges, notes),
                }
            )
        if defaulted:
            notes.add(order, f"{plan.key}: subjects default to [customer]; adjust per dataset")
        return {
            "key": plan.key,
            "name": (dataset.name or "").strip() or dataset.fides_key,
            "kind": kind.value,
            "description": {
                "en": (dataset.description or "").strip()
                or f"Imported from Fides dataset {dataset.fides_key}"
            },
            "connection_env": f"PERSONVERN_{plan.key.upper()}_URL",
            "datasets": converted,
        }

    def _convert_fields(
        self,
        plan: _DatasetPlan,
        collection: _CollectionPlan,
        edges: dict[_Address, list[_Address]],
        notes: _Notes,
    ) -> list[dict[str, Any]]:
        fides = collection.fides
        meta = fides.fides_meta or FidesCollectionMeta()
        order = (plan.index, collection.index)
        where = _where(plan, fides.name, ())
        _note_collection(where, fides, meta, order, notes)
        override = meta.masking_strategy_override
        deleted = override is not None and override.strategy == "delete"
        fields = []
        for fides_name, (index, name) in collection.fields.items():
            targets = edges.get(_Address(plan.index, fides.name, fides_name), [])
            converter = _Field(where, fides_name, (*order, index), notes, deleted)
            fields.append(
                converter.convert(
                    fides.fields[index],
                    name,
                    [self._reference_text(plan, target) for target in targets],
                )
            )
        keys = [f["name"] for f in fields if f.get("primary_key")]
        if not keys:
            notes.add(
                order,
                f"{where}: no primary key; personvern searches a dataset by its primary key: "
                "mark one with primary_key: true",
            )
        elif len(keys) > 1:
            notes.add(
                order,
                f"{where}: primary keys {', '.join(keys)}; personvern identifies a record by "
                f"its first primary key field, {keys[0]}, so records sharing one are handled "
                "as one record",
            )
        return fields

    def note_unreachable(self, systems: list[dict[str, Any]], notes: _Notes) -> None:
        """Say which searched datasets no request can reach (no identity, no reference)."""
        nodes: dict[str, tuple[tuple[int, ...], str, set[str]]] = {}
        reached: set[str] = set()
        for plan, system in zip(self.datasets, systems, strict=True):
            for collection, dataset in zip(
                plan.collections.values(), system["datasets"], strict=True
            ):
                fields = dataset["fields"]
                if not any(f.get("primary_key") for f in fields):
                    continue  # noted already: never searched
                name = f"{plan.key}.{dataset['name']}"
                targets = {
                    _qualified(plan.key, f["references"]) for f in fields if "references" in f
                }
                nodes[name] = (
                    (plan.index, collection.index),
                    _where(plan, collection.fides.name, ()),
                    targets,
                )
                if any("identity" in f for f in fields):
                    reached.add(name)
        grew = True
        while grew:
            grew = False
            for name, (_order, _where_text, targets) in nodes.items():
                if name not in reached and targets & reached:
                    reached.add(name)
                    grew = True
        for name, (order, where, _targets) in nodes.items():
            if name not in reached:
                notes.add(
                    order,
                    f"{where}: requests never reach it: no field is an identity and none "
                    "references a dataset they reach; mark the field holding the subject's "
                    "e-mail or customer number with identity, or add a reference",
                )


def _plan_collections(plan: _DatasetPlan, notes: _Notes) -> dict[str, _CollectionPlan]:
    collections: dict[str, _CollectionPlan] = {}
    for index, fides in enumerate(plan.fides.collections):
        if not fides.fields:
            notes.add(
                (plan.index, index),
                f"{_where(plan, fides.name, ())}: has no fields; not imported (a personvern "
                "dataset needs at least one field)",
            )
    kept = [(i, c) for i, c in enumerate(plan.fides.collections) if c.fields]
    names = _personvern_names([c.name for _i, c in kept])
    for (index, fides), name in zip(kept, names, strict=True):
        order = (plan.index, index)
        where = _where(plan, fides.name, ())
        if name is None:
            notes.add(order, f"{where}: a second collection of that name; not imported")
            continue
        if name != fides.name:
            notes.add(
                order, f"{where}: " + _RENAMED.format(safe=name, what="table", entry="dataset")
            )
        fields: dict[str, tuple[int, str]] = {}
        field_names = _personvern_names([f.name for f in fides.fields])
        for field_index, (fides_field, field_name) in enumerate(
            zip(fides.fields, field_names, strict=True)
        ):
            field_where = _where(plan, fides.name, (fides_field.name,))
            if field_name is None:
                notes.add(
                    (*order, field_index),
                    f"{field_where}: a second field of that name; not imported",
                )
                continue
            if field_name != fides_field.name:
                notes.add(
                    (*order, field_index),
                    f"{field_where}: "
                    + _RENAMED.format(safe=field_name, what="column", entry="field"),
                )
            fields[fides_field.name] = (field_index, field_name)
        collections[fides.name] = _CollectionPlan(index, fides, name, fields)
    return collections


def _field_of(target: _DatasetPlan, address: str) -> _Address | str:
    """The top-level field ``collection.field`` of ``target``, or why it is not one."""
    collection_name, dot, rest = address.partition(".")
    if not dot or not rest:
        return "a reference names collection.field"
    collection = target.collections.get(collection_name)
    if collection is None:
        if any(c.name == collection_name for c in target.fides.collections):
            return f"collection '{_shown(collection_name)}' has no fields and is not imported"
        return f"{target.key} has no collection '{_shown(collection_name)}'"
    # A field may itself be named with a dot; otherwise the dot leads into a nested field.
    field_name = rest if rest in collection.fields else rest.partition(".")[0]
    if field_name not in collection.fields:
        return f"collection '{_shown(collection_name)}' has no field '{_shown(field_name)}'"
    if field_name != rest:
        return (
            f"it points into the nested field '{_shown(collection_name)}.{_shown(field_name)}'"
            " (personvern references top-level fields only)"
        )
    return _Address(target.index, collection_name, field_name)


def _note_collection(
    where: str,
    fides: FidesCollection,
    meta: FidesCollectionMeta,
    order: tuple[int, ...],
    notes: _Notes,
) -> None:
    categories = [c for c in fides.data_categories if c != _NOT_PERSONAL]
    if categories:
        notes.add(
            order,
            f"{where}: the collection's data_categories {_listed(categories)} are not copied "
            "to its fields; give each field that holds personal data its own category",
        )
    if meta.after:
        notes.add(
            order,
            f"{where}: fides_meta.after {_listed(meta.after)} is not carried: personvern "
            "orders its searches by references",
        )
    if meta.erase_after:
        notes.add(
            order,
            f"{where}: erase_after {_listed(meta.erase_after)} is not carried: personvern "
            "erases records that reference others before the records they reference; add "
            "a reference if this order matters",
        )
    if meta.skip_processing:
        notes.add(
            order,
            f"{where}: Fides skips this collection (skip_processing), personvern does not: "
            "requests search it by its primary key; remove the dataset if they must not",
        )
    override = meta.masking_strategy_override
    if override is not None and override.strategy != "delete":
        # fideslang allows only delete here (records deleted rather than masked).
        notes.add(
            order,
            f"{where}: masking_strategy_override '{_shown(override.strategy)}' is not a "
            "collection strategy (Fides knows only delete); not carried",
        )


@dataclass
class _Field:
    """Converts one top-level Fides field (and what it nests) into a personvern field."""

    #: ``system.collection`` of the field, as notes name it.
    collection: str
    #: The field's name in Fides.
    name: str
    order: tuple[int, ...]
    notes: _Notes
    #: The collection's records are deleted (masking_strategy_override: delete).
    deleted: bool

    def note(self, text: str, path: tuple[str, ...] = ()) -> None:
        where = ".".join([self.collection, *(_shown(part) for part in (self.name, *path))])
        # What a nested field lost reads after what its top-level field became.
        self.notes.add((*self.order, 1) if path else self.order, f"{where}: {text}")

    def convert(self, fides_field: FidesField, name: str, references: list[str]) -> dict[str, Any]:
        """The personvern field; ``references`` are the fields it points at, first kept."""
        out: dict[str, Any] = {"name": name}
        categories = self._categories(fides_field)
        if categories:
            out["category"] = categories[0]
            out["purposes"] = []
        meta = fides_field.fides_meta or FidesMeta()
        if meta.primary_key:
            out["primary_key"] = True
        if meta.identity:
            identity = _FIDES_IDENTITY_ALIASES.get(meta.identity, meta.identity)
            if identity in _IDENTITIES:
                out["identity"] = identity
            else:
                self.note(
                    f"identity '{_shown(meta.identity)}' has no personvern equivalent; "
                    "requests do not search this field"
                )
        if references:
            out["references"] = references[0]
            if len(references) > 1:
                self.note(
                    f"also references {', '.join(references[1:])}; personvern holds one "
                    f"reference per field, so it keeps {references[0]} and requests do not "
                    "follow the others"
                )
        erasure = self._erasure(meta.masking_strategy_override)
        if erasure is not None:
            out["erasure"] = erasure.value
        self._note_meta(meta, personal=bool(categories), keyed=bool(meta.primary_key or references))
        if fides_field.fields:
            names = ", ".join(_shown(f.name) for f in fides_field.fields)
            self.note(
                f"its nested fields ({names}) are kept inside the one field '{name}' "
                "(personvern's connectors read top-level fields only)"
            )
            for nested in fides_field.fields:
                self._note_nested(nested, ())
        return out

    def _categories(self, fides_field: FidesField) -> list[str]:
        # An object holds what its nested fields hold: a flattened address is personal
        # data because its street is.
        found: list[str] = []
        for category in _all_categories(fides_field):
            if category == _NOT_PERSONAL or category in found:
                continue
            if _CATEGORY.fullmatch(category) and len(category) <= _MAX_NAME:
                found.append(category)
            else:
                self.note(
                    f"data category '{_shown(category)}' is not a key personvern accepts "
                    "(lower-case letters, digits, '_', '-' and '.'); dropped"
                )
        if len(found) > 1:
            self.note(
                f"several data categories ({', '.join(found)}); personvern keeps one per "
                f"field: kept {found[0]}"
            )
        return found

    def _erasure(self, override: FidesMaskingOverride | None) -> ErasureStrategy | None:
        if override is None:
            return None
        strategy = override.strategy
        if self.deleted:
            self.note(
                f"masking_strategy_override {_shown(strategy)} is not carried: the "
                "collection's records are deleted (its masking_strategy_override is delete)"
            )
            return None
        erasure = _ERASURES.get(strategy)
        if erasure is None:
            self.note(
                f"masking_strategy_override '{_shown(strategy)}' has no personvern "
                "equivalent; the field is erased by the dataset's default"
            )
        elif override.configuration:
            self.note(
                f"masking_strategy_override {strategy} is imported as erasure: "
                f"{erasure.value}; its configuration is not carried (personvern chooses the "
                "replacement value)"
            )
        return erasure

    def _note_meta(self, meta: FidesMeta, *, personal: bool, keyed: bool) -> None:
        if meta.read_only and personal and not keyed:
            # personvern erases only personal data, and never keys: for them read_only
            # changes nothing.
            self.note(
                "read_only is not carried: Fides never changes this field, personvern "
                "erases it with its record; set erasure: keep if the system cannot change it"
            )
        if meta.return_all_elements:
            self.note("return_all_elements is not needed: personvern reads the whole array")
        if meta.custom_request_field:
            self.note(
                f"custom_request_field '{_shown(meta.custom_request_field)}' is not carried: "
                "personvern searches by identities only"
            )

    def _note_nested(self, nested: FidesField, parents: tuple[str, ...]) -> None:
        path = (*parents, nested.name)
        meta = nested.fides_meta
        if meta is not None:
            if meta.identity:
                self.note(
                    f"identity '{_shown(meta.identity)}' on a nested field is not carried: "
                    "personvern matches identities on top-level fields only",
                    path,
                )
            if meta.primary_key:
                self.note(
                    "primary_key on a nested field is not carried: personvern keys records "
                    "by a top-level field",
                    path,
                )
            if meta.masking_strategy_override is not None:
                strategy = _shown(meta.masking_strategy_override.strategy)
                self.note(
                    f"masking_strategy_override {strategy} on a nested field is not carried: "
                    f"personvern erases '{_shown(self.name)}' as a whole",
                    path,
                )
        for deeper in nested.fields:
            self._note_nested(deeper, path)


# Small helpers ------------------------------------------------------------------------


def _all_categories(fides_field: FidesField) -> Iterable[str]:
    yield from fides_field.data_categories
    for nested in fides_field.fields:
        yield from _all_categories(nested)


def _system_key(text: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return key[:_MAX_SYSTEM_KEY].strip("_") or "dataset"


def _personvern_names(names: list[str]) -> list[str | None]:
    """A table or column name personvern accepts for each of ``names``; None for a repeat."""
    # Names that are fine stay as they are, even when a renamed one would come out the same.
    taken = {n for n in names if _IDENTIFIER.fullmatch(n) and len(n) <= _MAX_NAME}
    valid = set(taken)
    seen: set[str] = set()
    out: list[str | None] = []
    for name in names:
        if name in seen:
            out.append(None)
            continue
        seen.add(name)
        if name in valid:
            out.append(name)
            continue
        safe = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "field"
        out.append(_unique(f"_{safe}" if safe[0].isdigit() else safe, taken, _MAX_NAME))
    return out


def _unique(wanted: str, taken: set[str], limit: int) -> str:
    candidate = wanted[:limit]
    number = 1
    while candidate in taken:
        number += 1
        suffix = f"_{number}"
        candidate = f"{wanted[: limit - len(suffix)]}{suffix}"
    taken.add(candidate)
    return candidate


def _subjects(keys: list[str]) -> list[str]:
    return list(dict.fromkeys(k for k in keys if _CATEGORY.fullmatch(k) and len(k) <= _MAX_NAME))


def _text(key: str, value: str | None) -> dict[str, Any]:
    return {key: {"en": value.strip()}} if value and value.strip() else {}


def _qualified(system: str, reference: str) -> str:
    parts = reference.split(".")
    return ".".join(parts[:-1]) if len(parts) == 3 else f"{system}.{parts[0]}"


def _where(plan: _DatasetPlan, collection: str, path: tuple[str, ...]) -> str:
    return ".".join([plan.key, *(_shown(part) for part in (collection, *path))])


def _listed(values: list[str]) -> str:
    return "[" + ", ".join(_shown(v) for v in values) + "]"


def _shown(text: str) -> str:
    """``text`` on one line: a note is one line of output and one YAML comment."""
    if text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")
