"""Fides datasets of every kind Fides users have (SQL, documents, SaaS, projects) import whole.

Each import must pass `check` apart from the purposes left to fill in, keep every primary
key, identity and reference personvern can hold, and say in a note what it could not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from personvern.datamap.fides_import import import_fides_dataset
from tests.integration.datamap.fides_import_support import (
    CORPUS,
    check_import,
    erasures,
    identities,
    primary_keys,
    references,
)

NO_KEY = (
    "no primary key; personvern searches a dataset by its primary key: mark one with "
    "primary_key: true"
)
UNREACHED = (
    "requests never reach it: no field is an identity and none references a dataset they "
    "reach; mark the field holding the subject's e-mail or customer number with identity, "
    "or add a reference"
)
TOP_LEVEL_ONLY = "(personvern's connectors read top-level fields only)"
NOT_IMPORTED = "is not among the imported files (import the folder that holds it too)"


def renamed(safe: str, what: str, entry: str) -> str:
    """The note for a name personvern does not accept."""
    return (
        f"imported as '{safe}' (personvern names use letters, digits and '_' and do not "
        f"start with a digit, and the map has no separate {what} name): rename the {what} "
        f"or this {entry} so that the connector finds it"
    )


def test_sql_dataset_keeps_keys_identities_and_references(tmp_path: Path) -> None:
    converted = import_fides_dataset(CORPUS / "postgres_shop.yml")

    assert [] == check_import(tmp_path, converted)
    db = "shop_postgres"
    assert {
        f"{db}.{table}.id"
        for table in ("customer", "address", "orders", "payment_card", "login", "service_request")
    } == primary_keys(converted)
    assert {
        (f"{db}.customer.email", "email"),
        (f"{db}.customer.phone", "phone_number"),
        (f"{db}.service_request.email", "email"),
        (f"{db}.service_request.alt_email", "email"),
        (f"{db}.visit.email", "email"),
    } == identities(converted)
    assert {
        # `direction: to` on customer.address_id: the address is found from the customer.
        (f"{db}.address.id", "customer.address_id"),
        (f"{db}.orders.customer_id", "customer.id"),
        (f"{db}.payment_card.customer_id", "customer.id"),
        (f"{db}.login.customer_id", "customer.id"),
        (f"{db}.service_request.customer_id", "customer.id"),
    } == references(converted)
    assert [
        f"{db}: subjects default to [customer]; adjust per dataset",
        f"{db}.address.id: also references orders.shipping_address_id, "
        "payment_card.billing_address_id; personvern holds one reference per field, so it "
        "keeps customer.address_id and requests do not follow the others",
        f"{db}.service_request.customer_id: also references login.customer_id; personvern "
        "holds one reference per field, so it keeps customer.id and requests do not follow "
        "the others",
        f"{db}.visit: {NO_KEY}",
    ] == converted.notes


def test_document_dataset_flattens_nested_fields_and_says_what_they_lose(
    tmp_path: Path,
) -> None:
    converted = import_fides_dataset(CORPUS / "mongo_customer_details.yml")

    assert [] == check_import(tmp_path, converted)
    db = "shop_mongo"
    assert {
        f"{db}.customer_details._id",
        f"{db}.customer_feedback._id",
        f"{db}.conversations._id",
        f"{db}.internal_customer_profile._id",
    } == primary_keys(converted)
    assert set() == identities(converted)
    assert set() == references(converted)
    (system,) = converted.systems
    details = system["datasets"][0]
    assert {
        "name": "emergency_contacts",
        "category": "user.name",
        "purposes": [],
    } == details["fields"][5]
    nested_reference = (
        "reference to shop_mongo.customer_feedback.customer_information.internal_customer_id "
        "dropped"
    )
    assert [
        f"{db}: subjects default to [customer]; adjust per dataset",
        f"{db}.customer_details: {UNREACHED}",
        f"{db}.customer_details.customer_id: reference to shop_postgres.customer.id dropped: "
        f"dataset 'shop_postgres' {NOT_IMPORTED}",
        f"{db}.customer_details.workplace_info: several data categories (user.workplace, "
        "user.job_title); personvern keeps one per field: kept user.workplace",
        f"{db}.customer_details.workplace_info: its nested fields (employer, position) are "
        f"kept inside the one field 'workplace_info' {TOP_LEVEL_ONLY}",
        f"{db}.customer_details.emergency_contacts: several data categories (user.name, "
        "user.contact.phone_number); personvern keeps one per field: kept user.name",
        f"{db}.customer_details.emergency_contacts: its nested fields (name, relationship, "
        f"phone) are kept inside the one field 'emergency_contacts' {TOP_LEVEL_ONLY}",
        f"{db}.customer_details.emergency_contacts.phone: identity 'phone_number' on a nested "
        "field is not carried: personvern matches identities on top-level fields only",
        f"{db}.customer_details.children: return_all_elements is not needed: personvern "
        "reads the whole array",
        f"{db}.customer_details.comments: its nested fields (comment_id) are kept inside the "
        f"one field 'comments' {TOP_LEVEL_ONLY}",
        f"{db}.customer_details.comments.comment_id: reference to "
        "shop_mongo.conversations.thread.comment dropped: it is declared on a nested field "
        "(personvern references top-level fields only)",
        f"{db}.customer_feedback: {UNREACHED}",
        f"{db}.customer_feedback.customer_information: its nested fields (email, "
        "internal_customer_id) are kept inside the one field 'customer_information' "
        f"{TOP_LEVEL_ONLY}",
        f"{db}.customer_feedback.customer_information.email: identity 'email' on a nested "
        "field is not carried: personvern matches identities on top-level fields only",
        f"{db}.conversations: {UNREACHED}",
        f"{db}.conversations.thread: several data categories (user.content.private, "
        "user.name); personvern keeps one per field: kept user.content.private",
        f"{db}.conversations.thread: its nested fields (comment, message, chat_name) are "
        f"kept inside the one field 'thread' {TOP_LEVEL_ONLY}",
        f"{db}.internal_customer_profile: {UNREACHED}",
        f"{db}.internal_customer_profile.customer_identifiers: its nested fields "
        f"(internal_id) are kept inside the one field 'customer_identifiers' {TOP_LEVEL_ONLY}",
        f"{db}.internal_customer_profile.customer_identifiers.internal_id: "
        f"{nested_reference}: it is declared on a nested field (personvern references "
        "top-level fields only)",
        f"{db}.internal_customer_profile.feedback_id: {nested_reference}: it points into the "
        "nested field 'customer_feedback.customer_information' (personvern references "
        "top-level fields only)",
    ] == converted.notes


def test_saas_dataset_keeps_primary_keys_given_as_fidesops_meta_and_accepts_nulls(
    tmp_path: Path,
) -> None:
    converted = import_fides_dataset(CORPUS / "saas_newsletter.yml")

    assert [] == check_import(tmp_path, converted)
    saas = "saas_newsletter"
    assert {f"{saas}.member.id", f"{saas}.customer.id", f"{saas}.charge.id"} == primary_keys(
        converted
    )
    assert set() == identities(converted)
    # The placeholder <instance_fides_key> in a reference means the dataset itself.
    assert {(f"{saas}.charge.customer", "customer.id")} == references(converted)
    assert {(f"{saas}.customer.email", "mask"), (f"{saas}.customer.phone", "null")} == erasures(
        converted
    )
    (system,) = converted.systems
    assert ["member", "messages", "customer", "charge"] == [d["name"] for d in system["datasets"]]
    assert [
        f"{saas}: fides_key '<instance_fides_key>' is a placeholder Fides fills in per "
        f"connector instance; named '{saas}' after its file",
        f"{saas}.member: {UNREACHED}",
        f"{saas}.member.merge_fields: several data categories (user.name.first, "
        "user.name.last); personvern keeps one per field: kept user.name.first",
        f"{saas}.member.merge_fields: its nested fields (FNAME, LNAME) are kept inside the "
        f"one field 'merge_fields' {TOP_LEVEL_ONLY}",
        f"{saas}.messages: {NO_KEY}",
        f"{saas}.campaigns: has no fields; not imported (a personvern dataset needs at least "
        "one field)",
        f"{saas}.customer: {UNREACHED}",
        f"{saas}.customer.email: masking_strategy_override random_string_rewrite is imported "
        "as erasure: mask; its configuration is not carried (personvern chooses the "
        "replacement value)",
        f"{saas}.customer.metadata_customer_id: reference to shop_postgres.customer.id "
        f"dropped: dataset 'shop_postgres' {NOT_IMPORTED}",
        f"{saas}.charge: {UNREACHED}",
        f"{saas}.charge.billing_details: several data categories (user.contact.email, "
        "user.name); personvern keeps one per field: kept user.contact.email",
        f"{saas}.charge.billing_details: its nested fields (email, name) are kept inside the "
        f"one field 'billing_details' {TOP_LEVEL_ONLY}",
    ] == converted.notes


def test_a_folder_is_one_project_with_references_across_its_files(tmp_path: Path) -> None:
    converted = import_fides_dataset(CORPUS / "project")

    assert [] == check_import(tmp_path, converted)
    assert ["billing_db", "crm_db"] == [system["key"] for system in converted.systems]
    assert {
        "billing_db.account.id",
        "billing_db.invoice.id",
        "crm_db.contact.id",
    } == primary_keys(converted)
    assert {("crm_db.contact.email", "email")} == identities(converted)
    assert {
        # crm_db.contact.billing_account_id says `direction: to` billing_db.account.id.
        ("billing_db.account.id", "crm_db.contact.billing_account_id"),
        ("billing_db.account.contact_id", "crm_db.contact.id"),
        ("billing_db.invoice.account_id", "account.id"),
        ("billing_db.invoice.contact_email", "crm_db.contact.email"),
    } == references(converted)
    assert [
        "systems.yml: no top-level 'dataset:' list; skipped",
        "billing_db: subjects default to [customer]; adjust per dataset",
        "crm_db: subjects default to [customer]; adjust per dataset",
        "crm_db.contact.ad_audience_id: reference to marketing_warehouse.audience.member_id "
        f"dropped: dataset 'marketing_warehouse' {NOT_IMPORTED}",
    ] == converted.notes


def test_references_resolve_once_the_referenced_files_are_in_the_folder(tmp_path: Path) -> None:
    project = tmp_path / "fides"
    project.mkdir()
    for name in ("postgres_shop.yml", "mongo_customer_details.yml", "saas_newsletter.yml"):
        shutil.copy(CORPUS / name, project / name)

    converted = import_fides_dataset(project)

    assert [] == check_import(tmp_path / "map", converted)
    assert {
        ("shop_mongo.customer_details.customer_id", "shop_postgres.customer.id"),
        ("saas_newsletter.customer.metadata_customer_id", "shop_postgres.customer.id"),
    } == {(where, ref) for where, ref in references(converted) if "shop_postgres." in ref}
    # Found through the shop's customers now, the customer details and the SaaS customer
    # (and its charges) are reached; what refers to nothing still is not.
    assert [
        "shop_mongo.customer_feedback",
        "shop_mongo.conversations",
        "shop_mongo.internal_customer_profile",
        "saas_newsletter.member",
    ] == [note.split(": ")[0] for note in converted.notes if UNREACHED in note]
    assert [] == [note for note in converted.notes if NOT_IMPORTED in note]


def test_erasure_hints_become_erasure_strategies_or_notes(tmp_path: Path) -> None:
    converted = import_fides_dataset(CORPUS / "erasure_hints.yml")

    assert [] == check_import(tmp_path, converted)
    wh = "crm_warehouse"
    assert {
        (f"{wh}.customer.email", "pseudonymise"),
        (f"{wh}.customer.name", "mask"),
        (f"{wh}.customer.nickname", "pseudonymise"),
        (f"{wh}.address.street", "null"),
    } == erasures(converted)
    assert {f"{wh}.{table}.id" for table in ("customer", "address", "orders", "audit_log")} == (
        primary_keys(converted)
    )
    assert {(f"{wh}.customer.email", "email")} == identities(converted)
    assert {
        (f"{wh}.{table}.customer_id", "customer.id") for table in ("address", "orders", "audit_log")
    } == references(converted)
    not_carried = "is not carried: personvern orders its searches by references"
    erase_after = (
        "is not carried: personvern erases records that reference others before the records "
        "they reference; add a reference if this order matters"
    )
    assert [
        f"{wh}: fides_meta.after [shop_postgres] {not_carried}",
        f"{wh}: subjects default to [customer]; adjust per dataset",
        f"{wh}.customer.email: masking_strategy_override hash is imported as erasure: "
        "pseudonymise; its configuration is not carried (personvern chooses the replacement "
        "value)",
        f"{wh}.customer.name: masking_strategy_override string_rewrite is imported as "
        "erasure: mask; its configuration is not carried (personvern chooses the replacement "
        "value)",
        f"{wh}.customer.signup_ip: masking_strategy_override 'custom_scramble' has no "
        "personvern equivalent; the field is erased by the dataset's default",
        f"{wh}.customer.country: read_only is not carried: Fides never changes this field, "
        "personvern erases it with its record; set erasure: keep if the system cannot "
        "change it",
        f"{wh}.customer.vip_code: custom_request_field 'vip_code' is not carried: personvern "
        "searches by identities only",
        f"{wh}.address: erase_after [crm_warehouse.customer] {erase_after}",
        f"{wh}.orders: erase_after [crm_warehouse.address] {erase_after}",
        f"{wh}.orders.shipping_name: masking_strategy_override null_rewrite is not carried: "
        "the collection's records are deleted (its masking_strategy_override is delete)",
        f"{wh}.audit_log: the collection's data_categories [user.contact.email] are not "
        "copied to its fields; give each field that holds personal data its own category",
        f"{wh}.audit_log: fides_meta.after [crm_warehouse.orders] {not_carried}",
        f"{wh}.audit_log: Fides skips this collection (skip_processing), personvern does "
        "not: requests search it by its primary key; remove the dataset if they must not",
        f"{wh}.audit_log.details: its nested fields (action, ip) are kept inside the one "
        f"field 'details' {TOP_LEVEL_ONLY}",
        f"{wh}.audit_log.details.ip: masking_strategy_override null_rewrite on a nested "
        "field is not carried: personvern erases 'details' as a whole",
    ] == converted.notes


def test_names_personvern_does_not_accept_are_made_safe_and_noted(tmp_path: Path) -> None:
    converted = import_fides_dataset(CORPUS / "odd_names.yml")

    assert [] == check_import(tmp_path, converted)
    (system,) = converted.systems
    assert ("legacy_crm_v2", "PERSONVERN_LEGACY_CRM_V2_URL") == (
        system["key"],
        system["connection_env"],
    )
    profiles, orders = system["datasets"]
    assert ("customer_profiles", ["custom_id_2", "custom_id", "e_mail", "_2fa_secret"]) == (
        profiles["name"],
        [f["name"] for f in profiles["fields"]][:4],
    )
    crm = "legacy_crm_v2"
    assert {f"{crm}.customer_profiles.custom_id_2", f"{crm}._2021_orders.id"} == primary_keys(
        converted
    )
    assert {(f"{crm}.customer_profiles.e_mail", "email")} == identities(converted)
    # "address.line1" is a column named with a dot, not a nested field.
    assert {
        (f"{crm}._2021_orders.customer_ref", "customer_profiles.custom_id_2"),
        (f"{crm}._2021_orders.ship_to", "customer_profiles.address_line1"),
    } == references(converted)
    assert "_2021_orders" == orders["name"]
    assert [
        f"{crm}: subjects default to [customer]; adjust per dataset",
        f"{crm}.customer profiles: {renamed('customer_profiles', 'table', 'dataset')}",
        f"{crm}.customer profiles.custom id: {renamed('custom_id_2', 'column', 'field')}",
        f"{crm}.customer profiles.e-mail: {renamed('e_mail', 'column', 'field')}",
        f"{crm}.customer profiles.2fa_secret: {renamed('_2fa_secret', 'column', 'field')}",
        f"{crm}.customer profiles.address.line1: {renamed('address_line1', 'column', 'field')}",
        f"{crm}.2021_orders: {renamed('_2021_orders', 'table', 'dataset')}",
        f"{crm}.2021_orders.customer ref: {renamed('customer_ref', 'column', 'field')}",
        f"{crm}.2021_orders.ship to: {renamed('ship_to', 'column', 'field')}",
    ] == converted.notes


def test_the_notes_head_the_imported_file_as_comments() -> None:
    converted = import_fides_dataset(CORPUS / "postgres_shop.yml")

    header = converted.to_yaml().split("systems:\n")[0].splitlines()

    assert [f"# NOTE: {note}" for note in converted.notes] == header[3:]
