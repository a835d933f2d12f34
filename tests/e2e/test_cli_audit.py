"""The real `personvern audit verify` and `audit anchor`: exit codes as a company relies on them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.e2e.test_cli_store import run


def test_verify_and_anchor_hold_until_someone_edits_the_trail(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # One command that records: token creation (its event is 1, the store starts empty).
    assert 0 == run(home, "token", "create", "--role", "auditor", "--name", "Revisor").returncode

    verified = run(home, "audit", "verify")
    assert (0, "chain intact: 1 event, head ") == (
        verified.returncode,
        verified.stdout[: len("chain intact: 1 event, head ")],
    )
    anchored = run(home, "audit", "anchor")
    assert 0 == anchored.returncode, anchored.stderr
    anchor = json.loads(anchored.stdout)
    assert 1 == anchor["sequence"]
    assert anchor["public_key"] in anchored.stderr
    assert 0o600 == (home / "audit-anchor.key").stat().st_mode & 0o777
    kept = tmp_path / "anchor.json"
    kept.write_text(anchored.stdout, encoding="utf-8")
    assert 0 == run(home, "audit", "anchor", "--verify", str(kept)).returncode

    with sqlite3.connect(home / "personvern.db") as db:
        db.execute("UPDATE audit_events SET actor_subject = 'someone else' WHERE sequence = 1")
    broken = run(home, "audit", "verify")
    assert 1 == broken.returncode
    assert "chain broken at event 1 (altered)" in broken.stderr
    assert 1 == run(home, "audit", "anchor", "--verify", str(kept)).returncode
