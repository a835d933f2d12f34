"""The receipt of a completed request: what was found, sent, erased and kept, with proof.

The receipt is stored with the request (``DataSubjectRequest.receipt``, JSON) and shown
by ``personvern request show``. Delivered files are named with their SHA-256 and size,
so anyone holding a file can check it is the one that was sent. It holds counts and
names of systems and datasets, never the subject's data, and who answered in which
language, with the complaint route the answer gave.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from personvern.domain.requests.answer_profile import AnswerProfile
from personvern.domain.requests.collected import CollectedData
from personvern.responses.artifacts import WrittenArtifact

RECEIPT_VERSION = 1
_CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file as lowercase hex, read in chunks (recordings may be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class DatasetDisposal:
    """What an erasure (or other change) did in one dataset, as the engine reports it."""

    system: str
    dataset: str
    #: Records deleted.
    deleted: int = 0
    #: Records kept but with fields erased (set to null, masked or pseudonymised).
    updated: int = 0
    #: Records of others in which mentions of the subject were blanked out.
    redacted: int = 0
    #: Records kept as they are, and why (a legal hold with its reference).
    kept: int = 0
    kept_reason: str | None = None


def build_receipt(
    collected: CollectedData,
    sent: Sequence[WrittenArtifact] = (),
    *,
    disposals: Sequence[DatasetDisposal] = (),
    completed_at: datetime,
) -> dict[str, Any]:
    """The receipt as a JSON-ready dict (with the answer's profile when it was decided)."""
    erased = [
        {
            "system": d.system,
            "dataset": d.dataset,
            "deleted": d.deleted,
            "updated": d.updated,
            "redacted": d.redacted,
        }
        for d in disposals
        if d.deleted or d.updated or d.redacted
    ]
    kept = [
        {"system": d.system, "dataset": d.dataset, "records": d.kept, "reason": d.kept_reason}
        for d in disposals
        if d.kept
    ]
    reported = {(d.system, d.dataset) for d in disposals}
    # A legal hold the engine noted on the collected data but did not report as a disposal;
    # only for requests that change data (an access request keeps everything anyway).
    kept += [
        {
            "system": c.system,
            "dataset": c.dataset,
            "records": len(c.records),
            "reason": c.kept_reason,
        }
        for c in collected.datasets
        if collected.request_type.changes_data
        and c.kept_reason
        and c.records
        and (c.system, c.dataset) not in reported
    ]
    found = [
        {"system": c.system, "dataset": c.dataset, "records": len(c.records), "files": len(c.files)}
        for c in sorted(collected.datasets, key=lambda c: (c.system, c.dataset))
        if c
    ]
    return {
        "version": RECEIPT_VERSION,
        "request_id": collected.request_id,
        "request_type": collected.request_type.value,
        "received_at": _iso(collected.received_at),
        "completed_at": _iso(completed_at),
        "nothing_found": not found,
        "found": found,
        "sent": [
            {"name": a.name, "media_type": a.media_type, "sha256": a.sha256, "size": a.size}
            for a in sorted(sent, key=lambda a: a.name)
        ],
        "erased": erased,
        "kept": kept,
        "recipients_notified": sorted(collected.recipients_notified),
        **({"answer": answer_summary(collected.profile)} if collected.profile else {}),
    }


def answer_summary(profile: AnswerProfile) -> dict[str, str]:
    """Who answered, in which language and with which complaint route, and why (JSON-ready)."""
    return {
        "language": profile.language,
        "language_from": profile.language_source.value,
        "controller": profile.controller.key,
        "controller_name": profile.controller.name,
        "controller_from": profile.controller_source.value,
        "supervisory_authority": profile.supervisory_authority.name,
    }


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")
