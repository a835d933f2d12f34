"""Write the files a request's answer consists of; the engine and the API call this.

``write_request_outputs`` writes, into the request's folder, the access report (HTML,
and PDF when asked: it can also be rendered on first download) and the export zip, and
returns each file's name, media type, SHA-256 and size for the RequestArtifact rows and
the receipt. Each file is written under a temporary name and renamed when complete, so
a run killed half-way leaves no truncated file behind and the next run writes it anew.
Given ``seal``, each file is made in memory, hashed in plain (the receipt's hash is of
what the subject gets) and written once, sealed: no plain copy ever reaches the disk.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from personvern.data_home import write_private, write_private_file
from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestType
from personvern.responses.access_report import AccessReport, build_access_report, render_report
from personvern.responses.artifacts import OutputFormat, WrittenArtifact
from personvern.responses.errors import ResponseError
from personvern.responses.export_archive import ExportScope, write_export
from personvern.responses.receipt import sha256_file

if TYPE_CHECKING:
    from personvern.responses.pdf import FontChoice

__all__ = [
    "OutputFormat",
    "PdfRenderer",
    "Sealer",
    "WrittenArtifact",
    "compose_report",
    "default_formats",
    "write_request_outputs",
]

#: Turns a file's plain content into what is stored (an envelope), given the file's name.
Sealer = Callable[[str, bytes], bytes]
#: Lays out the PDF edition of a report (personvern.responses.pdf_worker, say).
PdfRenderer = Callable[[AccessReport, datetime, "FontChoice"], bytes]

# Fixed order, so artifacts are written and listed the same way every time.
_ORDER = (OutputFormat.HTML, OutputFormat.PDF, OutputFormat.ZIP)


def default_formats(request_type: RequestType) -> frozenset[OutputFormat]:
    """What an answer consists of by default: a report and an export, or only the export."""
    # Erasure, rectification and the rest are answered by their receipt: no files.
    return frozenset(OutputFormat(name) for name in handler_for(request_type).answer_formats)


def write_request_outputs(
    out_dir: Path,
    datamap: DataMap,
    collected: CollectedData,
    *,
    formats: Collection[OutputFormat | str] | None = None,
    now: datetime | None = None,
    pdf_font: FontChoice = "auto",
    seal: Sealer | None = None,
    render_pdf: PdfRenderer | None = None,
    report: AccessReport | None = None,
) -> list[WrittenArtifact]:
    """Write the answer's files into ``out_dir`` (sealed by ``seal``) and describe each one.

    ``render_pdf`` lays out the PDF edition (by default in this process). ``report`` is
    the report already composed for ``collected`` at ``now`` (compose_report), so a PDF
    edition made later is the same report as the HTML one, and is not composed twice.
    """
    wanted = _formats(collected.request_type, formats)
    generated_at = now or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    if report is None:
        report = compose_report(datamap, collected, generated_at, formats=wanted)
    scope = ExportScope.for_request(collected.request_type)

    def export(out: IO[bytes]) -> None:
        write_export(out, datamap, collected, scope=scope, generated_at=generated_at)

    def content(fmt: OutputFormat) -> Callable[[IO[bytes]], object]:
        if fmt is OutputFormat.ZIP:
            return export
        assert report is not None
        data = (
            render_report(report, pdf=False).encode("utf-8")
            if fmt is OutputFormat.HTML
            else (render_pdf or _render_pdf)(report, generated_at, pdf_font)
        )
        return _bytes(data)

    written: list[WrittenArtifact] = []
    for fmt in (f for f in _ORDER if f in wanted):
        name = fmt.artifact_name
        if seal is None:
            path = _atomic(out_dir, name, content(fmt))
            sha256, size = sha256_file(path), path.stat().st_size
        else:
            buffer = io.BytesIO()
            content(fmt)(buffer)
            plain = buffer.getvalue()
            sha256, size = hashlib.sha256(plain).hexdigest(), len(plain)
            path = write_private_file(out_dir / name, seal(name, plain))
        written.append(
            WrittenArtifact(
                name=name,
                media_type=fmt.media_type,
                sha256=sha256,
                size=size,
                path=path,
                sealed=seal is not None,
            )
        )
    return written


def compose_report(
    datamap: DataMap,
    collected: CollectedData,
    generated_at: datetime,
    *,
    formats: Collection[OutputFormat | str] | None = None,
) -> AccessReport | None:
    """The report the answer's HTML and PDF editions show (None if it has neither)."""
    wanted = _formats(collected.request_type, formats)
    if not wanted & {OutputFormat.HTML, OutputFormat.PDF}:
        return None
    return build_access_report(datamap, collected, generated_at=generated_at)


def _formats(
    request_type: RequestType, formats: Collection[OutputFormat | str] | None
) -> frozenset[OutputFormat]:
    if formats is None:
        return default_formats(request_type)
    try:
        return frozenset(OutputFormat(f) for f in formats)
    except ValueError as exc:
        raise ResponseError(
            f"unknown answer format in {sorted(map(str, formats))}",
            hint=f"use any of {', '.join(f.value for f in OutputFormat)}",
        ) from exc


def _render_pdf(report: AccessReport, generated_at: datetime, font: FontChoice) -> bytes:
    # fpdf2 takes a quarter of a second to import; only PDF answers pay for it.
    from personvern.responses.pdf import render_report_pdf

    return render_report_pdf(report, generated_at=generated_at, font=font)


def _bytes(data: bytes) -> Callable[[IO[bytes]], object]:
    return lambda out: out.write(data)


def _atomic(out_dir: Path, name: str, write: Callable[[IO[bytes]], object]) -> Path:
    # Answers are the most sensitive copy of a person's data: 0600 from the first byte.
    return write_private(out_dir / name, write)
