"""`check_datamap` on real files: every class of error, with its message and location."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from personvern.datamap.errors import DataMapInvalidError, DataMapNotFoundError
from personvern.datamap.loader import check_datamap, load_datamap
from personvern.datamap.source import LocatedFinding

TODAY = date(2026, 11, 25)


def findings_for(root: Path) -> list[LocatedFinding]:
    """All findings for the map at ``root``."""
    _datamap, _source, findings = check_datamap(root, today=TODAY)
    return findings


def only(findings: list[LocatedFinding], needle: str) -> LocatedFinding:
    """The single finding whose message contains ``needle``."""
    matching = [f for f in findings if needle in f.finding.message]
    assert len(matching) == 1, [f.render() for f in findings]
    return matching[0]


def replace_in(path: Path, old: str, new: str) -> None:
    """Edit a file of the copied data map, failing loudly if ``old`` is absent."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """1-based line number of the first line containing ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_example_company_is_valid(example_datamap_path: Path) -> None:
    datamap, source, findings = check_datamap(example_datamap_path, today=TODAY)
    assert [] == [f.render() for f in findings]
    assert datamap is not None
    assert 14 == len(source.files)


def test_unknown_category_suggests_the_close_key(example_datamap_copy: Path) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(
        crm,
        "category: user.contact.phone_number, purposes: [contract_administration, "
        "technical_support]",
        "category: user.contact.phone_nummer, purposes: "
        "[contract_administration, technical_support]",
    )
    problem = only(findings_for(example_datamap_copy), "unknown data category")
    assert "unknown data category 'user.contact.phone_nummer'" == problem.finding.message
    assert "did you mean 'user.contact.phone_number'?" == problem.finding.hint
    assert problem.location is not None
    assert (crm, line_of(crm, "phone_nummer")) == (problem.location.file, problem.location.line)


def test_duplicate_yaml_key_is_an_error_with_both_lines(example_datamap_copy: Path) -> None:
    purposes = example_datamap_copy / "purposes.yaml"
    replace_in(
        purposes,
        "    legal_basis: contract\n",
        "    legal_basis: contract\n    legal_basis: consent\n",
    )
    problem = only(findings_for(example_datamap_copy), "duplicate key")
    first = line_of(purposes, "legal_basis: contract")
    assert f"duplicate key 'legal_basis' (first defined at line {first})" == (
        problem.finding.message
    )
    assert problem.location is not None
    assert first + 1 == problem.location.line


def test_duplicate_purpose_key_is_an_error(example_datamap_copy: Path) -> None:
    extra = example_datamap_copy / "zz-more.yaml"
    extra.write_text(
        "purposes:\n"
        "  - key: bookkeeping\n"
        "    name: {nb: Bokføring, en: Bookkeeping}\n"
        "    description: {nb: Igjen, en: Again}\n"
        "    data_use: essential.legal_obligation\n"
        "    legal_basis: legal_obligation\n",
        encoding="utf-8",
    )
    problem = only(findings_for(example_datamap_copy), "duplicate purpose")
    assert "duplicate purpose 'bookkeeping'" == problem.finding.message
    assert problem.location is not None
    assert (extra, 2) == (problem.location.file, problem.location.line)


def test_reference_to_missing_table_and_field(example_datamap_copy: Path) -> None:
    billing = example_datamap_copy / "systems" / "billing.yaml"
    replace_in(billing, "references: crm.customers.id", "references: crm.kunder.id")
    replace_in(billing, "references: invoices.id", "references: invoices.ident")
    findings = findings_for(example_datamap_copy)
    table = only(findings, "crm.kunder")
    assert (
        "reference 'crm.kunder.id' points at dataset 'crm.kunder', which does not exist"
        == table.finding.message
    )
    assert table.location is not None
    assert line_of(billing, "crm.kunder") == table.location.line
    field = only(findings, "invoices.ident")
    assert (
        "reference 'invoices.ident' points at field 'ident', which billing.invoices does not have"
        == field.finding.message
    )


