"""The command line reads the home's personvern.env for commands, not for help or the version."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from personvern.cli import main
from personvern.data_home import write_environment_file


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home whose personvern.env names a data map the environment does not."""
    home = tmp_path / "home"
    write_environment_file(home, {"PERSONVERN_DATAMAP": str(tmp_path / "map")}, "test")
    monkeypatch.setenv("PERSONVERN_HOME", str(home))
    monkeypatch.delenv("PERSONVERN_DATAMAP", raising=False)
    return home


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["personvern", *args])
    with pytest.raises(SystemExit) as ended:
        main()
    return int(ended.value.code or 0)


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("--version", "--help")])
def test_printing_help_or_the_version_leaves_the_environment_alone(
    home: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    assert 0 == _run(monkeypatch, *args)
    assert "PERSONVERN_DATAMAP" not in os.environ


def test_a_command_reads_the_homes_settings(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 0 == _run(monkeypatch, "check", "--help")
    assert str(tmp_path / "map") == os.environ["PERSONVERN_DATAMAP"]
