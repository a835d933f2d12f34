"""The real `personvern index build` and `index status`, as an operator runs them from cron."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.engine.test_mention_index import _MAP, _metadata, chat_log, tickets

PERSONVERN = Path(sys.executable).with_name("personvern")


@pytest.fixture
def helpdesk(tmp_path: Path) -> dict[str, str]:
    """A helpdesk on SQLite with a few tickets, and the environment the CLI runs with."""
    database = tmp_path / "helpdesk.sqlite"
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        _metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                tickets.insert(),
                [
                    {
                        "id": i,
                        "updated_at": datetime(2026, 1, 1 + i % 9, 8, 0),
                        "subject": "Hei",
                        "body": f"Fra kunde{i}@example.no, tlf 9{i:07d}",
                    }
                    for i in range(1, 51)
                ],
            )
            conn.execute(chat_log.insert(), [{"id": 1, "message": "ring 971 55 337"}])
    finally:
        engine.dispose()
    (tmp_path / "personvern.yaml").write_text(_MAP.format(kind="sqlite"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    return env | {
        "PERSONVERN_HOME": str(tmp_path / "home"),
        "PERSONVERN_DATAMAP": str(tmp_path / "personvern.yaml"),
        "MI_HELPDESK": f"sqlite:///{database}",
        "NO_COLOR": "1",
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERSONVERN), "index", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_build_then_refresh_then_status(helpdesk: dict[str, str]) -> None:
    built = run(helpdesk, "build")
    assert 0 == built.returncode, built.stderr
    assert (
        "helpdesk.tickets: built, 50 records read, 100 mentions kept (subject, body)"
        in built.stdout
    )
    assert "helpdesk.chat_log: built, 1 record read, 1 mention kept (message)" in built.stdout

    again = run(helpdesk, "build", "--system", "helpdesk")
    assert 0 == again.returncode, again.stderr
    assert "helpdesk.tickets: refreshed, " in again.stdout

    status = run(helpdesk, "status")
    assert 0 == status.returncode, status.stderr
    lines = [line.split("\t") for line in status.stdout.strip().splitlines()]
    assert ["dataset", "status", "marker", "high-water"] == lines[0][:4]
    shown = {line[0]: line for line in lines[1:]}
    assert ["ready", "updated_at", "2026-01-09T07:45:00"] == shown["helpdesk.tickets"][1:4]
    assert "100" == shown["helpdesk.tickets"][5]
    # Nothing of the text is printed: only counts, names and the marker.
    assert "kunde" not in status.stdout + built.stdout + again.stdout


def test_bad_input_is_one_line_with_exit_2(helpdesk: dict[str, str]) -> None:
    unknown = run(helpdesk, "build", "--system", "nosuch")
    assert 2 == unknown.returncode
    assert "personvern: error: the data map has no system nosuch" in unknown.stderr
    assert 1 == len(unknown.stderr.strip().splitlines())


def test_a_system_that_is_not_configured_fails_the_build(helpdesk: dict[str, str]) -> None:
    env = {k: v for k, v in helpdesk.items() if k != "MI_HELPDESK"}
    result = run(env, "build")
    assert 1 == result.returncode
    assert "helpdesk.tickets: failed: Helpdesk is not connected: MI_HELPDESK is not set" in (
        result.stderr
    )