def test_system_without_env_var_name(example_datamap_copy: Path) -> None:
    support = example_datamap_copy / "systems" / "support.yaml"
    replace_in(support, "    connection_env: PERSONVERN_DEMO_SUPPORT_URL\n", "")
    problem = only(findings_for(example_datamap_copy), "has no connection_env")
    assert "system 'support' of kind postgresql has no connection_env" == problem.finding.message
    assert problem.finding.hint is not None
    assert "NAME_OF_AN_ENVIRONMENT_VARIABLE" in problem.finding.hint


def test_connection_string_instead_of_env_var_name(example_datamap_copy: Path) -> None:
    support = example_datamap_copy / "systems" / "support.yaml"
    replace_in(
        support,
        "connection_env: PERSONVERN_DEMO_SUPPORT_URL",
        "connection_env: postgresql://admin:hunter2@db/support",
    )
    problem = only(findings_for(example_datamap_copy), "connection_env must be")
    assert problem.finding.message.startswith(
        "connection_env must be the NAME of an environment variable"
    )
    assert problem.location is not None
    assert line_of(support, "hunter2") == problem.location.line


def test_purpose_without_legal_basis(example_datamap_copy: Path) -> None:
    purposes = example_datamap_copy / "purposes.yaml"
    replace_in(
        purposes,
        "    data_use: essential.service.operations.support\n    legal_basis: contract\n",
        "    data_use: essential.service.operations.support\n",
    )
    problem = only(findings_for(example_datamap_copy), "has no legal basis")
    assert "purpose 'technical_support' has no legal basis" == problem.finding.message
    assert problem.location is not None
    assert line_of(purposes, "key: technical_support") == problem.location.line


def test_consent_purpose_without_consent_wording(example_datamap_copy: Path) -> None:
    purposes = example_datamap_copy / "purposes.yaml"
    text = purposes.read_text(encoding="utf-8")
    start = text.index("    consent:\n      nb: Ja, jeg vil")
    end = text.index("  - key: marketing_existing_customers")
    purposes.write_text(text[:start] + text[end:], encoding="utf-8")
    problem = only(findings_for(example_datamap_copy), "rests on consent")
    assert problem.finding.message.startswith("purpose 'marketing_newsletter' rests on consent")


def test_category_serving_no_purpose(example_datamap_copy: Path) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(
        crm,
        "category: user.job_title, purposes: [contract_administration]}",
        "category: user.job_title}",
    )
    problem = only(findings_for(example_datamap_copy), "serves no purpose")
    assert (
        "field crm.designated_employees.job_title holds user.job_title but serves no purpose"
        == problem.finding.message
    )
    assert problem.location is not None
    assert line_of(crm, "name: job_title") == problem.location.line


def test_us_recipient_without_mechanism_fails(example_datamap_copy: Path) -> None:
    extra = example_datamap_copy / "us.yaml"
    extra.write_text(
        "recipients:\n"
        "  - key: us-crm-vendor\n"
        "    name: US CRM vendor\n"
        "    role: processor\n"
        "    country: US\n"
        "    purposes: [contract_administration]\n"
        "    categories: [user.contact.email]\n"
        "    recipient_category: {nb: CRM-leverandør, en: CRM vendor}\n",
        encoding="utf-8",
    )
    problem = only(findings_for(example_datamap_copy), "us-crm-vendor")
    assert problem.finding.message.startswith("transfer to recipient 'us-crm-vendor' is not lawful")
    assert problem.location is not None
    assert (extra, 5) == (problem.location.file, problem.location.line)


@pytest.mark.parametrize(
    ("transfer", "dpf", "lawful"),
    [
        ("adequacy", "false", False),
        ("adequacy", "true", True),
        ("scc_2021_module_2", "false", True),
    ],
)
def test_us_adequacy_needs_dpf_certification(
    example_datamap_copy: Path, transfer: str, dpf: str, lawful: bool
) -> None:
    (example_datamap_copy / "us.yaml").write_text(
        "recipients:\n"
        "  - key: us-vendor\n"
        "    name: US vendor\n"
        "    role: processor\n"
        "    country: US\n"
        f"    transfer: {transfer}\n"
        f"    dpf_certified: {dpf}\n"
        "    purposes: [contract_administration]\n"
        "    categories: [user.contact.email]\n"
        "    recipient_category: {nb: Leverandør, en: Vendor}\n",
        encoding="utf-8",
    )
    problems = [f for f in findings_for(example_datamap_copy) if "us-vendor" in f.finding.message]
    assert lawful == (problems == [])


