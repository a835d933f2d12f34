"""The real `personvern` command: db upgrade and token create/list/revoke, as a user runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.settings import Settings
from personvern.store.migrate import head_revision

PERSONVERN = Path(sys.executable).with_name("personvern")


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `personvern ARGS` with its data directory in ``home`` and no other PERSONVERN_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {"PERSONVERN_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [str(PERSONVERN), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_db_upgrade_creates_the_store_and_prints_the_revision(home: Path) -> None:
    result = run(home, "db", "upgrade")
    assert (0, "") == (result.returncode, result.stderr)
    expected = (
        f"sqlite:///{(home / 'personvern.db').resolve()}: at revision {head_revision()} (head)"
    )
    assert expected == result.stdout.strip()
    assert (home / "personvern.db").is_file()


def test_token_create_prints_the_token_once_and_it_works(
    home: Path, example_datamap_path: Path
) -> None:
    created = run(home, "token", "create", "--role", "auditor", "--name", "Revisor AS")
    assert 0 == created.returncode, created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"pv_[A-Za-z0-9_-]{43}", token)
    assert "it will not be shown again" in created.stderr
    assert token not in created.stderr

    listed = run(home, "token", "list")
    assert 0 == listed.returncode
    header, row = listed.stdout.strip().splitlines()
    assert header.split("\t") == [
        "id",
        "name",
        "role",
        "prefix",
        "status",
        "created",
        "last used",
        "expires",
    ]
    assert ["1", "Revisor AS", "auditor", token[:11] + "…", "active"] == row.split("\t")[:5]
    assert token not in listed.stdout

    # The token the CLI printed opens the API served from the same data directory.
    settings = Settings(home=home, database_url=None, datamap=None, auto_migrate=None)
    with TestClient(create_app(settings, example_datamap_path)) as client:
        response = client.get("/api/v1/datamap", headers={"Authorization": f"Bearer {token}"})
    assert 200 == response.status_code


def test_token_revoke_marks_the_token_revoked(home: Path) -> None:
    run(home, "token", "create", "--role", "agent", "--name", "Kundeservice")
    revoked = run(home, "token", "revoke", "1")
    assert 0 == revoked.returncode, revoked.stderr
    assert revoked.stdout.startswith("revoked token 1 'Kundeservice'")
    row = run(home, "token", "list").stdout.strip().splitlines()[1]
    assert "revoked" == row.split("\t")[4]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("token", "create", "--role", "adm", "--name", "x"),
            "personvern: error: unknown role 'adm' (did you mean 'admin'?)",
        ),
        (
            ("token", "revoke", "42"),
            "personvern: error: no API token with id 42 (`personvern token list` shows the ids)",
        ),
        (
            ("token", "create", "--role", "admin", "--name", " "),
            "personvern: error: a token needs a name (say who or what will use it)",
        ),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(
    home: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(home, *args)
    assert (2, "", [message]) == (result.returncode, result.stdout, result.stderr.splitlines())


def test_an_unreachable_store_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    env_home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {
        "PERSONVERN_HOME": str(env_home),
        "PERSONVERN_DATABASE_URL": "postgresql+psycopg://pv:hunter2@127.0.0.1:9/pv?connect_timeout=2",
    }
    result = subprocess.run(
        [str(PERSONVERN), "token", "list"], env=env, capture_output=True, text=True, check=False
    )
    lines = result.stderr.splitlines()
    assert (2, 1) == (result.returncode, len(lines))
    assert lines[0].startswith(
        "personvern: error: cannot use the store at postgresql+psycopg://pv:***@"
    )
    assert "hunter2" not in result.stderr
