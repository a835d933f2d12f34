"""What Art. 15 tells the subject follows from the data map and from what was found only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest

from personvern.domain.datamap import DataField, DataMap
from personvern.domain.requests.collected import (
    CollectedData,
    UnknownDatasetError,
    build_access_content,
    found_datasets,
    is_mention,
    portability_fields,
    visible_fields,
)
from tests.unit.responses.sample import MENTIONING_TICKET, OWN_TICKET, collected, nobody


def _names(fields: Iterable[DataField]) -> list[str]:
    return [f.name for f in fields]


def test_portability_keeps_what_the_customer_gave_under_contract_and_drops_derived_data(
    datamap: DataMap,
) -> None:
    # amount, invoice_number and issued_on are derived; id, due_on, currency serve no purpose.
    assert ["billing_name", "billing_email", "billing_address"] == _names(
        portability_fields(datamap, "billing", "invoices")
    )


def test_portability_leaves_out_fields_held_under_a_legal_obligation(datamap: DataMap) -> None:
    fields = _names(portability_fields(datamap, "crm", "customers"))
    assert [
        "company_name",
        "contact_name",
        "email",
        "phone",
        "address",
        "country",
        "preferred_language",
        "last_contact_at",
    ] == fields
    assert "national_id" not in fields  # identity_verification: legal obligation (AML)


def test_portability_leaves_out_data_processed_on_legitimate_interests(datamap: DataMap) -> None:
    assert () == portability_fields(datamap, "telephony", "call_recordings")


def test_an_undeclared_dataset_is_refused_with_its_name(datamap: DataMap) -> None:
    with pytest.raises(UnknownDatasetError, match=r"'crm\.nope'"):
        portability_fields(datamap, "crm", "nope")


def test_a_record_found_through_a_mention_shows_only_its_key_and_the_mentioning_text(
    datamap: DataMap,
) -> None:
    tickets = next(d for s in datamap.systems for d in s.datasets if d.name == "tickets")
    assert is_mention(tickets, MENTIONING_TICKET)
    assert ["id", "body"] == _names(visible_fields(tickets, MENTIONING_TICKET))
    assert not is_mention(tickets, OWN_TICKET)
    assert len(tickets.fields) == len(visible_fields(tickets, OWN_TICKET))


def test_found_datasets_follow_the_data_map_and_skip_empty_ones(
    datamap: DataMap, data: CollectedData
) -> None:
    assert [
        "billing.invoices",
        "crm.customers",
        "support.tickets",
        "telephony.call_recordings",
    ] == [f.collected.key for f in found_datasets(datamap, data)]
    assert () == found_datasets(datamap, nobody())


def test_without_recordings_nothing_about_calls_is_said(datamap: DataMap) -> None:
    content = build_access_content(datamap, collected(None), "en")
    purposes = [p.name for p in content.purposes]
    assert "Training and quality of phone calls" not in purposes
    assert "Telephone call recording" not in [c.name for c in content.categories]
    recipients = [r.name for g in content.recipient_groups for r in g.recipients]
    assert "Cloud telephony provider" not in recipients
    assert "Call recordings are deleted automatically after 90 days." not in [
        r.description for r in content.retention
    ]
    assert () == content.collection_notices


def test_with_recordings_the_call_purpose_recipient_retention_and_notice_appear(
    datamap: DataMap, recording: Path
) -> None:
    content = build_access_content(datamap, collected(recording), "en")
    assert "Training and quality of phone calls" in [p.name for p in content.purposes]
    recipients = [r.name for g in content.recipient_groups for r in g.recipients]
    assert "Cloud telephony provider" in recipients
    assert "Call recordings are deleted automatically after 90 days." in [
        r.description for r in content.retention
    ]
    assert 1 == len(content.collection_notices)


def test_purposes_carry_their_legal_basis_and_reference(datamap: DataMap) -> None:
    content = build_access_content(datamap, collected(None), "nb")
    bookkeeping = next(p for p in content.purposes if p.key == "bookkeeping")
    assert ("en rettslig forpliktelse", "c", "bokføringsloven § 13") == (
        bookkeeping.legal_basis,
        bookkeeping.legal_basis_letter,
        bookkeeping.legal_reference,
    )
    # Only purposes of fields found: nothing was found in the newsletter or web systems.
    keys = {p.key for p in content.purposes}
    assert not keys & {"marketing_newsletter", "service_improvement", "security_cards"}


def test_recipients_and_transfers_are_limited_to_what_was_found(datamap: DataMap) -> None:
    content = build_access_content(datamap, collected(None), "en")
    recipients = [r.name for g in content.recipient_groups for r in g.recipients]
    assert "Security card supplier" not in recipients
    assert [
        ("Nordic Workspace Ltd", "adequacy decision (GDPR Art. 45)"),
        (
            "Nordic Workspace Shared Services Pvt Ltd",
            "EU standard contractual clauses 2021, module 2 (controller to processor)",
        ),
    ] == [(t.recipient, t.safeguard) for t in content.transfers]


def test_sources_name_what_the_subject_did_not_give_us(datamap: DataMap) -> None:
    content = build_access_content(datamap, collected(None), "en")
    sources = {s.source: s.categories for s in content.sources}
    assert ["derived", "observed"] == sorted(sources)
    assert "Financial data (invoices and payments)" in sources["derived"]
    assert "Activity information" in sources["observed"]


def test_the_controller_is_the_one_of_the_systems_found_and_the_authority_is_named(
    datamap: DataMap,
) -> None:
    content = build_access_content(datamap, collected(None), "nb")
    assert ["Nordic Workspace AS"] == [c.name for c in content.controllers]
    assert ("Datatilsynet", "https://www.datatilsynet.no") == (
        content.supervisory_authority.name,
        content.supervisory_authority.url,
    )


def test_a_subject_we_hold_nothing_about_still_gets_the_rights(datamap: DataMap) -> None:
    content = build_access_content(datamap, nobody(), "en")
    assert not content.found_anything
    assert () == content.purposes
    assert () == content.recipient_groups
    assert "Datatilsynet" == content.supervisory_authority.name


def test_a_recipient_known_to_have_received_the_data_is_always_named(datamap: DataMap) -> None:
    data = replace(collected(None), recipients_notified=("card-supplier",))
    content = build_access_content(datamap, data, "en")
    assert "Security card supplier" in [
        r.name for g in content.recipient_groups for r in g.recipients
    ]