def test_special_category_without_art9_condition(example_datamap_copy: Path) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(
        crm,
        "category: user.job_title,",
        "category: user.health_and_medical,",
    )
    problem = only(findings_for(example_datamap_copy), "special category")
    assert (
        "crm.designated_employees.job_title holds user.health_and_medical, a special category "
        "(Art. 9), but purpose 'contract_administration' has no Art. 9 condition"
        == problem.finding.message
    )


def test_national_id_without_need_is_a_warning(example_datamap_copy: Path) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    text = crm.read_text(encoding="utf-8")
    start = text.index("            need:\n")
    end = text.index("          - {name: contract_start")
    crm.write_text(text[:start] + text[end:], encoding="utf-8")
    datamap, _source, findings = check_datamap(example_datamap_copy, today=TODAY)
    problem = only(findings, "national identity number")
    assert "warning" == problem.finding.severity
    assert "personopplysningsloven § 12" in (problem.finding.hint or "")
    assert datamap is not None, "a warning alone keeps the map usable"


def test_category_without_retention_rule_is_a_warning(example_datamap_copy: Path) -> None:
    retention = example_datamap_copy / "retention.yaml"
    text = retention.read_text(encoding="utf-8")
    start = text.index("  - key: support-tickets")
    end = text.index("  - key: web-events")
    retention.write_text(text[:start] + text[end:], encoding="utf-8")
    findings = findings_for(example_datamap_copy)
    messages = sorted(f.finding.message for f in findings)
    assert [
        "user.contact.email in support.tickets has no retention rule",
        "user.content.private in support.tickets has no retention rule",
    ] == messages
    assert all(f.finding.severity == "warning" for f in findings)


def test_malformed_yaml_gives_location_not_traceback(example_datamap_copy: Path) -> None:
    purposes = example_datamap_copy / "purposes.yaml"
    replace_in(purposes, "  - key: bookkeeping\n", "  - key: [bookkeeping\n")
    findings = findings_for(example_datamap_copy)
    assert 1 == len(findings)
    assert findings[0].finding.message.startswith("invalid YAML")
    assert findings[0].location is not None
    assert purposes == findings[0].location.file


def test_wrong_type_is_reported_at_its_key(example_datamap_copy: Path) -> None:
    purposes = example_datamap_copy / "purposes.yaml"
    replace_in(
        purposes,
        "    legal_basis: legal_obligation\n    legal_reference: bokføringsloven",
        "    legal_basis: [legal_obligation]\n    legal_reference: bokføringsloven",
    )
    problem = only(findings_for(example_datamap_copy), "legal_basis")
    assert problem.location is not None
    assert line_of(purposes, "legal_basis: [legal_obligation]") == problem.location.line


def test_unknown_key_suggests_the_right_one(example_datamap_copy: Path) -> None:
    purposes = example_datamap_copy / "purposes.yaml"
    replace_in(purposes, "    legal_basis: contract\n", "    legal_basys: contract\n")
    problem = only(findings_for(example_datamap_copy), "unknown key")
    assert "unknown key 'legal_basys'" == problem.finding.message
    assert "did you mean 'legal_basis'?" == problem.finding.hint


def test_norway_unquoted_stays_norway(tmp_path: Path, example_datamap_copy: Path) -> None:
    recipients = example_datamap_copy / "recipients.yaml"
    replace_in(recipients, 'country: "NO"', "country: NO")
    assert [] == findings_for(example_datamap_copy)


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataMapNotFoundError, match="no such file or folder"):
        check_datamap(tmp_path / "nowhere.yaml")


