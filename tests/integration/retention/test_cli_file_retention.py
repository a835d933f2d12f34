"""`personvern retention run` on file stores through the installed command, on the real clock.

Files aged far from every boundary: recordings started 200 days ago go and 10 days ago
stay (their sidecar's date counts); passport scans modified 100 days ago go, a driving
licence as old stays (os.utime sets the time). The dry run counts files, the real run
deletes exactly the due ones, and a second dry run finds none.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.retention import fileco
from tests.support.command import personvern


def _cli(cli: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return personvern(cli, env, "retention", *args)


def _write(path: Path, content: bytes, moment: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def test_dry_run_and_run_on_file_stores(personvern_cli: list[str], tmp_path: Path) -> None:
    now = datetime.now(UTC)
    stores = fileco.Stores(tmp_path / "rec", tmp_path / "scans", tmp_path / "vouchers")
    stores.vouchers.mkdir()
    for call_id, age in (("old", 200), ("new", 10)):
        started = (now - timedelta(days=age)).isoformat()
        _write(stores.recordings / "calls" / f"{call_id}.wav", b"RIFF", now)
        sidecar = json.dumps({"call_id": call_id, "started_at": started}).encode()
        _write(stores.recordings / "calls" / f"{call_id}.json", sidecar, now)
    for document_id, kind, age in (
        ("p-old", "passport", 100),
        ("p-new", "passport", 5),
        ("l-old", "driving_licence", 100),
    ):
        moment = now - timedelta(days=age)
        _write(stores.scans / "ids" / f"{document_id}.bin", b"scan", moment)
        sidecar = json.dumps({"document_id": document_id, "kind": kind}).encode()
        _write(stores.scans / "ids" / f"{document_id}.json", sidecar, moment)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env = (
        clean
        | stores.environ
        | {
            "PERSONVERN_HOME": str(tmp_path / "home"),
            "PERSONVERN_DATAMAP": str(fileco.write_datamap(tmp_path / "map")),
            "PERSONVERN_SECRET_KEY": "retention-cli-secret-0123456789abcdef",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )

    dry = _cli(personvern_cli, env, "run", "--dry-run")

    assert 0 == dry.returncode, dry.stderr
    lines = dry.stdout.splitlines()
    assert any(
        line.startswith("call-recordings: telephony.recordings: 1 of 2 files due to delete (50%)")
        for line in lines
    ), dry.stdout
    assert any(
        line.startswith("passport-copies: scans.documents: 1 of 3 files due to delete (33%)")
        for line in lines
    ), dry.stdout
    assert {"p-old", "p-new", "l-old"} == {Path(p).stem for p in stores.files(stores.scans)}

    run = _cli(personvern_cli, env, "run", "--confirm")

    assert 0 == run.returncode, run.stderr
    assert "call-recordings: telephony.recordings: 1 deleted, 0 anonymised, 0 held" in run.stdout
    assert {"calls/new.wav", "calls/new.json"} == stores.files(stores.recordings)
    assert {"p-new", "l-old"} == {Path(p).stem for p in stores.files(stores.scans)}
    again = _cli(personvern_cli, env, "run", "--dry-run")
    assert "0 of 1 files due" in again.stdout
