"""The export zip: JSON and CSV per dataset, the recordings, a schema; Art. 20 scope."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData
from personvern.domain.requests.lifecycle import RequestType
from personvern.responses.export_archive import ExportScope, write_export
from tests.unit.responses.sample import (
    GENERATED,
    HOSTILE,
    MENTION,
    collected,
    nobody,
    recording_file,
)


def _zip(datamap: DataMap, data: CollectedData, scope: ExportScope | None = None) -> bytes:
    target = io.BytesIO()
    write_export(target, datamap, data, scope=scope, generated_at=GENERATED)
    return target.getvalue()


def _json(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name).decode("utf-8"))


def test_the_access_export_holds_json_csv_recordings_schema_and_readme(
    datamap: DataMap, data: CollectedData, recording: Path
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_zip(datamap, data)))
    assert [
        "README.txt",
        "schema.json",
        "export/billing/invoices.json",
        "export/billing/invoices.csv",
        "export/crm/customers.json",
        "export/crm/customers.csv",
        "export/support/tickets.json",
        "export/support/tickets.csv",
        "export/telephony/call_recordings.json",
        "export/telephony/call_recordings.csv",
        "files/telephony/call-001.wav",
    ] == archive.namelist()
    assert recording.read_bytes() == archive.read("files/telephony/call-001.wav")
    assert archive.testzip() is None


def test_json_round_trips_with_iso_dates_and_exact_decimals(
    datamap: DataMap, data: CollectedData
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_zip(datamap, data)))
    invoices = _json(archive, "export/billing/invoices.json")
    assert [9001, 9002] == [i["id"] for i in invoices]  # records in key order
    assert {
        "id": 9002,
        "customer_id": 4711,
        "invoice_number": "2024-0042",
        "issued_on": "2024-11-30",
        "due_on": "2024-12-14",
        "amount": "12500.50",
        "currency": "NOK",
        "billing_name": "Åse Ødegård",
        "billing_email": "faktura@blabaer.example",
        "billing_address": "Postboks 12, 0101 Oslo",
        "paid_on": None,
    } == invoices[1]
    customer = _json(archive, "export/crm/customers.json")[0]
    assert "2025-02-28T14:30:00+00:00" == customer["last_contact_at"]
    assert "01019012345" == customer["national_id"]  # the copy holds it in full


def test_csv_is_utf8_with_a_header_and_the_same_values(
    datamap: DataMap, data: CollectedData
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_zip(datamap, data)))
    text = archive.read("export/billing/invoices.csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert ["9001", "9002"] == [row["id"] for row in rows]
    assert ("Åse Ødegård", "12500.50", "") == (
        rows[1]["billing_name"],
        rows[1]["amount"],
        rows[1]["paid_on"],
    )


def test_a_mention_exports_only_the_key_and_the_text_that_mentions_the_subject(
    datamap: DataMap, data: CollectedData
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_zip(datamap, data)))
    tickets = _json(archive, "export/support/tickets.json")
    assert {"id": 777, "body": MENTION} == tickets[1]
    assert b"kari.nordmann" not in archive.read("export/support/tickets.csv")


def test_schema_documents_each_file_and_field(datamap: DataMap, data: CollectedData) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_zip(datamap, data)))
    schema = _json(archive, "schema.json")
    assert ("personvern-export", 1, "access", "nb") == (
        schema["format"],
        schema["version"],
        schema["scope"],
        schema["language"],
    )
    crm = next(d for d in schema["datasets"] if d["dataset"] == "customers")
    email = next(f for f in crm["fields"] if f["name"] == "email")
    assert {
        "name": "email",
        "label": "E-postadresse",
        "category": "user.contact.email",
        "category_name": "E-postadresse",
        "description": None,
        "source": "provided",
    } == email
    calls = next(d for d in schema["datasets"] if d["dataset"] == "call_recordings")
    assert ["files/telephony/call-001.wav"] == [f["path"] for f in calls["files"]]
    assert "Opptak av telefonsamtale" == calls["files"][0]["category_name"]


def test_portability_exports_only_the_article_20_fields_and_the_recordings(
    datamap: DataMap, recording: Path
) -> None:
    data = collected(recording, request_type=RequestType.PORTABILITY)
    archive = zipfile.ZipFile(io.BytesIO(_zip(datamap, data)))
    assert "portability" == _json(archive, "schema.json")["scope"]
    invoices = _json(archive, "export/billing/invoices.json")
    assert [
        {
            "billing_name": "Åse Ødegård",
            "billing_email": "faktura@blabaer.example",
            "billing_address": "Postboks 12, 0101 Oslo",
        }
    ] * 2 == invoices
    customer = _json(archive, "export/crm/customers.json")[0]
    assert "national_id" not in customer  # legal obligation, not consent or contract
    assert "id" not in customer  # derived by us
    # The other person's ticket that mentions the subject was not provided by them.
    assert [
        {
            "requester_email": "ase.odegard@example.no",
            "subject": HOSTILE,
            "body": "Møterommet på Aker Brygge var dobbeltbooket.",
        }
    ] == _json(archive, "export/support/tickets.json")
    # Call metadata rests on legitimate interests; the recording itself still goes along.
    assert "export/telephony/call_recordings.json" not in archive.namelist()
    assert recording.read_bytes() == archive.read("files/telephony/call-001.wav")


def test_the_same_data_gives_the_same_bytes(datamap: DataMap, data: CollectedData) -> None:
    assert _zip(datamap, data) == _zip(datamap, data)


def test_a_hostile_file_name_stays_inside_its_folder(
    datamap: DataMap, data: CollectedData, recording: Path
) -> None:
    hostile = replace(recording_file(recording), name="../../etc/passwd")
    twin = replace(recording_file(recording), name="passwd", key="call-002")
    calls = replace(data.datasets[-1], files=(hostile, twin))
    archive = zipfile.ZipFile(
        io.BytesIO(_zip(datamap, replace(data, datasets=(*data.datasets[:-1], calls))))
    )
    assert ["files/telephony/passwd", "files/telephony/passwd-call-002"] == [
        n for n in archive.namelist() if n.startswith("files/")
    ]


def test_nothing_found_still_gives_a_readable_archive(datamap: DataMap) -> None:
    archive = zipfile.ZipFile(io.BytesIO(_zip(datamap, nobody())))
    assert ["README.txt", "schema.json"] == archive.namelist()
    assert "We found no data about you" in archive.read("README.txt").decode("utf-8")
    assert [] == _json(archive, "schema.json")["datasets"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("https://evil.example")', '\'=HYPERLINK("https://evil.example")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("+4791234567", "+4791234567"),
        ("-12.50", "-12.50"),
        ("Hei", "Hei"),
    ],
)
def test_csv_cells_never_run_as_formulas(value: str, cell: str) -> None:
    from personvern.responses.values import csv_value

    assert cell == csv_value(value)
