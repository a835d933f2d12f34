"""The real `personvern keys` commands on a fresh home: status, rotate, shred."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

PERSONVERN = Path(sys.executable).with_name("personvern")


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `personvern ARGS` with its data directory in ``home`` and no other PERSONVERN_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {"PERSONVERN_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(PERSONVERN), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_status_rotate_and_shred_on_a_fresh_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    status = run(home, "keys", "status")
    assert 0 == status.returncode, status.stderr
    assert "current KEK: local:v1" in status.stdout
    assert "data keys: 0 live, 0 destroyed" in status.stdout
    assert 0o600 == stat.S_IMODE((home / "kek.key").stat().st_mode)
    assert (home / "keys.db").exists()

    rotated = run(home, "keys", "rotate")
    assert 0 == rotated.returncode, rotated.stderr
    assert "new KEK local:v2: re-wrapped 0 data key(s)" in rotated.stdout
    assert "local:v1" in rotated.stdout  # no key uses it: reported removable

    unknown = run(home, "keys", "shred", "--subject-key", "a" * 64)
    assert 1 == unknown.returncode
    assert "no live data key" in unknown.stderr + unknown.stdout

    malformed = run(home, "keys", "shred", "--subject-key", "kari@example.no")
    assert 2 == malformed.returncode
    assert "64 hex characters" in malformed.stderr + malformed.stdout
