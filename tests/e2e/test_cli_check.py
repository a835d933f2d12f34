"""`personvern check` as a user runs it: exit codes and file:line:column output."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.integration.datamap.broken_map import break_in_ten_places


def run(cli: list[str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI without inheriting a data map location from the environment."""
    env = {k: v for k, v in os.environ.items() if k != "PERSONVERN_DATAMAP"}
    return subprocess.run(
        [*cli, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False
    )


def test_valid_example_exits_zero(personvern_cli: list[str], example_datamap_path: Path) -> None:
    result = run(personvern_cli, "check", str(example_datamap_path))
    assert 0 == result.returncode, result.stderr
    assert "ok (14 file(s), 11 systems" in result.stdout


def test_errors_print_location_and_hint_and_exit_one(
    personvern_cli: list[str], example_datamap_copy: Path
) -> None:
    crm = example_datamap_copy / "systems" / "crm.yaml"
    crm.write_text(
        crm.read_text(encoding="utf-8").replace("user.job_title,", "user.jobtitle,"),
        encoding="utf-8",
    )
    result = run(personvern_cli, "check", str(example_datamap_copy))
    assert 1 == result.returncode
    lines = result.stderr.splitlines()
    line = next(n for n, text in enumerate(crm.read_text().splitlines(), 1) if "jobtitle" in text)
    assert lines[0].startswith(f"{crm}:{line}:")
    assert lines[0].endswith("error: unknown data category 'user.jobtitle'")
    assert "    hint: did you mean 'user.job_title'?" == lines[1]
    assert "Traceback" not in result.stderr


def test_default_location_is_personvern_yaml_in_cwd(
    personvern_cli: list[str], tmp_path: Path
) -> None:
    result = run(personvern_cli, "check", cwd=tmp_path)
    assert 2 == result.returncode
    assert result.stderr.startswith("personvern: error: no data map found")
    assert "Traceback" not in result.stderr


def test_malformed_yaml_exits_one_without_traceback(
    personvern_cli: list[str], tmp_path: Path
) -> None:
    broken = tmp_path / "personvern.yaml"
    broken.write_text("organization: {name: [unclosed\n", encoding="utf-8")
    result = run(personvern_cli, "check", cwd=tmp_path)
    assert 1 == result.returncode
    assert result.stderr.startswith(f"{Path('personvern.yaml')}:2:1: error: invalid YAML")
    assert "Traceback" not in result.stderr


def test_strict_fails_on_warnings(personvern_cli: list[str], example_datamap_copy: Path) -> None:
    retention = example_datamap_copy / "retention.yaml"
    text = retention.read_text(encoding="utf-8")
    start, end = text.index("  - key: email\n"), len(text)
    retention.write_text(text[:start] + text[end:], encoding="utf-8")
    relaxed = run(personvern_cli, "check", str(example_datamap_copy))
    strict = run(personvern_cli, "check", "--strict", str(example_datamap_copy))
    assert (0, 1) == (relaxed.returncode, strict.returncode)
    assert "warning: user.contact.email in email.messages has no retention rule" in strict.stderr


def test_import_fides_writes_a_file(personvern_cli: list[str], tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "fides_dataset.yml"
    out = tmp_path / "shop.yaml"
    result = run(personvern_cli, "import-fides", str(fixture), "--out", str(out))
    assert 0 == result.returncode, result.stderr
    assert "systems:\n- key: shop_db\n" in out.read_text(encoding="utf-8")
    missing = run(personvern_cli, "import-fides", str(tmp_path / "nope.yml"))
    assert (2, f"personvern: error: {tmp_path / 'nope.yml'}: no such file or folder\n") == (
        missing.returncode,
        missing.stderr,
    )


def test_import_fides_reads_a_folder_and_prints_each_note_on_stderr(
    personvern_cli: list[str], tmp_path: Path
) -> None:
    project = Path(__file__).resolve().parents[1] / "fixtures" / "fides" / "project"
    out = tmp_path / "imported.yaml"

    result = run(personvern_cli, "import-fides", str(project), "--out", str(out))

    assert 0 == result.returncode, result.stderr
    assert f"wrote {out}\n" == result.stdout
    notes = [
        "systems.yml: no top-level 'dataset:' list; skipped",
        "billing_db: subjects default to [customer]; adjust per dataset",
        "crm_db: subjects default to [customer]; adjust per dataset",
        "crm_db.contact.ad_audience_id: reference to marketing_warehouse.audience.member_id "
        "dropped: dataset 'marketing_warehouse' is not among the imported files (import the "
        "folder that holds it too)",
    ]
    assert [f"note: {note}" for note in notes] == result.stderr.splitlines()
    written = out.read_text(encoding="utf-8").splitlines()
    assert [f"# NOTE: {note}" for note in notes] == written[3:7]
    assert "references: crm_db.contact.billing_account_id" in out.read_text(encoding="utf-8")


def test_import_fides_to_stdout_keeps_the_notes_out_of_the_yaml_stream(
    personvern_cli: list[str], tmp_path: Path
) -> None:
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "fides" / "saas_newsletter.yml"

    result = run(personvern_cli, "import-fides", str(fixture))

    assert 0 == result.returncode, result.stderr
    assert "- key: saas_newsletter\n" in result.stdout
    assert 12 == len(result.stderr.splitlines())
    assert all(line.startswith("note: saas_newsletter") for line in result.stderr.splitlines())


def test_import_fides_refuses_an_unreadable_file_in_one_line(
    personvern_cli: list[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("dataset:\n  - fides_key: a\n    collections: [\n", encoding="utf-8")

    result = run(personvern_cli, "import-fides", str(broken))

    assert 2 == result.returncode
    assert [
        f"personvern: error: {broken}:4:1: invalid YAML: expected the node content, "
        "but found '<stream end>' while parsing a flow node"
    ] == result.stderr.splitlines()
    assert "" == result.stdout


def test_every_error_of_a_map_is_printed_in_one_run(
    personvern_cli: list[str], example_datamap_copy: Path
) -> None:
    expected = break_in_ten_places(example_datamap_copy)

    result = run(personvern_cli, "check", str(example_datamap_copy))

    assert (1, "") == (result.returncode, result.stdout)
    assert "Traceback" not in result.stderr
    *problems, summary = [
        line for line in result.stderr.splitlines() if not line.startswith("    hint: ")
    ]
    printed = [re.fullmatch(r"(.+):(\d+):\d+: (.+)", line) for line in problems]
    assert [(str(e.file), str(e.line), e.text) for e in expected] == [
        match.groups() if match else (line, "", "")
        for match, line in zip(printed, problems, strict=True)
    ]
    assert f"{example_datamap_copy}: 10 error(s), 0 warning(s)" == summary
