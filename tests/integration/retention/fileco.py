"""A company whose files were written at known ages, for retention sweeps of file stores.

Three stores, each a folder: call recordings with JSON sidecars whose ``started_at``
the rule counts from; scanned identity documents with sidecars, counted from the
files' modification time (os.utime sets it) and only for passports; vouchers owned
by their path, counted from their ``modified_at`` under bokføringsloven's hold. Each
holds files due, files just inside their period, files on either side of the boundary
day, a file held by staff and one held by law, so a sweep must take exactly the due ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.small_company import company_preamble

#: The sweep's "now": 15 June 2026, noon UTC.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

SYSTEMS = """\
systems:
  - key: telephony
    name: Telephony
    kind: files
    description: {{en: Call recordings}}
    connection_env: FILECO_RECORDINGS
    datasets:
      - name: recordings
        subjects: [customer]
        files:
          pattern: "calls/**/*.wav"
          content_category: user.content
          content_purposes: [service]
          media_type: audio/wav
        fields:
          - {{name: call_id, primary_key: true}}
          - {{name: phone, identity: phone_number, category: user.contact.phone_number,
              purposes: [service]}}
          - {{name: started_at, category: user.behavior, purposes: [service]}}
  - key: scans
    name: Scans
    kind: files
    description: {{en: Scanned identity documents}}
    connection_env: FILECO_SCANS
    datasets:
      - name: documents
        subjects: [customer]
        files:
          pattern: "ids/*.bin"
          content_category: user.government_id
          content_purposes: [service]
        fields:
          - {{name: document_id, primary_key: true}}
          - {{name: email, identity: email, category: user.contact.email, purposes: [service]}}
          - {{name: kind, category: user.government_id, purposes: [service]}}
  - key: ledger
    name: Ledger
    kind: files
    description: {{en: Scanned vouchers}}
    connection_env: FILECO_VOUCHERS
    datasets:
      - name: vouchers
        subjects: [customer]
        files:
          pattern: "vouchers/**/*.pdf"
          owner: {{path: "vouchers/{{customer_id}}/{{voucher_id}}.pdf"}}
          content_category: user.financial
          content_purposes: [service]
          media_type: application/pdf
        fields:
          - {{name: voucher_id, primary_key: true}}
          - {{name: customer_id, identity: customer_id, category: user.unique_id,
              purposes: [service]}}
          - {{name: modified_at}}
"""

RULES = """\
  - key: call-recordings
    dataset: telephony.recordings
    trigger: collected
    trigger_field: started_at
    period: P90D
    description: {en: Call recordings are deleted after 90 days}
  - key: passport-copies
    dataset: scans.documents
    trigger: collected
    timezone: Europe/Oslo
    condition: {field: kind, equals: passport}
    period: P30D
    description: {en: Passport copies go 30 days after they were scanned}
  - key: vouchers
    dataset: ledger.vouchers
    trigger: collected
    trigger_field: modified_at
    period: P1Y
    legal_hold:
      reference: bokføringsloven § 13
      description: {en: 'Primary documentation: five years from the end of the year'}
      period: P5Y
    description: {en: Vouchers}
"""


def write_datamap(folder: Path) -> Path:
    """The company's data map (it passes `personvern check`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fileco.yaml"
    preamble = company_preamble("Fileco AS").format()
    preamble = preamble[: preamble.index("retention:\n")]
    path.write_text(preamble + SYSTEMS.format() + "retention:\n" + RULES, encoding="utf-8")
    return path


@dataclass
class Stores:
    """The three folders, and which records each sweep at NOW keeps and deletes."""

    recordings: Path
    scans: Path
    vouchers: Path
    kept: dict[str, set[str]] = field(default_factory=dict)
    gone: dict[str, set[str]] = field(default_factory=dict)

    @property
    def environ(self) -> dict[str, str]:
        """The connection variables the data map names."""
        return {
            "FILECO_RECORDINGS": str(self.recordings),
            "FILECO_SCANS": str(self.scans),
            "FILECO_VOUCHERS": str(self.vouchers),
        }

    def files(self, store: Path) -> set[str]:
        """Every file under ``store``, as a path relative to it."""
        return {
            str(p.relative_to(store)) for p in store.rglob("*") if p.is_file() or p.is_symlink()
        }


