"""What the map says about answers (labels, language, country, authorities), checked with places."""

from __future__ import annotations

from pathlib import Path

from personvern.datamap.loader import load_datamap
from tests.integration.datamap.test_check import findings_for, line_of, only, replace_in


def test_the_example_declares_language_country_and_the_uk_authority(
    example_datamap_path: Path,
) -> None:
    datamap = load_datamap(example_datamap_path).datamap
    customers = datamap.systems[[s.key for s in datamap.systems].index("crm")].datasets[0]
    uk = datamap.controller("nws-uk")
    assert uk is not None
    assert uk.supervisory_authority is not None
    assert (
        ["preferred_language"],
        ["country"],
        "Information Commissioner's Office (ICO)",
    ) == (
        [f.name for f in customers.fields if f.subject_language],
        [f.name for f in customers.fields if f.subject_country],
        uk.supervisory_authority.name,
    )


def test_a_language_marker_on_free_text_is_an_error_at_its_line(
    example_datamap_copy: Path,
) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(
        crm,
        "purposes: [contract_administration], free_text: true}",
        "purposes: [contract_administration], free_text: true, subject_language: true}",
    )
    problem = only(findings_for(example_datamap_copy), "free text")
    assert (
        "field crm.prospects.notes is free text, so it cannot hold a language code",
        crm,
        line_of(crm, "subject_language: true}"),
    ) == (problem.finding.message, *_where(problem))


def test_a_misspelt_marker_is_refused_with_the_right_spelling(example_datamap_copy: Path) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(crm, "subject_country: true", "subject_contry: true")
    problem = only(findings_for(example_datamap_copy), "unknown key")
    assert (
        "unknown key 'subject_contry'",
        "did you mean 'subject_country'?",
        crm,
        line_of(crm, "subject_contry"),
    ) == (problem.finding.message, problem.finding.hint, *_where(problem))


def test_a_controllers_authority_needs_its_url(example_datamap_copy: Path) -> None:
    organization = example_datamap_copy / "organization.yaml"
    replace_in(organization, "        url: https://ico.org.uk\n", "")
    problem = only(findings_for(example_datamap_copy), "missing required key")
    assert ("missing required key 'url'", organization) == (
        problem.finding.message,
        _where(problem)[0],
    )
    # Pointed at the UK entity's authority, not the organization's.
    assert _where(problem)[1] >= line_of(organization, "key: nws-uk")


def test_an_empty_label_is_an_error_at_its_line(example_datamap_copy: Path) -> None:
    billing = example_datamap_copy / "systems" / "billing.yaml"
    replace_in(billing, "label: {nb: Fakturaer, en: Invoices}", "label: {}")
    problem = only(findings_for(example_datamap_copy), "has no text")
    assert (
        "the label of dataset billing.invoices has no text",
        billing,
        line_of(billing, "label: {}"),
    ) == (problem.finding.message, *_where(problem))


def test_a_label_lacking_a_language_is_an_error_at_its_line(example_datamap_copy: Path) -> None:
    telephony = example_datamap_copy / "systems" / "telephony.yaml"
    replace_in(
        telephony,
        "inbound: {nb: Du ringte oss, en: You called us}",
        "inbound: {nb: Du ringte oss}",
    )
    problem = only(findings_for(example_datamap_copy), "lack the language")
    assert (
        "the words for value 'inbound' of field telephony.call_recordings.direction lack "
        "the language(s) en",
        telephony,
        line_of(telephony, "inbound: {nb: Du ringte oss}"),
    ) == (problem.finding.message, *_where(problem))


def _where(problem: object) -> tuple[Path, int]:
    location = getattr(problem, "location", None)
    assert location is not None
    return location.file, location.line
