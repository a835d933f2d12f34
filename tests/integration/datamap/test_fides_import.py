"""Importing a Fides dataset file yields systems that `check` understands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from personvern.datamap.errors import DataMapError
from personvern.datamap.fides_import import import_fides_dataset
from personvern.datamap.loader import check_datamap

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "fides_dataset.yml"

ORGANIZATION = """\
organization:
  name: Shop AS
  languages: [en]
  controllers:
    - {key: shop, name: Shop AS, organization_number: '923456783', address: Oslo, country: NO}
  contact: {name: Privacy, email: privacy@shop.example}
  supervisory_authority: {name: Datatilsynet, country: NO, url: https://www.datatilsynet.no}
subjects:
  - key: customer
    name: {en: Customer}
purposes:
  - key: shop
    name: {en: Selling}
    description: {en: Selling things}
    data_use: essential.service
    legal_basis: contract
retention:
  - key: all
    category: user
    trigger: contract_end
    period: P3Y
    description: {en: Three years after the last order}
"""


def test_import_converts_fields_identities_and_references() -> None:
    converted = import_fides_dataset(FIXTURE)
    (system,) = converted.systems
    assert "shop_db" == system["key"]
    assert "PERSONVERN_SHOP_DB_URL" == system["connection_env"]
    customer, orders, cards = system["datasets"]
    assert {
        "name": "email",
        "category": "user.contact.email",
        "purposes": [],
        "identity": "email",
    } == customer["fields"][1]
    assert "customer.id" == orders["fields"][1]["references"]
    # `direction: to` on payment_card.id means orders.id is reached from it.
    assert "payment_card.id" == orders["fields"][0]["references"]
    assert "id" == cards["fields"][0]["name"]
    assert [
        "shop_db.customer.address has nested fields, which are not imported",
        "shop_db.orders.shipping_phone had several categories; kept user.contact.phone_number",
        "shop_db: subjects default to [customer]; adjust per dataset",
    ] == converted.notes


def test_imported_systems_check_once_purposes_are_filled_in(tmp_path: Path) -> None:
    (tmp_path / "organization.yaml").write_text(ORGANIZATION, encoding="utf-8")
    imported = import_fides_dataset(FIXTURE).to_yaml()
    (tmp_path / "shop.yaml").write_text(imported, encoding="utf-8")

    _datamap, _source, findings = check_datamap(tmp_path, today=date(2026, 11, 25))
    assert 7 == len([f for f in findings if "serves no purpose" in f.finding.message])

    (tmp_path / "shop.yaml").write_text(
        imported.replace("purposes: []", "purposes: [shop]"), encoding="utf-8"
    )
    datamap, _source, findings = check_datamap(tmp_path, today=date(2026, 11, 25))
    assert [] == [f.render() for f in findings]
    assert datamap is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("dataset: [{name: no key}]\n", "fides_key: field required"),
        ("just text\n", "not a Fides dataset file"),
        ("dataset:\n  - fides_key: a\n    collections: [\n", "invalid YAML"),
    ],
)
def test_bad_fides_files_give_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DataMapError, match=message.replace("(", r"\(")):
        import_fides_dataset(bad)