def _aged(path: Path, content: bytes, moment: datetime) -> None:
    """Write ``path`` and set its modification time to ``moment``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    stamp = moment.timestamp()
    os.utime(path, (stamp, stamp))


def _recording(root: Path, call_id: str, started: str, *, age: timedelta) -> None:
    moment = NOW - age
    _aged(root / "calls" / f"{call_id}.wav", b"RIFF" + call_id.encode(), moment)
    sidecar = {"call_id": call_id, "phone": "+4791234567", "started_at": started}
    _aged(root / "calls" / f"{call_id}.json", json.dumps(sidecar).encode(), moment)


def _scan(root: Path, document_id: str, kind: str, scanned: datetime) -> None:
    _aged(root / "ids" / f"{document_id}.bin", b"scan " + document_id.encode(), scanned)
    sidecar = {"document_id": document_id, "email": "kari@fileco.example", "kind": kind}
    # The sidecar was rewritten yesterday (a rectification): the content's time counts.
    _aged(root / "ids" / f"{document_id}.json", json.dumps(sidecar).encode(), NOW)


def populate(base: Path) -> Stores:
    """Write the three stores under ``base``; what a sweep at NOW must keep and delete."""
    stores = Stores(base / "recordings", base / "scans", base / "vouchers")
    rec = stores.recordings
    # P90D: due when started on or before 16 March 2026 (UTC), whatever the file's time.
    _recording(rec, "c1", "2026-03-16T23:59:59+00:00", age=timedelta(days=1))
    _recording(rec, "c2", "2026-03-17T00:00:00+00:00", age=timedelta(days=400))
    _recording(rec, "c3", "2025-01-01T08:00:00Z", age=timedelta(days=500))
    _recording(rec, "c4", "2026-06-01T10:00:00Z", age=timedelta(days=14))
    # Held by staff (a complaint about the call).
    _recording(rec, "c5", "2025-02-02T08:00:00Z", age=timedelta(days=490))
    # No readable start: never due.
    _recording(rec, "c6", "sometime", age=timedelta(days=900))
    # A symbolic link to a file outside the store: never followed, never deleted.
    _recording(rec, "c7", "2024-01-01T08:00:00Z", age=timedelta(days=900))
    outside = base / "outside.wav"
    _aged(outside, b"someone else's file", NOW - timedelta(days=900))
    (rec / "calls" / "c7.wav").unlink()
    (rec / "calls" / "c7.wav").symlink_to(outside)
    sc = stores.scans
    # P30D in Oslo days: due when scanned on or before 15 May 2026 (Oslo), passports only.
    _scan(sc, "d1", "passport", datetime(2026, 5, 15, 21, 59, tzinfo=UTC))  # 23:59 in Oslo
    _scan(sc, "d2", "passport", datetime(2026, 5, 15, 22, 0, tzinfo=UTC))  # 16 May in Oslo
    _scan(sc, "d3", "passport", NOW - timedelta(days=365))
    _scan(sc, "d4", "driving_licence", NOW - timedelta(days=365))
    vo = stores.vouchers
    # P1Y, held five years from the end of the year: a 2020 voucher goes in 2026.
    _aged(vo / "vouchers" / "7" / "v1.pdf", b"%PDF v1", datetime(2020, 3, 1, tzinfo=UTC))
    _aged(vo / "vouchers" / "7" / "v2.pdf", b"%PDF v2", datetime(2021, 3, 1, tzinfo=UTC))
    _aged(vo / "vouchers" / "8" / "v3.pdf", b"%PDF v3", NOW - timedelta(days=30))
    stores.kept = {
        "recordings": {"c2", "c4", "c5", "c6", "c7"},
        "documents": {"d2", "d4"},
        "vouchers": {"v2", "v3"},
    }
    stores.gone = {
        "recordings": {"c1", "c3"},
        "documents": {"d1", "d3"},
        "vouchers": {"v1"},
    }
    return stores
