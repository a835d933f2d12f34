"""The access report says what Art. 15 asks for what was found, and holds the copy."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData
from personvern.responses.access_report import render_access_report_html
from personvern.responses.values import display_value
from tests.unit.responses.sample import (
    CUSTOMER,
    GENERATED,
    HOSTILE,
    INVOICES,
    MENTION,
    OWN_TICKET,
    RECORDING,
    collected,
    nobody,
)

_VOID = {"br", "meta", "link", "hr", "img", "input", "wbr", "col", "source"}


class _Balance(HTMLParser):
    """Checks every element is closed in order (the report is written well-formed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        if tag not in _VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:]}")
            return
        self.open.pop()


def _well_formed(page: str) -> _Balance:
    checker = _Balance()
    checker.feed(page)
    checker.close()
    return checker


def _render(datamap: DataMap, data: CollectedData) -> str:
    return render_access_report_html(datamap, data, generated_at=GENERATED)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "nb",
            [
                '<html lang="nb">',
                "Innsyn i personopplysninger",
                "Fakturering og innkreving",
                "oppfyllelse av en avtale (art. 6 nr. 1 bokstav b)",
                "jf. bokføringsloven § 13",
                "Inkassoselskaper</b>: Debt collection agency (Norge)",
                "Nordic Workspace Shared Services Pvt Ltd (India): EUs standardkontraktsklausuler",
                "5 år etter regnskapsårets slutt",
                "Samtaleopptak slettes automatisk etter 90 dager.",
                "Laget av oss i kundeforholdet",
                "Du har også rett til å klage til <b>Datatilsynet</b>",
                "https://www.datatilsynet.no",
                "vedlagt i eksporten som files/telephony/call-001.wav",
            ],
        ),
        (
            "en",
            [
                '<html lang="en">',
                "Access to your personal data",
                "Invoicing and collections",
                "performance of a contract (Art. 6(1)(b))",
                "see bokføringsloven § 13",
                "Debt collection agencies</b>: Debt collection agency (Norway)",
                "Nordic Workspace Shared Services Pvt Ltd (India): EU standard contractual",
                "5 years after the end of the financial year",
                "Call recordings are deleted automatically after 90 days.",
                "Created by us in the course of the customer relationship",
                "lodge a complaint with <b>Datatilsynet</b>",
                "https://www.datatilsynet.no",
                "attached in the export as files/telephony/call-001.wav",
            ],
        ),
    ],
)
def test_the_report_explains_purposes_recipients_retention_and_the_complaint(
    datamap: DataMap, recording: Path, lang: str, expected: list[str]
) -> None:
    page = _render(datamap, collected(recording, language=lang))
    assert [] == [text for text in expected if text not in page]


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_without_recordings_there_is_no_telephony_in_the_report(
    datamap: DataMap, lang: str
) -> None:
    page = _render(datamap, collected(None, language=lang))
    unexpected = [
        "Telephony call recordings",
        "Cloud telephony provider",
        "90 dager",
        "90 days",
        ".wav",
        "Opplæring og kvalitet i telefonsamtaler",
        "Training and quality of phone calls",
        "Security card supplier",
    ]
    assert [] == [text for text in unexpected if text in page]


def test_every_value_found_appears_in_the_report(datamap: DataMap, data: CollectedData) -> None:
    page = html.unescape(_render(datamap, data))
    records = [CUSTOMER, *INVOICES, OWN_TICKET, RECORDING]
    values = [
        display_value(value, "nb")
        for record in records
        for name, value in record.values.items()
        if value is not None and name != "national_id"
    ]
    assert [] == [value for value in values if value not in page]
    # The national identity number is shown masked (personopplysningsloven § 12).
    assert "010190 *****" in page
    assert "01019012345" not in page


def test_a_mention_shows_the_text_and_nothing_else_of_the_other_persons_ticket(
    datamap: DataMap, data: CollectedData
) -> None:
    page = html.unescape(_render(datamap, data))
    assert f"«{MENTION}»" in page
    assert "kari.nordmann@other.example" not in page
    assert "Kari sin private sak" not in page


def test_the_report_is_well_formed_and_escapes_hostile_values(
    datamap: DataMap, data: CollectedData
) -> None:
    page = _render(datamap, data)
    checker = _well_formed(page)
    assert ([], [], 0) == (checker.errors, checker.open, checker.scripts)
    assert str(escape(HOSTILE)) in page
    assert "<script>" not in page


@pytest.mark.parametrize(
    ("lang", "headline"),
    [
        ("nb", "Vi har ingen personopplysninger om deg"),
        ("en", "We hold no personal data about you"),
    ],
)
def test_a_subject_we_hold_nothing_about_gets_a_proper_answer(
    datamap: DataMap, lang: str, headline: str
) -> None:
    page = _render(datamap, nobody(lang))
    assert headline in page
    assert "Datatilsynet" in page
    assert ([], []) == (_well_formed(page).errors, _well_formed(page).open)


def test_an_undeclared_language_falls_back_to_the_organizations_default(
    datamap: DataMap,
) -> None:
    page = _render(datamap, collected(None, language="de"))
    assert '<html lang="nb">' in page


def test_control_characters_from_a_store_are_left_out_of_the_report() -> None:
    assert "tab\there" == display_value("\x00tab\there\x07", "nb")
