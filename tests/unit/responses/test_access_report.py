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
from personvern.responses.values import display_value, zone_for_country
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
                "Innsyn i personopplysningene dine",
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
    # Times are shown in the answering company's time zone (Åse's is the Norwegian one).
    oslo = zone_for_country("NO")
    coded = {"direction", "preferred_language"}
    values = [
        display_value(value, "nb", oslo)
        for record in records
        for name, value in record.values.items()
        if value is not None and name not in {"national_id", *coded}
    ]
    assert [] == [value for value in values if value not in page]
    # Coded values in the words the data map gives them.
    assert ["Du ringte oss", "Norsk (bokmål)"] == [
        words for words in ("Du ringte oss", "Norsk (bokmål)") if words in page
    ]
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


@pytest.mark.parametrize(
    ("lang", "summary", "dates", "appendix"),
    [
        (
            "nb",
            "Vi har 6 registreringer om deg i 4 systemer.",
            ["1. januar 2021", "28. februar 2025 kl. 15.30", "Du ringte oss"],
            "Vedlegg: tekniske opplysninger",
        ),
        (
            "en",
            "We hold 6 records about you in 4 systems.",
            ["1 January 2021", "28 February 2025, 15:30", "You called us"],
            "Appendix: technical details",
        ),
    ],
)
def test_the_report_opens_with_a_summary_and_writes_dates_and_codes_in_words(
    datamap: DataMap, recording: Path, lang: str, summary: str, dates: list[str], appendix: str
) -> None:
    page = html.unescape(_render(datamap, collected(recording, language=lang)))
    letter, _, technical = page.partition(appendix)
    assert summary in letter
    assert letter.index(summary) < letter.index("<h3")  # before any section of the letter
    assert [] == [text for text in dates if text not in letter]
    # No raw dates, and keys (invoice 9001, ticket 777) only in the appendix.
    assert ["2021-01-01", "9001", "777"] == [
        text for text in ("2021-01-01", "9001", "777") if text not in letter
    ]
    assert ["9001", "777"] == [text for text in ("9001", "777") if text in technical]


def test_column_names_of_the_stores_appear_only_in_the_appendix(
    datamap: DataMap, data: CollectedData
) -> None:
    page = html.unescape(_render(datamap, data))
    letter, _, technical = page.partition("Vedlegg: tekniske opplysninger")
    names = ["contact_name", "preferred_language", "invoice_number", "billing_email"]
    assert [] == [name for name in names if name in letter]
    assert names == [name for name in names if f"= {name}" in technical]
