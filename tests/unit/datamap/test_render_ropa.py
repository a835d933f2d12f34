"""The rendered record of processing: JSON, CSV and HTML carry the same Art. 30(1) content."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from personvern.datamap.loader import load_datamap
from personvern.datamap.rendering import UnknownFormatError
from personvern.datamap.ropa import render_ropa
from personvern.domain.datamap import DataMap
from personvern.domain.ropa import ART30_KEYS, ROPA_COLUMNS
from tests.unit.datamap.wellformed import html_problems, html_text


@pytest.fixture
def example(example_datamap_path: Path) -> DataMap:
    return load_datamap(example_datamap_path).datamap


def test_json_has_one_activity_per_purpose_with_every_art_30_item_filled(
    example: DataMap,
) -> None:
    document = json.loads(render_ropa(example, "json"))
    activities = document["activities"]
    assert [p.key for p in example.purposes] == [a["key"] for a in activities]
    blanks = [
        (a["key"], key)
        for a in activities
        for key in ART30_KEYS
        if not a.get(key) or not all(line.strip() for line in a[key])
    ]
    assert [] == blanks


def test_json_names_the_columns_with_their_article(example: DataMap) -> None:
    header = json.loads(render_ropa(example, "json"))["record_of_processing_activities"]
    assert ("Nordic Workspace Group", "en") == (header["organization"], header["language"])
    assert {"label": "Time limits for erasure", "article": "30(1)(f)"} == header["columns"][
        "erasure_time_limits"
    ]


def test_json_carries_the_bookkeeping_hold_and_the_group_transfer_on_sccs(
    example: DataMap,
) -> None:
    by_key = {a["key"]: a for a in json.loads(render_ropa(example, "json"))["activities"]}
    assert [
        "Billing (billing.invoices): 5 years after the end of the financial year, then deleted; "
        "legal hold: bokføringsloven § 13",
        "Billing (billing.invoice_lines): 5 years after the end of the financial year, "
        "then deleted; legal hold: bokføringsloven § 13",
    ] == by_key["bookkeeping"]["erasure_time_limits"]
    assert [
        "Nordic Workspace Ltd (United Kingdom): adequacy decision (GDPR Art. 45)",
        "Nordic Workspace Shared Services Pvt Ltd (India): EU standard contractual clauses "
        "2021, module 2 (controller to processor)",
    ] == by_key["technical_support"]["third_country_transfers"]
    assert [
        "Telephony call recordings (telephony.call_recordings): 90 days after collection, "
        "then deleted"
    ] == by_key["call_quality"]["erasure_time_limits"]


def test_csv_parses_into_one_row_per_purpose_with_every_column(example: DataMap) -> None:
    rows = list(csv.DictReader(io.StringIO(render_ropa(example, "csv"))))
    assert [p.key for p in example.purposes] == [row["key"] for row in rows]
    assert ["key", *(c.key for c in ROPA_COLUMNS)] == list(rows[0])
    assert [] == [(row["key"], key) for row in rows for key in ART30_KEYS if not row[key]]


def test_csv_keeps_multi_valued_items_in_one_cell_one_value_per_line(example: DataMap) -> None:
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(render_ropa(example, "csv")))}
    assert ["Customer", "Client's designated employees"] == rows["security_cards"][
        "data_subjects"
    ].split("\n")


def test_html_is_well_formed_and_has_a_section_per_activity(example: DataMap) -> None:
    document = render_ropa(example, "html")
    assert [] == html_problems(document)
    assert len(example.purposes) == document.count("<section id=")
    text = html_text(document)
    assert "Time limits for erasure (Art. 30(1)(f))" in text
    assert "bokføringsloven § 13" in text


def test_the_two_argument_call_is_english_and_nb_is_available(example: DataMap) -> None:
    assert render_ropa(example, "csv") == render_ropa(example, "csv", "en")
    nb = json.loads(render_ropa(example, "json", "nb"))
    assert "Tjenesteadministrasjon" == nb["activities"][0]["activity"][0]


def test_an_unknown_format_is_refused(example: DataMap) -> None:
    with pytest.raises(UnknownFormatError, match=r"available: csv, json, html"):
        render_ropa(example, "xlsx")
