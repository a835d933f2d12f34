"""The answer's language, sender and complaint route, decided from the request and the records."""

from __future__ import annotations

from typing import Any

import pytest

from personvern.connectors.port import Record
from personvern.domain.datamap import DataMap
from personvern.domain.findings import Severity
from personvern.domain.requests.answer_profile import (
    ControllerSource,
    LanguageSource,
    answer_profile_findings,
    decide_answer_profile,
    normalise_country,
    normalise_language,
)
from personvern.domain.requests.collected import CollectedDataset
from tests.unit.domain.sample_datamap import sample_datamap

ICO = {
    "name": "Information Commissioner's Office",
    "country": "GB",
    "url": "https://ico.org.uk",
    "rights_guidance_url": "https://ico.org.uk/for-the-public/",
}


def _with_markers(raw: dict[str, Any]) -> None:
    """The sample map with a UK entity, and the customer's language and country marked."""
    raw["organization"]["controllers"].append(
        {
            "key": "tk-uk",
            "name": "Testkonsern Ltd",
            "organization_number": "12345678",
            "address": "1 High Street, London",
            "country": "GB",
            "supervisory_authority": ICO,
        }
    )
    fields = raw["systems"][0]["datasets"][0]["fields"]
    # The customers' key is their customer number: a dataset of people.
    fields[0]["identity"] = "customer_id"
    fields += [
        {"name": "language", "subject_language": True},
        {"name": "country", "subject_country": True},
        # Found when someone else's text mentions the subject.
        {
            "name": "note",
            "category": "user.content.private",
            "purposes": ["contract"],
            "free_text": True,
        },
    ]


def _datamap(change: Any = None) -> DataMap:
    def edit(raw: dict[str, Any]) -> None:
        _with_markers(raw)
        if change is not None:
            change(raw)

    return sample_datamap(edit)


def _customer(language: object = None, country: object = None, *, mention: bool = False) -> Record:
    return Record(
        key=1,
        values={"id": 1, "email": "a@example.no", "language": language, "country": country},
        matched_fields=frozenset({"note"} if mention else {"email"}),
    )


def _found(*records: Record) -> list[CollectedDataset]:
    return [CollectedDataset("crm", "customers", records)]


@pytest.mark.parametrize(
    ("requested", "stored", "expected"),
    [
        ("en", "nb", ("en", LanguageSource.REQUESTED)),
        (None, "en", ("en", LanguageSource.SUBJECT_RECORD)),
        (None, "EN-gb", ("en", LanguageSource.SUBJECT_RECORD)),
        (None, "no", ("nb", LanguageSource.SUBJECT_RECORD)),
        ("de", "en", ("en", LanguageSource.SUBJECT_RECORD)),
        (None, "de", ("nb", LanguageSource.DEFAULT)),
        (None, None, ("nb", LanguageSource.DEFAULT)),
        (None, 42, ("nb", LanguageSource.DEFAULT)),
    ],
)
def test_the_language_is_the_requested_one_else_the_subjects_else_the_default(
    requested: str | None, stored: object, expected: tuple[str, LanguageSource]
) -> None:
    profile = decide_answer_profile(_datamap(), requested, _found(_customer(stored)))
    assert expected == (profile.language, profile.language_source)


def test_without_a_language_field_the_default_is_used() -> None:
    datamap = sample_datamap()
    profile = decide_answer_profile(datamap, None, _found(_customer("en")))
    assert ("nb", LanguageSource.DEFAULT) == (profile.language, profile.language_source)


def test_a_language_without_templates_is_not_chosen() -> None:
    profile = decide_answer_profile(_datamap(), "en", _found(_customer("en")), writable={"nb"})
    assert ("nb", LanguageSource.DEFAULT) == (profile.language, profile.language_source)


def test_a_record_that_only_mentions_the_subject_says_nothing_about_them() -> None:
    profile = decide_answer_profile(_datamap(), None, _found(_customer("en", "GB", mention=True)))
    assert ("nb", "tk-no") == (profile.language, profile.controller.key)


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("GB", ("tk-uk", ControllerSource.SUBJECT_COUNTRY, "Information Commissioner's Office")),
        ("uk", ("tk-uk", ControllerSource.SUBJECT_COUNTRY, "Information Commissioner's Office")),
        # The Swedish entity names no authority of its own: the organization's.
        ("SE", ("tk-se", ControllerSource.SUBJECT_COUNTRY, "Datatilsynet")),
        # No entity in the US: the controller of the system holding the customer record.
        ("US", ("tk-no", ControllerSource.PERSON_RECORD_SYSTEM, "Datatilsynet")),
        (None, ("tk-no", ControllerSource.PERSON_RECORD_SYSTEM, "Datatilsynet")),
    ],
)
def test_the_controller_is_the_subjects_countrys_else_the_person_records_system(
    country: str | None, expected: tuple[str, ControllerSource, str]
) -> None:
    profile = decide_answer_profile(_datamap(), None, _found(_customer("en", country)))
    assert expected == (
        profile.controller.key,
        profile.controller_source,
        profile.supervisory_authority.name,
    )


