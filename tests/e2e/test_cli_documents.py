"""`personvern notice`, `ropa` and `cookies` as a user runs them: the installed console script."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DATAMAP

PERSONVERN = Path(sys.executable).parent / "personvern"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script with the example map unless the test names another."""
    env = {k: v for k, v in os.environ.items() if k != "PERSONVERN_DATAMAP"}
    return subprocess.run(
        [str(PERSONVERN), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


MAP = ("--datamap", str(EXAMPLE_DATAMAP))


@pytest.mark.parametrize(
    ("lang", "fmt", "expected"),
    [
        ("nb", "txt", "PERSONVERNERKLÆRING FOR KUNDER"),
        ("nb", "md", "# Personvernerklæring for kunder"),
        ("nb", "html", "<!DOCTYPE html>"),
        ("en", "txt", "PRIVACY NOTICE FOR CUSTOMERS"),
        ("en", "md", "# Privacy notice for customers"),
        ("en", "html", "<!DOCTYPE html>"),
    ],
)
def test_notice_in_each_language_and_format(lang: str, fmt: str, expected: str) -> None:
    result = run("notice", "--lang", lang, "--format", fmt, *MAP)
    assert (0, "") == (result.returncode, result.stderr)
    assert expected == result.stdout.splitlines()[0]
    assert "Datatilsynet" in result.stdout


def test_notice_defaults_to_the_first_declared_language() -> None:
    result = run("notice", "--format", "txt", *MAP)
    assert 0 == result.returncode
    assert "PERSONVERNERKLÆRING FOR KUNDER" == result.stdout.splitlines()[0]


def test_notice_written_to_a_file_takes_its_format_from_the_suffix(tmp_path: Path) -> None:
    out = tmp_path / "personvern.md"
    result = run("notice", "--lang", "en", "--out", str(out), *MAP)
    assert (0, "") == (result.returncode, result.stdout)
    assert "# Privacy notice for customers" == out.read_text(encoding="utf-8").splitlines()[0]


def test_ropa_json_has_one_activity_per_purpose() -> None:
    result = run("ropa", "--format", "json", *MAP)
    assert 0 == result.returncode
    activities = json.loads(result.stdout)["activities"]
    # Twelve purposes of the map, then personvern's own processing (its own records).
    assert 13 == len(activities)
    assert "contract_administration" == activities[0]["key"]
    assert "personvern-own-records" == activities[-1]["key"]


def test_ropa_csv_parses() -> None:
    result = run("ropa", "--format", "csv", *MAP)
    assert 0 == result.returncode
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert 13 == len(rows)
    assert "Bookkeeping" == rows[3]["activity"]


def test_ropa_html() -> None:
    result = run("ropa", "--format", "html", *MAP)
    assert 0 == result.returncode
    assert "<h1>Record of processing activities</h1>" in result.stdout


@pytest.mark.parametrize(
    ("lang", "fmt", "expected"),
    [
        ("nb", "txt", "ERKLÆRING OM INFORMASJONSKAPSLER"),
        ("nb", "md", "# Erklæring om informasjonskapsler"),
        ("en", "txt", "COOKIE DECLARATION"),
        ("en", "html", "<!DOCTYPE html>"),
    ],
)
def test_cookies_in_each_language_and_format(lang: str, fmt: str, expected: str) -> None:
    result = run("cookies", "--lang", lang, "--format", fmt, *MAP)
    assert (0, "") == (result.returncode, result.stderr)
    assert expected == result.stdout.splitlines()[0]
    assert "nws_analytics_id" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("notice", "--lang", "de"),
            "personvern: error: the privacy notice is not available in 'de' (available: nb, en)",
        ),
        (
            ("cookies", "--lang", "fi"),
            "personvern: error: the cookie declaration is not available in 'fi' "
            "(available: nb, en)",
        ),
        (
            ("notice", "--format", "pdf"),
            "personvern: error: unknown format 'pdf' (use one of: html, md, txt)",
        ),
        (
            ("ropa", "--format", "xlsx"),
            "personvern: error: unknown format 'xlsx' (use one of: csv, json, html)",
        ),
    ],
)
def test_bad_language_or_format_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run(*args, *MAP)
    assert (2, "", [message]) == (result.returncode, result.stdout, result.stderr.splitlines())


def test_an_invalid_map_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "personvern.yaml"
    broken.write_text("organization: [not, a, mapping\n", encoding="utf-8")
    result = run("notice", "--datamap", str(broken))
    lines = result.stderr.splitlines()
    assert (2, 1) == (result.returncode, len(lines))
    assert lines[0].startswith("personvern: error: ")


def test_a_missing_map_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("ropa", cwd=tmp_path)
    assert 2 == result.returncode
    assert [
        "personvern: error: no data map found (looked for personvern.yaml, datamap) "
        "(pass --datamap PATH, set PERSONVERN_DATAMAP, or create ./personvern.yaml)"
    ] == result.stderr.splitlines()
