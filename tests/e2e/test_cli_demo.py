"""`personvern demo` as a user runs it: the real console script, seeding only."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PERSONVERN = ROOT / ".venv" / "bin" / "personvern"
SYSTEMS = ("crm", "billing", "access_control", "support", "analytics", "marketing")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    return subprocess.run(
        [str(PERSONVERN), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_seeds_sqlite_files_and_file_stores(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Run from the checkout, as `make demo` does: the data map is found by walking up.
    result = _run("demo", "--customers", "30", "--no-serve", "--home", str(home), cwd=ROOT)

    assert 0 == result.returncode, result.stderr
    demo = home / "demo"
    for system in SYSTEMS:
        assert (demo / f"{system}.sqlite").is_file(), system
    with sqlite3.connect(demo / "crm.sqlite") as conn:
        assert 30 == conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert list((demo / "telephony").glob("recordings/**/*.wav"))
    assert (demo / "identity-documents.fernet.key").is_file()
    assert "PERSONVERN_DEMO_CRM_URL=sqlite:///" in result.stdout
    assert "PERSONVERN_DEMO_RECORDINGS_DIR=" in result.stdout


def test_demo_rerun_skips_what_is_seeded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    args = ("demo", "--customers", "30", "--no-serve", "--home", str(home))
    assert 0 == _run(*args, cwd=ROOT).returncode

    again = _run(*args, cwd=ROOT)

    assert 0 == again.returncode, again.stderr
    assert "Already seeded" in again.stdout
    with sqlite3.connect(home / "demo" / "crm.sqlite") as conn:
        assert 30 == conn.execute("SELECT count(*) FROM customers").fetchone()[0]


def test_demo_finds_the_data_map_from_outside_the_checkout(tmp_path: Path) -> None:
    # An editable install: the example folder is found above the package's own files.
    result = _run("demo", "--customers", "5", "--no-serve", "--home", "home", cwd=tmp_path)
    assert 0 == result.returncode, result.stderr
    assert (tmp_path / "home" / "demo" / "crm.sqlite").is_file()


def test_demo_rejects_a_bad_database_url(tmp_path: Path) -> None:
    result = _run(
        "demo", "--no-serve", "--home", str(tmp_path), "--crm-url", "nosuchdb://x", cwd=ROOT
    )
    assert 2 == result.returncode
    assert "personvern: error:" in result.stderr
    assert "Traceback" not in result.stderr
