"""Importing Fides dataset files yields systems that `check` understands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from personvern.datamap.errors import DataMapError
from personvern.datamap.fides_import import import_fides_dataset
from personvern.datamap.loader import check_datamap
from tests.integration.datamap.fides_import_support import (
    FIXTURES,
    ORGANIZATION,
    check_import,
    identities,
    primary_keys,
    references,
)

FIXTURE = FIXTURES / "fides_dataset.yml"


def write(folder: Path, name: str, text: str) -> Path:
    """Write a Fides file into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


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
        "shop_db: subjects default to [customer]; adjust per dataset",
        "shop_db.customer.address: several data categories (user.contact.address, "
        "user.contact.address.street); personvern keeps one per field: kept "
        "user.contact.address",
        "shop_db.customer.address: its nested fields (street) are kept inside the one field "
        "'address' (personvern's connectors read top-level fields only)",
        "shop_db.orders: no primary key; personvern searches a dataset by its primary key: "
        "mark one with primary_key: true",
        "shop_db.orders.shipping_phone: several data categories (user.contact.phone_number, "
        "user.contact); personvern keeps one per field: kept user.contact.phone_number",
        "shop_db.payment_card: no primary key; personvern searches a dataset by its primary "
        "key: mark one with primary_key: true",
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
    "name",
    [
        "postgres_shop.yml",
        "mongo_customer_details.yml",
        "saas_newsletter.yml",
        "erasure_hints.yml",
        "odd_names.yml",
        "project",
    ],
)
def test_every_corpus_import_checks_clean_once_purposes_are_filled_in(
    tmp_path: Path, name: str
) -> None:
    imported = import_fides_dataset(FIXTURES / "fides" / name).to_yaml()
    (tmp_path / "organization.yaml").write_text(ORGANIZATION, encoding="utf-8")
    (tmp_path / "imported.yaml").write_text(
        imported.replace("purposes: []", "purposes: [shop]"), encoding="utf-8"
    )

    _datamap, _source, findings = check_datamap(tmp_path, today=date(2026, 11, 25))

    assert [] == [f.render() for f in findings]


def test_fidesops_meta_is_read_like_fides_meta_and_nulls_like_empty_lists(
    tmp_path: Path,
) -> None:
    dataset = write(
        tmp_path,
        "saas.yml",
        """\
dataset:
  - fides_key: vendor
    data_categories: [user.contact]
    data_subjects: null
    collections:
      - name: contact
        data_categories: null
        fidesops_meta: {skip_processing: true}
        fields:
          - name: id
            data_categories: null
            fidesops_meta: {primary_key: true, references: null}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {}
            fidesops_meta: {identity: email}
          - name: phone
            data_categories: [user.contact.phone_number]
            fides_meta: {identity: phone_number}
            fidesops_meta: {identity: email}
          - name: tags
            fields: null
            fides_meta: null
""",
    )

    converted = import_fides_dataset(dataset)

    assert [] == check_import(tmp_path / "map", converted)
    assert {"vendor.contact.id"} == primary_keys(converted)
    # As in fideslang, a non-empty fides_meta wins over fidesops_meta.
    assert {
        ("vendor.contact.email", "email"),
        ("vendor.contact.phone", "phone_number"),
    } == identities(converted)
    assert [
        "vendor: the dataset's data_categories [user.contact] are not copied to its fields; "
        "give each field that holds personal data its own category",
        "vendor: subjects default to [customer]; adjust per dataset",
        "vendor.contact: Fides skips this collection (skip_processing), personvern does not: "
        "requests search it by its primary key; remove the dataset if they must not",
    ] == converted.notes


