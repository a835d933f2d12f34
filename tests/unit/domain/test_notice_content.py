"""What the privacy notice says follows from the data map, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from personvern.domain.errors import UnknownLanguageError
from personvern.domain.notice import build_notice_content, served_purposes
from tests.unit.domain.sample_datamap import sample_datamap, without_recipient, without_system


def test_an_undeclared_language_is_refused_with_the_available_ones() -> None:
    with pytest.raises(UnknownLanguageError) as raised:
        build_notice_content(sample_datamap(), "de")
    assert "language 'de' is not declared in the data map (available: nb, en)" == str(raised.value)


def test_every_controller_is_named_with_its_identity_and_contact() -> None:
    notice = build_notice_content(sample_datamap(), "nb")
    assert [
        ("Testkonsern AS", "999888777", "Norge", "personvern@test.example"),
        ("Testkonsern AB", "556000-0000", "Sverige", None),
    ] == [(c.name, c.organization_number, c.country, c.email) for c in notice.controllers]
    assert notice.dpo is not None
    assert "dpo@test.example" == notice.dpo.email


@pytest.mark.parametrize(
    ("lang", "provided", "observed", "derived"),
    [
        (
            "nb",
            ["E-postadresse", "Fødselsnummer eller D-nummer", "Samtaleopptak"],
            ["IP-adresse"],
            ["Økonomiske opplysninger (fakturaer og betalinger)"],
        ),
        (
            "en",
            ["E-mail address", "National identity number", "Call recording"],
            ["IP address"],
            ["Financial data (invoices and payments)"],
        ),
    ],
)
def test_categories_have_human_names_grouped_by_source(
    lang: str, provided: list[str], observed: list[str], derived: list[str]
) -> None:
    notice = build_notice_content(sample_datamap(), lang)
    assert provided == [c.name for c in notice.provided]
    assert observed == [c.name for c in notice.observed]
    assert derived == [c.name for c in notice.derived]
    assert [] == list(notice.third_party)


def test_a_category_lists_the_purposes_it_serves_in_declaration_order() -> None:
    notice = build_notice_content(sample_datamap(), "en")
    email = next(c for c in notice.provided if c.key == "user.contact.email")
    assert ("Contract", "Newsletter") == email.purposes


def test_purposes_carry_legal_basis_letter_consent_wording_and_interest() -> None:
    notice = build_notice_content(sample_datamap(), "nb")
    summary = [
        (p.key, p.legal_basis_letter, p.legal_basis, p.consent, p.legitimate_interest)
        for p in notice.purposes
    ]
    assert [
        ("contract", "b", "oppfyllelse av en avtale", "", ""),
        ("bookkeeping", "c", "en rettslig forpliktelse", "", ""),
        ("newsletter", "a", "ditt samtykke", "Ja, send meg nyhetsbrev.", ""),
        ("call_quality", "f", "våre berettigede interesser", "", "Opplæring."),
        ("security", "f", "våre berettigede interesser", "", "Vern mot angrep."),
    ] == summary
    assert "bokføringsloven § 13" == notice.purposes[1].legal_reference
    assert (True, True, True) == (
        notice.has_consent,
        notice.has_legitimate_interests,
        notice.has_direct_marketing,
    )


def test_the_recording_statement_exists_only_while_a_system_declares_it() -> None:
    before = build_notice_content(sample_datamap(), "en")
    after = build_notice_content(sample_datamap(without_system("telephony")), "en")
    assert ("The call is recorded.",) == before.collection_notices
    assert () == after.collection_notices


def test_a_purpose_nothing_serves_is_left_out_with_its_recipients() -> None:
    after = build_notice_content(sample_datamap(without_system("telephony")), "en")
    assert "call_quality" not in {p.key for p in after.purposes}
    assert "Phone Co" not in {r.name for g in after.recipient_groups for r in g.recipients}


def test_served_purposes_come_from_fields_files_and_cookies() -> None:
    assert {"contract", "newsletter", "security", "bookkeeping", "call_quality"} == (
        served_purposes(sample_datamap())
    )


def test_recipients_are_grouped_by_their_category_with_country_names() -> None:
    notice = build_notice_content(sample_datamap(), "nb")
    assert [
        ("Konsernselskaper", [("Testkonsern India Pvt Ltd", "India", True)]),
        ("Utsendelse", [("Mailer GmbH", "Tyskland", False)]),
        ("Telefoni", [("Phone Co", "Norge", False)]),
    ] == [
        (g.name, [(r.name, r.country, r.third_country) for r in g.recipients])
        for g in notice.recipient_groups
    ]
    assert (True, False) == (notice.has_processors, notice.has_independent_controllers)


def test_a_group_transfer_outside_the_eea_rests_on_standard_contractual_clauses() -> None:
    notice = build_notice_content(sample_datamap(), "en")
    assert [
        (
            "Testkonsern India Pvt Ltd",
            "India",
            True,
            "EU standard contractual clauses 2021, module 2 (controller to processor)",
        )
    ] == [(t.recipient, t.country, t.group_entity, t.safeguard) for t in notice.transfers]
    assert notice.group_transfers_on_scc


def test_without_the_recipient_outside_the_eea_there_is_no_transfer() -> None:
    notice = build_notice_content(sample_datamap(without_recipient("tk-in")), "en")
    assert () == notice.transfers
    assert not notice.group_transfers_on_scc


def test_a_transfer_on_adequacy_is_not_a_group_transfer_on_sccs() -> None:
    def to_uk(raw: dict[str, Any]) -> None:
        raw["recipients"][0].update(country="GB", transfer="adequacy")

    notice = build_notice_content(sample_datamap(to_uk), "nb")
    assert ["beslutning om tilstrekkelig beskyttelsesnivå (GDPR art. 45)"] == [
        t.safeguard for t in notice.transfers
    ]
    assert not notice.group_transfers_on_scc


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "nb",
            [
                ("5 år", "etter regnskapsårets slutt", "slettes", "bokføringsloven § 13"),
                ("90 dager", "etter innsamling", "slettes", ""),
            ],
        ),
        (
            "en",
            [
                (
                    "5 years",
                    "after the end of the financial year",
                    "deleted",
                    "bokføringsloven § 13",
                ),
                ("90 days", "after collection", "deleted", ""),
            ],
        ),
    ],
)
def test_retention_periods_are_in_words_with_trigger_and_legal_hold(
    lang: str, expected: list[tuple[str, str, str, str]]
) -> None:
    notice = build_notice_content(sample_datamap(), lang)
    assert expected == [
        (r.period, r.trigger, r.action, r.legal_hold_reference) for r in notice.retention
    ]


def test_organization_texts_are_in_the_requested_language() -> None:
    notice = build_notice_content(sample_datamap(), "en")
    assert (("Everything is encrypted.",), "Risk always remains.", "As short as possible.") == (
        notice.security_measures,
        notice.risk_statement,
        notice.retention_principle,
    )
    assert ("Datatilsynet", "https://www.datatilsynet.no", "Norway") == (
        notice.supervisory_authority.name,
        notice.supervisory_authority.url,
        notice.supervisory_authority.country,
    )


def test_channels_and_cookies_come_from_web_and_app_systems() -> None:
    notice = build_notice_content(sample_datamap(), "en")
    assert (("test.example",), True) == (notice.channels, notice.uses_cookies)
