"""The record of processing (Art. 30(1)): one activity per purpose, every item filled."""

from __future__ import annotations

from typing import Any

import pytest

from personvern.domain.errors import UnknownLanguageError
from personvern.domain.ropa import ART30_KEYS, ROPA_COLUMNS, build_ropa
from tests.unit.domain.sample_datamap import sample_datamap, without_recipient


def test_one_activity_per_purpose_in_declaration_order() -> None:
    activities = build_ropa(sample_datamap())
    assert ["contract", "bookkeeping", "newsletter", "call_quality", "security"] == [
        a.key for a in activities
    ]


def test_the_items_art_30_lists_are_all_present() -> None:
    assert (
        "controller",
        "joint_controller",
        "representative",
        "dpo",
        "purpose",
        "legal_basis",
        "data_subjects",
        "data_categories",
        "recipients",
        "third_country_transfers",
        "erasure_time_limits",
        "security_measures",
    ) == ART30_KEYS
    assert "activity" == ROPA_COLUMNS[0].key


@pytest.mark.parametrize("activity", build_ropa(sample_datamap()), ids=lambda a: a.key)
def test_no_item_is_left_blank(activity: Any) -> None:
    empty = [key for key, lines in activity.values().items() if not lines or not all(lines)]
    assert [] == empty


def test_controller_comes_from_the_systems_used_and_contact_details_are_given() -> None:
    contract = build_ropa(sample_datamap())[0]
    assert (
        "Testkonsern AS (org. no. 999888777), Storgata 1, 0155 Oslo, Norway, "
        "personvern@test.example, +47 12 34 56 78",
    ) == contract.controller
    assert ("DPO, dpo@test.example",) == contract.dpo
    assert ("Not applicable",) == contract.joint_controller
    assert ("Not applicable",) == contract.representative


def test_without_a_dpo_the_record_says_so_and_names_the_contact() -> None:
    def no_dpo(raw: dict[str, Any]) -> None:
        del raw["organization"]["dpo"]

    contract = build_ropa(sample_datamap(no_dpo))[0]
    assert (
        "No data protection officer appointed; contact: Privacy team, personvern@test.example",
    ) == contract.dpo


def test_legal_basis_includes_reference_interest_and_consent_wording() -> None:
    by_key = {a.key: a for a in build_ropa(sample_datamap())}
    assert (
        "a legal obligation (GDPR Art. 6(1)(c))",
        "legal reference: bokføringsloven § 13",
    ) == by_key["bookkeeping"].legal_basis
    assert (
        "your consent (GDPR Art. 6(1)(a))",
        "consent wording: Yes, send me newsletters.",
    ) == by_key["newsletter"].legal_basis
    assert (
        "our legitimate interests (GDPR Art. 6(1)(f))",
        "legitimate interest: Training.",
    ) == by_key["call_quality"].legal_basis


def test_categories_subjects_and_encrypted_fields_of_a_purpose() -> None:
    contract = build_ropa(sample_datamap())[0]
    assert ("Customer",) == contract.data_subjects
    assert ("E-mail address", "National identity number") == contract.data_categories
    assert "Field-level encryption of crm.customers.national_id" == contract.security_measures[-1]


def test_recipients_and_third_country_transfers_with_safeguard() -> None:
    contract = build_ropa(sample_datamap())[0]
    assert ("Group companies: Testkonsern India Pvt Ltd (India)",) == contract.recipients
    assert (
        "Testkonsern India Pvt Ltd (India): "
        "EU standard contractual clauses 2021, module 2 (controller to processor)",
    ) == contract.third_country_transfers


def test_without_a_recipient_outside_the_eea_the_record_says_there_is_no_transfer() -> None:
    contract = build_ropa(sample_datamap(without_recipient("tk-in")))[0]
    assert ("No transfers outside the EEA",) == contract.third_country_transfers
    assert ("No recipients outside the controller",) == contract.recipients


def test_erasure_time_limits_come_from_the_rules_of_the_datasets_used() -> None:
    by_key = {a.key: a for a in build_ropa(sample_datamap())}
    assert (
        "CRM (crm.invoices): 5 years after the end of the financial year, then deleted; "
        "legal hold: bokføringsloven § 13",
    ) == by_key["bookkeeping"].erasure_time_limits
    assert ("Telephony (telephony.recordings): 90 days after collection, then deleted",) == by_key[
        "call_quality"
    ].erasure_time_limits
    # No rule covers crm.customers: the record falls back to the general principle.
    assert ("No specific rule; general principle: As short as possible.",) == by_key[
        "contract"
    ].erasure_time_limits


def test_cookies_serving_a_purpose_are_recorded_with_their_lifetime() -> None:
    security = {a.key: a for a in build_ropa(sample_datamap())}["security"]
    assert ("IP address", "Cookies") == security.data_categories
    assert ("cookie stats (test.example): 13 months",) == security.erasure_time_limits
    assert (
        "CRM (crm, postgresql, hosted in Norway)",
        "test.example (website, web)",
    ) == security.systems


def test_the_record_can_be_written_in_norwegian() -> None:
    bookkeeping = build_ropa(sample_datamap(), "nb")[1]
    assert (
        "CRM (crm.invoices): 5 år etter regnskapsårets slutt, deretter slettes; "
        "lovpålagt oppbevaring: bokføringsloven § 13",
    ) == bookkeeping.erasure_time_limits
    assert ("Ikke aktuelt",) == bookkeeping.joint_controller
    assert "Behandlingsansvarlig" == ROPA_COLUMNS[1].label("nb")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(UnknownLanguageError, match=r"available: en, nb"):
        build_ropa(sample_datamap(), "de")


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_personvern_s_own_records_are_an_activity_with_their_time_limits(lang: str) -> None:
    from personvern.domain.retention.own_records import own_record_rules

    rules = own_record_rules({"own-web-events": "P6M"})
    activities = build_ropa(sample_datamap(), lang, own_records=rules)
    assert [a.key for a in build_ropa(sample_datamap(), lang)] == [a.key for a in activities][:-1]
    own = activities[-1]
    assert "personvern-own-records" == own.key
    assert len(rules) == len(own.erasure_time_limits)
    web = next(line for line in own.erasure_time_limits if "OWN_WEB_EVENTS" in line)
    assert ("6 months" if lang == "en" else "6 måneder") in web
    links = next(line for line in own.erasure_time_limits if "DOWNLOAD_LINKS" in line)
    assert ("the day after" if lang == "en" else "dagen etter") in links
    assert [] == [key for key in ART30_KEYS if not all(line.strip() for line in own.values()[key])]
