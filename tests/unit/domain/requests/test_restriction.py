"""The data map's ``restriction`` declaration: which fields may carry a restriction mark."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from personvern.domain.datamap import RestrictionMark
from personvern.domain.requests.restriction import (
    is_restricted,
    restriction_findings,
    restriction_value,
)
from tests.unit.domain.sample_datamap import sample_datamap

CUSTOMERS = ("systems", 0, "datasets", 0, "restriction", "field")


def _restricting(field: str, *, extra: dict[str, Any] | None = None, key: bool = True) -> Any:
    """An edit giving crm.customers ``restriction: {field: ...}`` (and a field, if given)."""

    def change(raw: dict[str, Any]) -> None:
        dataset = raw["systems"][0]["datasets"][0]
        if extra is not None:
            dataset["fields"].append(extra)
        if not key:
            dataset["fields"][0]["primary_key"] = False
        dataset["restriction"] = {"field": field}

    return change


def _findings(change: Any) -> list[tuple[tuple[str | int, ...], str]]:
    return [(f.path, f.message) for f in restriction_findings(sample_datamap(change))]


def test_a_timestamp_column_of_its_own_is_accepted() -> None:
    assert [] == _findings(_restricting("restricted_at", extra={"name": "restricted_at"}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _restricting("restricted"),
            "restriction field 'restricted' is not a field of crm.customers",
        ),
        (
            _restricting("id"),
            "restriction field crm.customers.id is a key: setting it would break the record "
            "or the records that refer to it",
        ),
        (
            _restricting("account", extra={"name": "account", "references": "invoices.id"}),
            "restriction field crm.customers.account is a key: setting it would break the "
            "record or the records that refer to it",
        ),
        (
            _restricting("email"),
            "restriction field crm.customers.email holds the subject's email: setting it "
            "would lose how the subject is found",
        ),
        (
            _restricting("notes", extra={"name": "notes", "free_text": True}),
            "restriction field crm.customers.notes is free text: setting it would overwrite "
            "what someone wrote",
        ),
        (
            _restricting("restricted_at", extra={"name": "restricted_at"}, key=False),
            "crm.customers has no primary_key, so requests never find its records to restrict them",
        ),
    ],
)
def test_a_field_that_cannot_carry_the_mark_is_refused_where_it_is_named(
    change: Any, message: str
) -> None:
    assert [(CUSTOMERS, message)] == _findings(change)


def test_a_misspelt_field_gets_a_suggestion() -> None:
    change = _restricting("restricted_att", extra={"name": "restricted_at"})
    (finding,) = restriction_findings(sample_datamap(change))
    assert "did you mean 'restricted_at'?" == finding.hint


AT = datetime(2026, 12, 3, 9, 30)


@pytest.mark.parametrize(
    ("mark", "expected"), [(RestrictionMark.TIMESTAMP, AT), (RestrictionMark.FLAG, True)]
)
def test_the_field_is_set_to_the_time_or_true(mark: RestrictionMark, expected: object) -> None:
    assert expected == restriction_value(mark, AT)


@pytest.mark.parametrize(
    ("value", "mark", "expected"),
    [
        (None, "timestamp", False),
        ("", "timestamp", False),
        (AT, "timestamp", True),
        ("2026-12-03T09:30:00", "timestamp", True),
        (None, "flag", False),
        (False, "flag", False),
        (0, "flag", False),
        ("false", "flag", False),
        (True, "flag", True),
        (1, "flag", True),
        ("t", "flag", True),
    ],
)
def test_a_record_marked_already_is_recognised(value: object, mark: str, expected: bool) -> None:
    assert expected == is_restricted(value, mark)
