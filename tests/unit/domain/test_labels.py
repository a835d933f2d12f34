"""Labels of systems, datasets and fields for subjects, with the fallbacks a person can read."""

from __future__ import annotations

from typing import Any

import pytest

from personvern.domain.datamap import DataMap
from personvern.domain.localized_names import (
    dataset_label,
    field_label,
    humanise,
    label_findings,
    system_label,
)
from personvern.domain.taxonomy import fides_taxonomy
from tests.unit.domain.sample_datamap import sample_datamap


def _labelled(raw: dict[str, Any]) -> None:
    crm = raw["systems"][0]
    crm["label"] = {"nb": "Kunderegister", "en": "Customer register"}
    crm["datasets"][0]["label"] = {"nb": "Kundeopplysninger", "en": "Customer details"}
    crm["datasets"][0]["fields"][1]["label"] = {"nb": "E-post til deg", "en": "Your e-mail"}


def _customers(datamap: DataMap) -> Any:
    return datamap.systems[0].datasets[0]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nb", ("Kunderegister", "Kundeopplysninger", "E-post til deg")),
        ("en", ("Customer register", "Customer details", "Your e-mail")),
    ],
)
def test_labels_are_used_in_the_subjects_language(
    lang: str, expected: tuple[str, str, str]
) -> None:
    datamap = sample_datamap(_labelled)
    customers = _customers(datamap)
    email = customers.fields[1]
    assert expected == (
        system_label(datamap.systems[0], lang),
        dataset_label(customers, lang),
        field_label(datamap, fides_taxonomy(), email, lang),
    )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        # The system's name, the dataset's name in words, the field's data category.
        ("nb", ("CRM", "Customers", "IP-adresse", "Id")),
        ("en", ("CRM", "Customers", "IP address", "Id")),
    ],
)
def test_without_labels_the_fallbacks_are_readable(
    lang: str, expected: tuple[str, str, str, str]
) -> None:
    datamap = sample_datamap()
    customers = _customers(datamap)
    ip, key = customers.fields[3], customers.fields[0]
    assert expected == (
        system_label(datamap.systems[0], lang),
        dataset_label(customers, lang),
        field_label(datamap, fides_taxonomy(), ip, lang),
        field_label(datamap, fides_taxonomy(), key, lang),
    )


def test_identifiers_become_words() -> None:
    assert ["Invoice lines", "Contact name", "Web events"] == [
        humanise(name) for name in ("invoice_lines", "contact_name", "web-events")
    ]


def test_an_empty_label_and_value_words_lacking_a_language_are_errors() -> None:
    def broken(raw: dict[str, Any]) -> None:
        raw["systems"][0]["datasets"][0]["label"] = {}
        raw["systems"][0]["datasets"][0]["fields"][1]["value_labels"] = {
            "inbound": {"nb": "Du ringte oss"}
        }

    found = [(f.path, f.message) for f in label_findings(sample_datamap(broken))]
    assert [
        (
            ("systems", 0, "datasets", 0, "label"),
            "the label of dataset crm.customers has no text",
        ),
        (
            ("systems", 0, "datasets", 0, "fields", 1, "value_labels", "inbound"),
            "the words for value 'inbound' of field crm.customers.email lack the language(s) en",
        ),
    ] == found