def test_load_raises_with_every_problem(example_datamap_copy: Path) -> None:
    support = example_datamap_copy / "systems" / "support.yaml"
    replace_in(support, "    connection_env: PERSONVERN_DEMO_SUPPORT_URL\n", "")
    replace_in(support, "purposes: [technical_support]}", "purposes: [tech_support]}")
    with pytest.raises(DataMapInvalidError) as raised:
        load_datamap(example_datamap_copy, today=TODAY)
    assert 2 == len([p for p in raised.value.problems if p.finding.is_error])
    assert "(and 1 more)" in str(raised.value)


def test_single_file_map(tmp_path: Path) -> None:
    single = tmp_path / "personvern.yaml"
    single.write_text(
        "organization:\n"
        "  name: Lite AS\n"
        "  languages: [nb]\n"
        "  controllers:\n"
        "    - {key: lite, name: Lite AS, organization_number: '923456783', address: Oslo, "
        "country: NO}\n"
        "  contact: {name: Kari, email: kari@lite.example}\n"
        "  supervisory_authority: {name: Datatilsynet, country: NO, url: "
        "https://www.datatilsynet.no}\n",
        encoding="utf-8",
    )
    datamap, _source, findings = check_datamap(single, today=TODAY)
    assert [] == findings
    assert datamap is not None
    assert "NO" == datamap.organization.controllers[0].country


_BELONGS_TO = (
    "belongs_to: {field: customer_id, erased_with_it: false, shown_to_it: [name, job_title]}"
)


def test_belongs_to_names_a_field_of_the_dataset(example_datamap_copy: Path) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(crm, _BELONGS_TO, "belongs_to: {field: customer, shown_to_it: [name, job_titel]}")

    findings = findings_for(example_datamap_copy)

    missing = only(findings, "belongs_to field 'customer' is not a field")
    assert "crm.designated_employees" in missing.finding.message
    assert "did you mean 'customer_id'?" == missing.finding.hint
    assert (crm, line_of(crm, "belongs_to: {field: customer,")) == (
        missing.location.file,
        missing.location.line,
    )
    shown = only(findings, "shown_to_it field 'job_titel' is not a field")
    assert "did you mean 'job_title'?" == shown.finding.hint
    assert load_fails(example_datamap_copy)


def test_belongs_to_field_must_reference_the_person_they_belong_to(
    example_datamap_copy: Path,
) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(crm, _BELONGS_TO, "belongs_to: {field: name}")

    problem = only(findings_for(example_datamap_copy), "references nothing")

    assert (
        "belongs_to field crm.designated_employees.name references nothing: it must point "
        "at the person the records belong to"
    ) == problem.finding.message
    assert problem.finding.is_error


def test_belongs_to_is_for_persons_belonging_to_persons(example_datamap_copy: Path) -> None:
    # Invoice lines are no persons, and neither are the invoices they point at.
    billing = example_datamap_copy / "systems" / "billing.yaml"
    replace_in(
        billing,
        "        label: {nb: Fakturalinjer, en: Invoice lines}\n",
        "        label: {nb: Fakturalinjer, en: Invoice lines}\n"
        "        belongs_to: {field: invoice_id, erased_with_it: true}\n",
    )

    findings = findings_for(example_datamap_copy)

    assert only(findings, "billing.invoice_lines declares belongs_to, but its records are not")
    target = only(findings, "references billing.invoices, whose records are not persons")
    assert target.finding.is_error


def test_showing_a_contacts_identity_to_the_customer_is_a_warning(
    example_datamap_copy: Path,
) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(crm, _BELONGS_TO, "belongs_to: {field: customer_id, shown_to_it: [name, email]}")

    datamap, _source, findings = check_datamap(example_datamap_copy, today=TODAY)

    problem = only(findings, "shown_to_it shows crm.designated_employees.email (email)")
    assert "warning" == problem.finding.severity
    assert datamap is not None


def load_fails(root: Path) -> bool:
    """Whether loading the map at ``root`` refuses it."""
    with pytest.raises(DataMapInvalidError):
        load_datamap(root, today=TODAY)
    return True
