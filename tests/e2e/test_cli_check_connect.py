"""`personvern check --connect` as a privacy officer runs it, on the second test company.

The company (tests/support/second_company) is seeded into SQLite with the indexes its
seed gives it: one reference column has none, and every e-mail column has a plain
index that does not serve SQLite's case-insensitive comparison, except the contacts'
address, which the map says is stored normalised.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support.second_company.datamap import CONNECTIONS, data_map
from tests.support.second_company.generator import BUILT, generate
from tests.support.second_company.seed import Seeded, seed


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    """The second company's map and a SQLite copy of its systems (read, never changed)."""
    home = tmp_path_factory.mktemp("check-connect")
    return data_map(home / "datamap", BUILT), seed(
        generate(), f"sqlite:///{home / 'nordavind.sqlite'}", home / "files"
    )


def run(cli: list[str], environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with the systems' variables as given, and none of the company's otherwise."""
    env = {k: v for k, v in os.environ.items() if k not in CONNECTIONS.values()}
    env.pop("PERSONVERN_DATAMAP", None)
    return subprocess.run(
        [*cli, "check", "--connect", *args],
        capture_output=True,
        text=True,
        env={**env, **environ},
        timeout=120,
        check=False,
    )


def test_every_system_is_reported_with_its_rows_and_the_indexes_to_add(
    personvern_cli: list[str], company: tuple[Path, Seeded]
) -> None:
    datamap, seeded = company
    rows = len(generate().rows["crm.kunder"])

    result = run(personvern_cli, seeded.environ(), str(datamap))
    strict = run(personvern_cli, seeded.environ(), "--strict", str(datamap))

    assert (0, 1) == (result.returncode, strict.returncode), result.stderr
    out = result.stdout
    assert "\ncrm (sqlite database): connected\n" in out
    assert re.search(rf"\n  kunder +{rows} rows\n", out)
    assert "\nopptak (files): connected\n" in out
    assert (
        "  warning: crm.kontaktpersoner.kunde_id: no index serves kunde_id IN (...), so each "
        "request reads the whole table (12 rows now)\n"
        "    fix: CREATE INDEX ix_kontaktpersoner_kunde_id ON kontaktpersoner (kunde_id);\n"
    ) in out
    assert "    fix: CREATE INDEX ix_kunder_epost_nocase ON kunder (epost COLLATE NOCASE);\n" in out
    # Stored normalised: its plain index serves.
    assert "crm.kontaktpersoner.epost" not in out
    assert "note: nettlogg.sidevisninger.url: free text, searched by substring; no SQLite" in out
    assert out.rstrip().endswith(
        "connected to 7 of 7 system(s): 0 error(s), 5 warning(s), 6 note(s)"
    )
    assert "" == result.stderr


def test_a_file_nobody_owns_and_a_system_not_set_are_warnings(
    personvern_cli: list[str], company: tuple[Path, Seeded], tmp_path: Path
) -> None:
    datamap, seeded = company
    environ = seeded.environ()
    del environ[CONNECTIONS["nettlogg"]]
    stray = seeded.folder / "opptak" / "samtaler" / "2019" / "samtale-stray.wav"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"RIFF")
    try:
        result = run(personvern_cli, environ, str(datamap))
    finally:
        stray.unlink()

    assert 0 == result.returncode, result.stderr
    assert (
        f"\nnettlogg (postgresql): {CONNECTIONS['nettlogg']} is not set\n"
        f"  warning: nettlogg: not checked, {CONNECTIONS['nettlogg']} is not set\n"
    ) in result.stdout
    assert (
        "  warning: opptak.samtaleopptak: 1 file(s) belong to nobody its owner rule can name, "
        "so a request cannot tell whose they are\n"
    ) in result.stdout


def test_a_missing_column_and_an_unreachable_system_fail_without_a_traceback(
    personvern_cli: list[str], company: tuple[Path, Seeded], tmp_path: Path
) -> None:
    datamap, seeded = company
    copy = tmp_path / "copy.sqlite"
    source = sqlite3.connect(seeded.url.removeprefix("sqlite:///"))
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.execute("ALTER TABLE samtaler DROP COLUMN varighet_sek")
    target.commit()
    target.close()
    environ = {
        variable: f"sqlite:///{copy}" if value == seeded.url else value
        for variable, value in seeded.environ().items()
    }
    environ[CONNECTIONS["faktura"]] = f"sqlite:///{tmp_path / 'gone.sqlite'}"
    environ[CONNECTIONS["opptak"]] = str(tmp_path / "no-recordings")

    result = run(personvern_cli, environ, str(datamap))

    assert 1 == result.returncode
    assert (
        "  error: telefoni.samtaler.varighet_sek: the table has no such column\n"
        "    hint: the data map and the database disagree; fix the one that is wrong\n"
    ) in result.stdout
    assert "\nfaktura (postgresql): database file not found\n" in result.stdout
    assert "  error: faktura cannot be reached: database file not found\n" in result.stdout
    assert (
        f"  error: opptak cannot be reached: {tmp_path / 'no-recordings'} is missing\n"
        f"    hint: check the address in {CONNECTIONS['opptak']} and that the system lets "
        "personvern in\n"
    ) in result.stdout
    assert result.stdout.rstrip().endswith(
        "connected to 5 of 7 system(s): 3 error(s), 4 warning(s), 6 note(s)"
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "gone.sqlite").exists()


def test_files_named_by_rows_of_a_system_not_reached_are_not_counted(
    personvern_cli: list[str], company: tuple[Path, Seeded]
) -> None:
    datamap, seeded = company
    environ = seeded.environ()
    del environ[CONNECTIONS["telefoni"]]

    result = run(personvern_cli, environ, str(datamap))

    assert 0 == result.returncode, result.stderr
    assert (
        "  warning: opptak.samtaleopptak: files not counted, telefoni could not be reached\n"
    ) in result.stdout
