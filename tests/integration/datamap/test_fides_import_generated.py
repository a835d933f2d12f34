"""Generated Fides projects: whatever fideslang accepts imports into a map `check` accepts.

Hypothesis is not among the dependencies, so the datasets come from a seeded random
generator instead; fideslang itself decides which generated datasets are valid. Each
seed is its own test case, so a failure names the seed that reproduces it.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from fideslang.models import Dataset
from pydantic import ValidationError

from personvern.datamap.errors import DataMapError
from personvern.datamap.fides_import import import_fides_dataset
from personvern.domain.datamap import System
from tests.integration.datamap.fides_import_support import check_import

# Names Fides allows and personvern may not: spaces, dots, dashes, leading digits, other
# scripts, YAML words, line separators, the empty name and overlong ones.
NAMES = [
    "id",
    "email",
    "customer_id",
    "custom id",
    "custom_id",
    "2fa",
    "address.line1",
    "e-mail",
    "Fødselsnummer",
    "名前",
    "no",
    "null",
    "_id",
    "x" * 130,
    "a\u2028b",
    "",
    " padded ",
    "address",
]
# Collection names also appear in after/erase_after, which must be FidesKeys.
KEYLIKE = ["customer", "orders", "address", "login", "Order-Lines", "v2.items"]
FIDES_KEYS = ["shop", "shop.v2", "<instance_fides_key>", "Shop-DB", "shop_db", "a"]
CATEGORIES = [
    "user.contact.email",
    "user.name",
    "system.operations",
    "user.unique_id",
    "user",
    "User.Custom",
    "user.device.cookie_id",
    "user.contact.address.street",
]
IDENTITIES = ["email", "phone_number", "phone", "user_id", "fides_user_device_id", "badge"]
STRATEGIES = ["null_rewrite", "hash", "string_rewrite", "random_string_rewrite", "preserve", "x"]
SCALAR_TYPES = [None, "string", "integer", "string[]", "float", "boolean", "object_id"]


class Generator:
    """Random Fides datasets in the shapes fideslang describes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def maybe(self, probability: float = 0.5) -> bool:
        return self.rng.random() < probability

    def categories(self) -> list[str] | None:
        if self.maybe(0.15):
            return None
        return self.rng.sample(CATEGORIES, self.rng.randint(0, 3))

    def reference(self, collections: list[str]) -> dict[str, Any]:
        path = [self.rng.choice(collections), self.rng.choice(NAMES)]
        if self.maybe(0.2):
            path.append(self.rng.choice(NAMES))
        reference: dict[str, Any] = {
            "dataset": self.rng.choice([*FIDES_KEYS, "elsewhere"]),
            "field": ".".join(path),
        }
        if self.maybe(0.7):
            reference["direction"] = self.rng.choice(["from", "to", None])
        return reference

    def field_meta(self, nested: bool, collections: list[str]) -> dict[str, Any]:
        data_type = (
            self.rng.choice([None, "object", "object[]"])
            if nested
            else self.rng.choice(SCALAR_TYPES)
        )
        meta: dict[str, Any] = {"data_type": data_type}
        if self.maybe(0.3):
            meta["primary_key"] = self.maybe(0.8)
        if self.maybe(0.3):
            meta["identity"] = self.rng.choice(IDENTITIES)
        if self.maybe(0.4):
            meta["references"] = (
                None
                if self.maybe(0.2)
                else [self.reference(collections) for _ in range(self.rng.randint(1, 3))]
            )
        if self.maybe(0.2):
            meta["masking_strategy_override"] = {
                "strategy": self.rng.choice(STRATEGIES),
                "configuration": self.rng.choice([None, {}, {"length": 5}]),
            }
        if self.maybe(0.2):
            meta["read_only"] = self.maybe()
        if data_type and data_type.endswith("[]") and self.maybe(0.3):
            meta["return_all_elements"] = self.maybe()
        if self.maybe(0.1):
            meta["length"] = self.rng.randint(1, 200)
        if self.maybe(0.1):
            meta["custom_request_field"] = "site_id"
        return meta

    def fields(self, depth: int, collections: list[str]) -> list[dict[str, Any]]:
        names = self.rng.sample(NAMES, self.rng.randint(1, 5))
        fields = []
        for name in names:
            nested = depth < 2 and self.maybe(0.2)
            field: dict[str, Any] = {"name": name, "data_categories": self.categories()}
            if nested:
                field["fields"] = self.fields(depth + 1, collections)
            elif self.maybe(0.1):
                field["fields"] = None
            if self.maybe(0.7):
                meta_key = self.rng.choice(["fides_meta", "fidesops_meta"])
                field[meta_key] = self.field_meta(nested, collections)
            elif self.maybe(0.2):
                field["fides_meta"] = None
            fields.append(field)
        return fields

    def collection_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if self.maybe(0.3):
            meta["erase_after"] = [f"shop.{self.rng.choice(KEYLIKE)}"]
        if self.maybe(0.2):
            meta["after"] = [f"shop.{self.rng.choice(KEYLIKE)}"]
        if self.maybe(0.2):
            meta["skip_processing"] = self.maybe()
        if self.maybe(0.2):
            meta["masking_strategy_override"] = {"strategy": "delete"}
        return meta

    def dataset(self) -> dict[str, Any]:
        names = self.rng.sample([*KEYLIKE, *NAMES], self.rng.randint(1, 4))
        collections = []
        for name in names:
            collection: dict[str, Any] = {
                "name": name,
                "data_categories": self.categories(),
                "fields": [] if self.maybe(0.05) else self.fields(0, names),
            }
            if self.maybe(0.4):
                collection[self.rng.choice(["fides_meta", "fidesops_meta"])] = (
                    self.collection_meta()
                )
            collections.append(collection)
        dataset: dict[str, Any] = {
            "fides_key": self.rng.choice(FIDES_KEYS),
            "name": self.rng.choice([None, "", "Shop", "名前"]),
            "description": self.rng.choice([None, "", " ", "A dataset"]),
            "data_subjects": self.rng.choice([None, [], ["customer"]]),
            "collections": collections,
        }
        if self.maybe(0.1):
            dataset["fides_meta"] = {"after": ["shop"]}
        self.aim_references(dataset)
        return dataset

    def aim_references(self, dataset: dict[str, Any]) -> None:
        """Point most references at fields that exist, top-level or nested."""
        paths = [
            (collection["name"], *path)
            for collection in dataset["collections"]
            for path in _paths(collection["fields"])
        ]
        for reference in _references(dataset):
            if paths and self.maybe(0.7):
                reference["field"] = ".".join(self.rng.choice(paths))
                reference["dataset"] = dataset["fides_key"]

    def valid_dataset(self) -> dict[str, Any]:
        """A dataset fideslang accepts (generated again until it does)."""
        while True:
            dataset = self.dataset()
            try:
                # fideslang sorts lists while validating: hand it a copy.
                Dataset.model_validate(copy.deepcopy(dataset))
            except ValidationError:
                continue
            return dataset

    def project(self, folder: Path) -> Path:
        """One to three valid datasets in one file, or spread over the files of a folder."""
        datasets = [self.valid_dataset() for _ in range(self.rng.randint(1, 3))]
        folder.mkdir()
        if self.maybe(0.4):
            path = folder / "datasets.yml"
            path.write_text(yaml.safe_dump({"dataset": datasets}), encoding="utf-8")
            return path
        for index, dataset in enumerate(datasets):
            text = yaml.safe_dump({"dataset": [dataset]})
            (folder / f"dataset_{index}.yml").write_text(text, encoding="utf-8")
        return folder


