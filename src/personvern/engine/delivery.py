"""Hand the subject their data: collect what the search found and write the answer's files.

Collecting also decides the answer's language (the one asked for, else the one the
subject's records say they prefer, else the data map's default); the collected data
carries it, so the report, the export and the mails that follow all agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from personvern.connectors.port import Connector, ExportedFile, Record
from personvern.domain.datamap import DataMap
from personvern.domain.requests.belongs_to import partly_shown
from personvern.domain.requests.collected import CollectedData, CollectedDataset
from personvern.domain.requests.identity import SubjectIdentity
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.request_plan import RequestPlan
from personvern.domain.requests.subject_graph import SubjectWalk
from personvern.responses.access_report import AccessReport
from personvern.responses.rendering import decide_profile
from personvern.responses.writer import (
    OutputFormat,
    PdfRenderer,
    Sealer,
    WrittenArtifact,
    write_request_outputs,
)
from personvern.store.models import DataSubjectRequest


def collect(
    request: DataSubjectRequest,
    identities: Sequence[SubjectIdentity],
    plan: RequestPlan,
    walk: SubjectWalk,
    connectors: Mapping[str, Connector],
    datamap: DataMap,
) -> CollectedData:
    """The records and files found about the subject, dataset by dataset, and their language."""
    datasets = []
    # Others' records the subject sees in part (a business customer's contacts): only the
    # fields shown are read out of the walk, so no answer can show more (Art. 15(4)).
    partial = partly_shown(datamap, walk)
    for part in plan.datasets:
        found = walk.records(part.name)
        shown = partial.get(part.name, {})
        records = tuple(
            Record(
                key=key,
                values={k: v for k, v in values.items() if k in shown[key]}
                if key in shown
                else values,
                matched_fields=walk.matched_fields(part.name, key),
                shown_fields=shown.get(key),
            )
            for key, (values, _match) in sorted(found.items(), key=lambda item: str(item[0]))
        )
        files: tuple[ExportedFile, ...] = ()
        if part.has_files and part.system in connectors:
            files = tuple(connectors[part.system].export_files(part.dataset, part.export))
        datasets.append(
            CollectedDataset(
                system=part.system,
                dataset=part.dataset,
                records=records,
                files=files,
                kept_reason=part.keep_reason,
            )
        )
    # Only a language someone asked for is a request: request.language is the map's
    # default until the subject's records have been read.
    profile = decide_profile(datamap, request.requested_language, datasets)
    return CollectedData(
        request_id=request.id,
        request_type=RequestType(request.type),
        language=profile.language,
        received_at=request.received_at,
        identities=tuple(identities),
        datasets=tuple(datasets),
        profile=profile,
    )


def answer_note(collected: CollectedData) -> str:
    """For the request's history: the answer's language, sender and complaint route, and why."""
    profile = collected.profile
    if profile is None:
        return f"answer in {collected.language}"
    return (
        f"answer in {profile.language} ({profile.language_source.value.replace('_', ' ')}) "
        f"from {profile.controller.name} ({profile.controller_source.value.replace('_', ' ')}); "
        f"complaints to {profile.supervisory_authority.name}"
    )


def deliver(
    folder: Path,
    datamap: DataMap,
    collected: CollectedData,
    seal: Sealer | None = None,
    *,
    report: AccessReport | None = None,
    now: datetime | None = None,
) -> list[WrittenArtifact]:
    """Write the report (HTML) and the export for an access or portability request."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_request_outputs(folder, datamap, collected, seal=seal, report=report, now=now)


def deliver_pdf(
    folder: Path,
    datamap: DataMap,
    collected: CollectedData,
    seal: Sealer | None = None,
    render_pdf: PdfRenderer | None = None,
    *,
    report: AccessReport | None = None,
    now: datetime | None = None,
) -> list[WrittenArtifact]:
    """Write the PDF edition of the access report (slow; done after the request completes)."""
    return write_request_outputs(
        folder,
        datamap,
        collected,
        formats={OutputFormat.PDF},
        seal=seal,
        render_pdf=render_pdf,
        report=report,
        now=now,
    )