def test_the_system_of_the_person_record_decides_when_no_country_is_known() -> None:
    def swedish_crm(raw: dict[str, Any]) -> None:
        raw["systems"][0]["controller"] = "tk-se"

    profile = decide_answer_profile(_datamap(swedish_crm), None, _found(_customer()))
    assert ("tk-se", ControllerSource.PERSON_RECORD_SYSTEM) == (
        profile.controller.key,
        profile.controller_source,
    )


@pytest.mark.parametrize(
    "found",
    [
        [],
        [CollectedDataset("crm", "invoices", (Record(key=9, values={"id": 9, "amount": 1}),))],
    ],
    ids=["nothing found", "no person record"],
)
def test_otherwise_the_first_controller_answers(found: list[CollectedDataset]) -> None:
    def no_system_controller(raw: dict[str, Any]) -> None:
        del raw["systems"][0]["controller"]

    profile = decide_answer_profile(_datamap(no_system_controller), None, found)
    assert ("tk-no", ControllerSource.DEFAULT, "Datatilsynet") == (
        profile.controller.key,
        profile.controller_source,
        profile.supervisory_authority.name,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("en", "en"), (" NB ", "nb"), ("nb_NO", "nb"), ("no", "nb"), ("", None), (7, None)],
)
def test_language_values_are_read_as_stores_write_them(value: object, expected: str | None) -> None:
    assert expected == normalise_language(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("GB", "GB"), (" gb", "GB"), ("UK", "GB"), ("Norway", None), ("N0", None), (None, None)],
)
def test_country_values_are_read_as_stores_write_them(value: object, expected: str | None) -> None:
    assert expected == normalise_country(value)


def _messages(datamap: DataMap) -> list[tuple[tuple[str | int, ...], str, Severity]]:
    return [(f.path, f.message, f.severity) for f in answer_profile_findings(datamap)]


def test_the_sample_markers_are_valid() -> None:
    assert [] == _messages(_datamap())


def test_a_marker_on_free_text_or_twice_in_a_dataset_is_an_error() -> None:
    def misplaced(raw: dict[str, Any]) -> None:
        fields = raw["systems"][0]["datasets"][0]["fields"]
        fields[6]["subject_language"] = True  # "note", free text
        fields[1]["subject_country"] = True  # "email", a second country field

    path = ("systems", 0, "datasets", 0, "fields")
    assert [
        (
            (*path, 6, "subject_language"),
            "crm.customers marks both 'language' and 'note' as subject_language",
            Severity.ERROR,
        ),
        (
            (*path, 6, "subject_language"),
            "field crm.customers.note is free text, so it cannot hold a language code",
            Severity.ERROR,
        ),
        (
            (*path, 5, "subject_country"),
            "crm.customers marks both 'email' and 'country' as subject_country",
            Severity.ERROR,
        ),
    ] == _messages(_datamap(misplaced))


def test_a_marker_in_a_dataset_requests_never_read_is_an_error() -> None:
    def no_key(raw: dict[str, Any]) -> None:
        raw["systems"][0]["datasets"][0]["fields"][0]["primary_key"] = False

    assert [
        (
            ("systems", 0, "datasets", 0, "fields", 4, "subject_language"),
            "crm.customers has no primary_key, so requests never read subject_language "
            "field 'language'",
            Severity.ERROR,
        ),
        (
            ("systems", 0, "datasets", 0, "fields", 5, "subject_country"),
            "crm.customers has no primary_key, so requests never read subject_country "
            "field 'country'",
            Severity.ERROR,
        ),
    ] == _messages(_datamap(no_key))


def test_two_controllers_in_one_country_are_a_warning_when_countries_decide() -> None:
    def second_uk_entity(raw: dict[str, Any]) -> None:
        raw["organization"]["controllers"].append(
            {**raw["organization"]["controllers"][2], "key": "tk-uk2"}
        )

    assert [
        (
            ("organization", "controllers", 3, "country"),
            "controllers 'tk-uk' and 'tk-uk2' are both in GB: subjects there are always "
            "answered by 'tk-uk'",
            Severity.WARNING,
        )
    ] == _messages(_datamap(second_uk_entity))
