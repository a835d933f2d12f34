"""`check_datamap` reports every problem of a map at once, and nothing its trimming causes.

An item the schema refuses is set aside and the later checks run on the rest (see
personvern.datamap.staged). The example map refers to most of its items from elsewhere,
so each break below would, were the consequences of setting it aside not hidden, bring
findings in other files: references to a field or purpose no longer there, a restriction
without its primary key, categories without retention.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from personvern.datamap.loader import check_datamap
from personvern.datamap.source import LocatedFinding, Location
from tests.integration.datamap.broken_map import break_in_ten_places
from tests.integration.datamap.test_check import line_of, replace_in

TODAY = date(2026, 11, 25)


def where(finding: LocatedFinding) -> Location:
    """The finding's location, which every finding has."""
    assert finding.location is not None, finding.render()
    return finding.location


def reported(root: Path) -> list[tuple[Path, int, str]]:
    """(file, line, 'severity: message') of each finding, in the order reported."""
    datamap, _source, findings = check_datamap(root, today=TODAY)
    assert datamap is None
    return [
        (where(f).file, where(f).line, f"{f.finding.severity}: {f.finding.message}")
        for f in findings
    ]


def test_ten_independent_errors_are_reported_at_once_in_file_order(
    example_datamap_copy: Path,
) -> None:
    expected = break_in_ten_places(example_datamap_copy)
    assert [(e.file, e.line, e.text) for e in expected] == reported(example_datamap_copy)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        pytest.param(
            "systems/crm.yaml",
            "- {name: id, label: {nb: Kundenummer",
            "- {name: id, erasure: shred, label: {nb: Kundenummer",
            "error: 'shred' is not allowed for erasure",
            id="a field others reference, the dataset's primary key",
        ),
        pytest.param(
            "systems/crm.yaml",
            "- {name: id, label: {nb: Kundenummer",
            "- {name: Kunde-ID, label: {nb: Kundenummer",
            "error: names of tables and fields may use letters, digits and '_' only "
            "(got 'Kunde-ID')",
            id="a field whose name cannot be read",
        ),
        pytest.param(
            "systems/crm.yaml",
            "        restriction: {field: restricted_at}\n",
            "        restriction: {field: restricted_at}\n        owner: sales\n",
            "error: unknown key 'owner'",
            id="a dataset others reference",
        ),
        pytest.param(
            "systems/crm.yaml",
            "    kind: postgresql\n",
            "    kind: mainframe\n",
            "error: 'mainframe' is not allowed for kind",
            id="a system others reference",
        ),
        pytest.param(
            "systems/marketing.yaml",
            "purposes: [marketing_newsletter, marketing_existing_customers]}",
            "purposes: [marketing_newsletter, marketing_existing_customers], erasure: shred}",
            "error: 'shred' is not allowed for erasure",
            id="the only field serving a purpose",
        ),
        pytest.param(
            "systems/web.yaml",
            "        category: analytics\n",
            "        category: statistics\n",
            "error: 'statistics' is not allowed for category",
            id="a cookie serving a purpose",
        ),
        pytest.param(
            "purposes.yaml",
            "  - key: contract_administration\n",
            "  - key: contract_administration\n    owner: sales\n",
            "error: unknown key 'owner'",
            id="a purpose fields, recipients and cookies serve",
        ),
        pytest.param(
            "purposes.yaml",
            "  - key: contract_administration\n",
            "  - key: Contract administration\n",
            "error: keys may use lower-case letters, digits, '_', '-' and '.' only "
            "(got 'Contract administration')",
            id="a purpose whose key cannot be read",
        ),
        pytest.param(
            "organization.yaml",
            '      address: Dronning Eufemias gate 16, 0191 Oslo\n      country: "NO"\n',
            "      address: Dronning Eufemias gate 16, 0191 Oslo\n      country: Norway\n",
            "error: country must be an ISO 3166-1 alpha-2 code in capitals, e.g. NO, SE, US "
            "(got 'Norway')",
            id="a controller systems name",
        ),
        pytest.param(
            "organization.yaml",
            "    name: {nb: Kunde, en: Customer}\n",
            "    name: Kunde\n",
            "error: name: input should be a valid dictionary (got str 'Kunde')",
            id="a subject datasets name",
        ),
        pytest.param(
            "organization.yaml",
            "      parent: user.account\n",
            "      parent: [user.account]\n",
            "error: parent: input should be a valid string",
            id="a custom category fields use",
        ),
        pytest.param(
            "retention.yaml",
            "    trigger: contract_end\n",
            "    trigger: whenever\n",
            "error: 'whenever' is not allowed for trigger",
            id="a retention rule covering fields",
        ),
        pytest.param(
            "organization.yaml",
            "  languages: [nb, en]\n",
            "  languages: [nb, EN]\n",
            "error: languages has an invalid form (got 'EN')",
            id="a language every text is checked against",
        ),
        pytest.param(
            "organization.yaml",
            "  contact:\n    name: Your usual contact person, or the privacy team\n",
            "  contact:\n",
            "error: missing required key 'name'",
            id="a required key of the organization",
        ),
    ],
)
def test_what_setting_an_item_aside_causes_is_not_reported(
    example_datamap_copy: Path, file: str, old: str, new: str, message: str
) -> None:
    replace_in(example_datamap_copy / file, old, new)
    findings = reported(example_datamap_copy)
    assert 1 == len(findings), findings
    assert findings[0][2].startswith(message), findings
    assert example_datamap_copy / file == findings[0][0]


def test_an_unreadable_organization_file_hides_what_it_declares(
    example_datamap_copy: Path,
) -> None:
    organization = example_datamap_copy / "organization.yaml"
    replace_in(organization, "  name: Nordic Workspace Group\n", "  name: [Nordic Workspace\n")
    findings = reported(example_datamap_copy)
    assert [organization] == [file for file, _line, _text in findings], findings
    assert findings[0][2].startswith("error: invalid YAML"), findings


def test_what_the_unreadable_file_cannot_declare_is_still_checked(
    example_datamap_copy: Path,
) -> None:
    recipients = example_datamap_copy / "recipients.yaml"
    replace_in(recipients, "  - key: nws-se\n", "  - key: [nws-se\n")
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(
        crm, "purposes: [contract_administration, technical_support]}", "purposes: [support]}"
    )
    assert [
        (recipients, line_of(recipients, "[nws-se") + 1),
        (crm, line_of(crm, "purposes: [support]}")),
    ] == [(file, line) for file, line, _text in reported(example_datamap_copy)]


def test_findings_after_items_set_aside_keep_their_lines(example_datamap_copy: Path) -> None:
    # access_control is the map's first system and crm.customers.id its dataset's first
    # field: every later system, and every later field there, moves up in the rest.
    access = example_datamap_copy / "systems" / "access_control.yaml"
    replace_in(access, "    kind: postgresql\n", "    kind: mainframe\n")
    crm = example_datamap_copy / "systems" / "crm.yaml"
    replace_in(
        crm,
        "- {name: id, label: {nb: Kundenummer",
        "- {name: id, erasure: shred, label: {nb: Kundenummer",
    )
    replace_in(
        crm,
        "category: user.contact.phone_number, purposes:",
        "category: user.contact.phone_nummer, purposes:",
    )
    assert [
        (access, line_of(access, "mainframe"), "error: 'mainframe' is not allowed for kind"),
        (crm, line_of(crm, "shred"), "error: 'shred' is not allowed for erasure"),
        (
            crm,
            line_of(crm, "phone_nummer"),
            "error: unknown data category 'user.contact.phone_nummer'",
        ),
    ] == reported(example_datamap_copy)
