"""The writer produces the answer's files; the receipt names them with matching hashes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData
from personvern.domain.requests.lifecycle import RequestType
from personvern.responses.errors import ResponseError
from personvern.responses.receipt import DatasetDisposal, build_receipt, sha256_file
from personvern.responses.writer import OutputFormat, write_request_outputs
from tests.unit.responses.sample import GENERATED, collected

COMPLETED = datetime(2025, 3, 4, 12, 0, 5, tzinfo=UTC)


def test_an_access_answer_is_a_report_and_an_export_by_default(
    datamap: DataMap, data: CollectedData, tmp_path: Path
) -> None:
    written = write_request_outputs(tmp_path / "out", datamap, data, now=GENERATED)
    assert [("access-report.html", "text/html"), ("export.zip", "application/zip")] == [
        (a.name, a.media_type) for a in written
    ]
    assert ["access-report.html", "export.zip"] == sorted(
        p.name for p in (tmp_path / "out").iterdir()
    )


def test_portability_answers_with_the_export_and_erasure_with_the_receipt_only(
    datamap: DataMap, recording: Path, tmp_path: Path
) -> None:
    portable = collected(recording, request_type=RequestType.PORTABILITY)
    assert ["export.zip"] == [
        a.name for a in write_request_outputs(tmp_path / "p", datamap, portable, now=GENERATED)
    ]
    erasure = collected(recording, request_type=RequestType.ERASURE)
    assert [] == write_request_outputs(tmp_path / "e", datamap, erasure, now=GENERATED)


def test_the_pdf_is_written_when_asked(
    datamap: DataMap, data: CollectedData, tmp_path: Path
) -> None:
    written = write_request_outputs(
        tmp_path, datamap, data, formats=[OutputFormat.PDF], now=GENERATED, pdf_font="core"
    )
    assert [("access-report.pdf", "application/pdf")] == [(a.name, a.media_type) for a in written]
    assert b"%PDF-" == written[0].path.read_bytes()[:5]


def test_an_unknown_format_is_refused(
    datamap: DataMap, data: CollectedData, tmp_path: Path
) -> None:
    with pytest.raises(ResponseError, match="unknown answer format"):
        write_request_outputs(tmp_path, datamap, data, formats=["docx"], now=GENERATED)


def test_the_receipt_hashes_match_the_delivered_files(
    datamap: DataMap, data: CollectedData, tmp_path: Path
) -> None:
    written = write_request_outputs(tmp_path, datamap, data, now=GENERATED)
    receipt = build_receipt(data, written, completed_at=COMPLETED)
    for sent in receipt["sent"]:
        content = (tmp_path / sent["name"]).read_bytes()
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (sent["sha256"], sent["size"])
        assert sent["sha256"] == sha256_file(tmp_path / sent["name"])
    assert [
        {"system": "billing", "dataset": "invoices", "records": 2, "files": 0},
        {"system": "crm", "dataset": "customers", "records": 1, "files": 0},
        {"system": "support", "dataset": "tickets", "records": 2, "files": 0},
        {"system": "telephony", "dataset": "call_recordings", "records": 1, "files": 1},
    ] == receipt["found"]
    assert ("req_Q2xh9vY3pT", "access", "2025-03-04T12:00:05+00:00") == (
        receipt["request_id"],
        receipt["request_type"],
        receipt["completed_at"],
    )
    # An access request keeps everything; no legal hold belongs in its receipt.
    assert ([], []) == (receipt["erased"], receipt["kept"])
    json.dumps(receipt)  # stored as JSON with the request


def test_an_erasure_receipt_lists_what_was_erased_and_what_the_law_keeps(
    recording: Path,
) -> None:
    data = collected(recording, request_type=RequestType.ERASURE)
    receipt = build_receipt(
        data,
        disposals=[
            DatasetDisposal("crm", "customers", deleted=1),
            DatasetDisposal("support", "tickets", deleted=1, redacted=1),
        ],
        completed_at=COMPLETED,
    )
    assert [
        {"system": "crm", "dataset": "customers", "deleted": 1, "updated": 0, "redacted": 0},
        {"system": "support", "dataset": "tickets", "deleted": 1, "updated": 0, "redacted": 1},
    ] == receipt["erased"]
    # The invoices' legal hold comes from the collected data when no disposal reports it.
    assert [
        {"system": "billing", "dataset": "invoices", "records": 2, "reason": "bokføringsloven § 13"}
    ] == receipt["kept"]
    assert [] == receipt["sent"]


def test_sha256_file_reads_large_files_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    content = bytes(range(256)) * 9000  # a little over two chunks
    path.write_bytes(content)
    assert hashlib.sha256(content).hexdigest() == sha256_file(path)


def test_sealed_files_are_written_once_sealed_and_described_by_their_plain_content(
    datamap: DataMap, data: CollectedData, tmp_path: Path
) -> None:
    plain = {
        a.name: a.path.read_bytes()
        for a in write_request_outputs(tmp_path / "plain", datamap, data, now=GENERATED)
    }
    sealed_by = []

    def seal(name: str, content: bytes) -> bytes:
        sealed_by.append(name)
        return b"SEALED:" + content[::-1]

    written = write_request_outputs(tmp_path / "sealed", datamap, data, now=GENERATED, seal=seal)
    assert ["access-report.html", "export.zip"] == sealed_by
    for item in written:
        content = plain[item.name]
        assert item.sealed
        # The receipt's hash and size are of what the subject gets, not of the envelope.
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (item.sha256, item.size)
        assert b"SEALED:" + content[::-1] == item.path.read_bytes()
    # Nothing else, no plain copy or half-written file, is left in the folder.
    assert ["access-report.html", "export.zip"] == sorted(
        p.name for p in (tmp_path / "sealed").iterdir()
    )


def test_the_pdf_can_be_laid_out_in_a_child_process(
    datamap: DataMap, data: CollectedData, tmp_path: Path
) -> None:
    from personvern.responses.pdf_worker import PdfWorker

    worker = PdfWorker()
    try:
        elsewhere = write_request_outputs(
            tmp_path / "child",
            datamap,
            data,
            formats=[OutputFormat.PDF],
            now=GENERATED,
            pdf_font="core",
            render_pdf=worker.render,
        )
    finally:
        worker.close()
    here = write_request_outputs(
        tmp_path / "here", datamap, data, formats=[OutputFormat.PDF], now=GENERATED, pdf_font="core"
    )
    # The same report, laid out by the same code: the same bytes, wherever.
    assert [a.sha256 for a in here] == [a.sha256 for a in elsewhere]
    assert b"%PDF-" == elsewhere[0].path.read_bytes()[:5]


def test_a_report_composed_once_gives_the_same_editions_as_one_composed_per_file(
    datamap: DataMap, data: CollectedData, tmp_path: Path
) -> None:
    from personvern.responses.writer import compose_report

    report = compose_report(datamap, data, GENERATED)
    assert report is not None
    given = write_request_outputs(
        tmp_path / "given", datamap, data, now=GENERATED, report=report
    ) + write_request_outputs(
        tmp_path / "given",
        datamap,
        data,
        formats=[OutputFormat.PDF],
        now=GENERATED,
        pdf_font="core",
        report=report,
    )
    composed = write_request_outputs(
        tmp_path / "composed", datamap, data, now=GENERATED
    ) + write_request_outputs(
        tmp_path / "composed",
        datamap,
        data,
        formats=[OutputFormat.PDF],
        now=GENERATED,
        pdf_font="core",
    )
    assert [(a.name, a.sha256) for a in composed] == [(a.name, a.sha256) for a in given]
    # An export alone shows no report: there is none to compose.
    portable = replace(data, request_type=RequestType.PORTABILITY)
    assert compose_report(datamap, portable, GENERATED) is None