def _paths(fields: list[dict[str, Any]] | None) -> list[tuple[str, ...]]:
    return [
        path
        for field in fields or []
        for path in [(field["name"],), *((field["name"], *p) for p in _paths(field.get("fields")))]
    ]


def _references(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [found for item in value for found in _references(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if "field" in value and "dataset" in value else []
    return own + [found for item in value.values() for found in _references(item)]


@pytest.mark.parametrize("seed", range(120))
def test_whatever_fideslang_accepts_imports_into_a_map_check_accepts(
    tmp_path: Path, seed: int
) -> None:
    source = Generator(seed).project(tmp_path / "fides")

    converted = import_fides_dataset(source)

    assert [] == check_import(tmp_path / "map", converted)
    assert [] == [note for note in converted.notes if len(note.splitlines()) != 1]


def _garbled(rng: random.Random, value: Any) -> Any:
    """``value`` with one node somewhere replaced by a value of another shape."""
    junk = rng.choice([None, 0, 1.5, True, "text", "", [], {}, [None], {"name": None}])
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        return {**value, key: _garbled(rng, value[key])}
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        return [*value[:index], _garbled(rng, value[index]), *value[index + 1 :]]
    return junk


@pytest.mark.parametrize("seed", range(120))
def test_a_broken_dataset_file_fails_with_a_clear_data_map_error_or_imports(
    tmp_path: Path, seed: int
) -> None:
    generator = Generator(seed)
    broken = _garbled(generator.rng, {"dataset": [generator.valid_dataset()]})
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")

    try:
        systems, error = import_fides_dataset(path).systems, ""
    except DataMapError as exc:
        systems, error = [], str(exc)

    assert len(error.splitlines()) <= 1
    # What fideslang refuses may still import (personvern reads Fides files leniently);
    # the systems must then have the data map's structure, whatever their contents.
    for system in systems:
        System.model_validate(system)
