"""Setting aside what the schema refuses, and reading findings on the rest back (no files)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from personvern.datamap.staged import (
    ORGANIZATION_PLACEHOLDERS,
    TrimmedMap,
    lost_explains,
    record_item,
    trim,
    written_path,
)
from personvern.domain.datamap import DataMap, Organization
from personvern.domain.findings import DocPath, Finding

ORGANIZATION: dict[str, Any] = {
    "name": "Lite AS",
    "languages": ["nb"],
    "controllers": [
        {
            "key": "lite",
            "name": "Lite AS",
            "organization_number": "923456783",
            "address": "Oslo",
            "country": "NO",
        }
    ],
    "contact": {"name": "Kari"},
    "supervisory_authority": {"name": "Datatilsynet", "country": "NO", "url": "https://x"},
}


def purpose(key: str, **extra: Any) -> dict[str, Any]:
    """A purpose that validates, with ``extra`` keys."""
    return {"key": key, "name": {}, "description": {}, "data_use": "essential", **extra}


def field(name: str, *purposes: str, **extra: Any) -> dict[str, Any]:
    """A field serving ``purposes``, with ``extra`` keys."""
    return {"name": name, "purposes": list(purposes), **extra}


def system(key: str, *datasets: dict[str, Any]) -> dict[str, Any]:
    """A web system (it needs no connection) holding ``datasets``."""
    return {"key": key, "name": key, "kind": "web", "description": {}, "datasets": list(datasets)}


def dataset(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    """A dataset of customers with ``fields``."""
    return {"name": name, "subjects": ["customer"], "fields": list(fields)}


def errors_of(document: dict[str, Any]) -> list[ErrorDetails]:
    """The schema's errors for ``document`` (it must have some)."""
    with pytest.raises(ValidationError) as raised:
        DataMap.model_validate(document)
    return raised.value.errors()


def trimmed(document: dict[str, Any], lost: list[DocPath] | None = None) -> TrimmedMap:
    """``document`` with its errors set aside (it must have some)."""
    result = trim(document, errors_of(document), lost or [])
    assert result is not None
    return result


@pytest.mark.parametrize(
    ("loc", "item"),
    [
        (("purposes", 0, "legal_basis"), ("purposes", 0)),
        (("purposes", 0, "name", "NB", "[key]"), ("purposes", 0)),
        (
            ("systems", 1, "datasets", 0, "fields", 3, "purposes", 0),
            ("systems", 1, "datasets", 0, "fields", 3),
        ),
        (("systems", 1, "datasets", 0, "fields"), ("systems", 1, "datasets", 0)),
        (("systems", 1, "cookies", 2, "category"), ("systems", 1, "cookies", 2)),
        (("organization", "controllers", 2, "country"), ("organization", "controllers", 2)),
        (("organization", "security_measures", 1, "nb"), ("organization", "security_measures", 1)),
        (("taxonomy", "data_uses", 0, "key"), ("taxonomy", "data_uses", 0)),
        (("organization", "languages", 1), None),
        (("organization", "contact", "name"), None),
        (("purposes",), None),
        (("purpose", 0, "key"), None),
    ],
)
def test_an_error_is_held_by_the_deepest_item_of_a_list_of_records(
    loc: DocPath, item: DocPath | None
) -> None:
    assert item == record_item(loc)


def test_paths_of_the_rest_are_moved_back_to_the_positions_as_written() -> None:
    kept = {("systems",): [0, 2, 3], ("systems", 2, "datasets", 0, "fields"): [1, 2]}
    assert ("systems", 2, "datasets", 0, "fields", 1, "category") == written_path(
        ("systems", 1, "datasets", 0, "fields", 0, "category"), kept
    )
    # A cookie's purpose is reported at (..., "cookies", i, 0): not a list of the map.
    assert ("systems", 0, "cookies", 1, 0) == written_path(("systems", 0, "cookies", 1, 0), kept)


def test_items_holding_errors_are_set_aside_and_remembered() -> None:
    document = {
        "organization": ORGANIZATION,
        "purposes": [purpose("billing", owner="sales"), purpose("support")],
        "systems": [
            system("crm", dataset("customers", field("Kunde-ID", "billing"), field("email")))
        ],
    }
    result = trimmed(document)
    customers = result.datamap.systems[0].datasets[0]
    assert (["support"], ["email"]) == (
        [p.key for p in result.datamap.purposes],
        [f.name for f in customers.fields],
    )
    assert {("purposes",): [1], ("systems", 0, "datasets", 0, "fields"): [1]} == result.kept
    assert ({"billing"}, True) == (
        result.gaps.keys["purposes"].names,
        result.gaps.fields[("crm", "customers")].anything,
    )


def test_findings_on_what_was_set_aside_are_dropped_and_the_rest_moved_back() -> None:
    document = {
        "organization": ORGANIZATION,
        "purposes": [purpose("billing", owner="sales"), purpose("support")],
        "systems": [system("crm", dataset("customers", field("id", "billing", "support")))],
    }
    result = trimmed(document)
    refers = ("systems", 0, "datasets", 0, "fields", 0, "purposes", 0)
    findings = [
        Finding(refers, "purpose 'billing' is not declared under purposes"),
        Finding(("purposes", 0), "purpose 'support' has no legal basis"),
    ]
    assert [Finding(("purposes", 1), "purpose 'support' has no legal basis")] == (
        result.as_written(findings)
    )


def test_a_dataset_whose_only_field_is_set_aside_goes_too() -> None:
    document = {
        "organization": ORGANIZATION,
        "systems": [
            system("crm", dataset("customers", field("Kunde-ID")), dataset("notes", field("text")))
        ],
    }
    result = trimmed(document)
    assert ["notes"] == [d.name for d in result.datamap.systems[0].datasets]
    assert {"customers"} == result.gaps.datasets["crm"].names


def test_a_missing_organization_gets_a_placeholder_and_its_languages_count_as_unknown() -> None:
    result = trimmed({"purposes": [purpose("billing")]}, lost=[("organization",)])
    assert ([], frozenset({("organization",)})) == (
        result.datamap.organization.languages,
        result.placeholders,
    )
    assert result.gaps.keys["controllers"].anything


def test_every_required_key_of_the_organization_has_a_placeholder_that_validates() -> None:
    required = {name for name, info in Organization.model_fields.items() if info.is_required()}
    assert required == set(ORGANIZATION_PLACEHOLDERS)
    Organization.model_validate(ORGANIZATION_PLACEHOLDERS)


def test_an_error_nothing_can_hold_gives_up() -> None:
    error: ErrorDetails = {"type": "model_type", "loc": (), "msg": "not a map", "input": []}
    assert trim({"organization": ORGANIZATION}, [error], []) is None


def test_a_section_that_could_not_be_read_explains_only_its_own_absence() -> None:
    document: dict[str, Any] = {}
    (missing,) = [e for e in errors_of(document) if e["loc"] == ("organization",)]
    assert (True, False) == (
        lost_explains(missing, [("organization",)]),
        lost_explains(missing, [("purposes",)]),
    )