def test_references_that_cannot_be_carried_are_dropped_with_the_reason(tmp_path: Path) -> None:
    project = tmp_path / "project"
    body = """\
    collections:
      - name: person
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
"""
    write(project, "a.yml", "dataset:\n  - fides_key: twin\n" + body)
    write(project, "b.yml", "dataset:\n  - fides_key: twin\n" + body)
    write(
        project,
        "c.yml",
        """\
dataset:
  - fides_key: shop
    collections:
      - name: archive
        fields: null
      - name: orders
        fields:
          - name: id
            fides_meta: {primary_key: true}
          - name: buyer
            fides_meta:
              references:
                - {dataset: twin, field: person.id, direction: from}
                - {dataset: shop, field: nowhere.id}
                - {dataset: shop, field: orders.missing}
                - {dataset: shop, field: archive.id}
                - {dataset: shop, field: orders}
""",
    )

    converted = import_fides_dataset(project)

    assert [] == check_import(tmp_path / "map", converted)
    assert ["twin", "twin_2", "shop"] == [s["key"] for s in converted.systems]
    assert set() == references(converted)
    dropped = "shop.orders.buyer: reference to"
    assert [
        "twin: subjects default to [customer]; adjust per dataset",
        "twin_2: fides_key 'twin' gives the system key 'twin', which another dataset of the "
        "project has; imported as 'twin_2'",
        "twin_2: subjects default to [customer]; adjust per dataset",
        "shop: subjects default to [customer]; adjust per dataset",
        "shop.archive: has no fields; not imported (a personvern dataset needs at least one field)",
        "shop.orders: requests never reach it: no field is an identity and none references a "
        "dataset they reach; mark the field holding the subject's e-mail or customer number "
        "with identity, or add a reference",
        f"{dropped} twin.person.id dropped: several imported datasets have fides_key 'twin'",
        f"{dropped} shop.nowhere.id dropped: shop has no collection 'nowhere'",
        f"{dropped} shop.orders.missing dropped: collection 'orders' has no field 'missing'",
        f"{dropped} shop.archive.id dropped: collection 'archive' has no fields and is not "
        "imported",
        f"{dropped} shop.orders dropped: a reference names collection.field",
    ] == converted.notes


def test_a_composite_primary_key_and_an_unknown_identity_are_noted(tmp_path: Path) -> None:
    dataset = write(
        tmp_path,
        "links.yml",
        """\
dataset:
  - fides_key: links
    collections:
      - name: member_group
        fields:
          - {name: member_id, fides_meta: {primary_key: true, identity: email}}
          - {name: group_id, fides_meta: {primary_key: true}}
          - {name: badge, data_categories: [user.unique_id], fides_meta: {identity: badge_no}}
          - {name: device, data_categories: [user.device.cookie_id],
             fides_meta: {identity: fides_user_device_id}}
          - {name: Notes, data_categories: [User.Notes, user.content.private]}
""",
    )

    converted = import_fides_dataset(dataset)

    assert [] == check_import(tmp_path / "map", converted)
    assert {
        ("links.member_group.member_id", "email"),
        ("links.member_group.device", "cookie_id"),
    } == identities(converted)
    assert [
        "links: subjects default to [customer]; adjust per dataset",
        "links.member_group: primary keys member_id, group_id; personvern identifies a record "
        "by its first primary key field, member_id, so records sharing one are handled as one "
        "record",
        "links.member_group.badge: identity 'badge_no' has no personvern equivalent; requests "
        "do not search this field",
        "links.member_group.Notes: data category 'User.Notes' is not a key personvern accepts "
        "(lower-case letters, digits, '_', '-' and '.'); dropped",
    ] == converted.notes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("dataset: [{name: no key}]\n", "dataset.0.fides_key: field required"),
        ("just text\n", "not a Fides dataset file: input should be a valid dictionary"),
        ("dataset: []\n", "bad.yml: the 'dataset:' list is empty: there is nothing to import"),
        ("dataset:\n  - fides_key: a\n    collections: [\n", "invalid YAML"),
        (
            "dataset:\n  - fides_key: a\n    collections:\n      - name: c\n        fields:\n"
            "          - name: f\n            fides_meta:\n              references:\n"
            "                - {dataset: a, field: c.f, direction: sideways}\n",
            "bad.yml:9:55: not a Fides dataset file: dataset.0.collections.0.fields.0.fides_meta."
            "references.0.direction: input should be 'from' or 'to'",
        ),
    ],
)
def test_bad_fides_files_give_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = write(tmp_path, "bad.yml", content)
    with pytest.raises(DataMapError) as raised:
        import_fides_dataset(bad)
    assert message in str(raised.value)
    assert 1 == len(str(raised.value).splitlines())


def test_a_folder_stops_at_its_first_broken_dataset_file_and_needs_one(tmp_path: Path) -> None:
    write(tmp_path / "empty", "notes.yaml", "system: []\n")
    with pytest.raises(DataMapError, match="no Fides datasets"):
        import_fides_dataset(tmp_path / "empty")

    write(tmp_path / "broken", "a.yml", "dataset:\n  - fides_key: a\n    collections: [\n")
    with pytest.raises(DataMapError, match=r"a\.yml:4:1: invalid YAML"):
        import_fides_dataset(tmp_path / "broken")

    with pytest.raises(DataMapError, match="no such file or folder"):
        import_fides_dataset(tmp_path / "missing")
