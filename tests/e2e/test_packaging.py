"""A plain installation carries no demo: Faker and the demo mail server come with `[demo]`."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path


def test_faker_and_the_demo_mail_server_are_only_in_the_demo_extra() -> None:
    from packaging.requirements import Requirement

    parsed = [Requirement(line) for line in requires("personvern") or []]
    demo_only = {
        r.name.lower() for r in parsed if r.marker and r.marker.evaluate({"extra": "demo"})
    }
    plain = {r.name.lower() for r in parsed if r.marker is None}
    assert {"aiosmtpd", "faker"} == demo_only
    assert set() == plain & {"aiosmtpd", "faker"}


def test_the_command_line_imports_neither() -> None:
    probe = (
        "import sys\n"
        "from personvern.cli import app\n"
        "from typer.main import get_command\n"
        "get_command(app)\n"
        "print(sorted(m for m in ('faker', 'aiosmtpd') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert "[]\n" == result.stdout


def test_the_demo_without_its_extra_says_how_to_get_it(
    personvern_cli: list[str], tmp_path: Path
) -> None:
    # A faker that cannot be imported stands first on the path, as if it were not installed.
    blocked = tmp_path / "blocked" / "faker"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(blocked.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["PERSONVERN_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [*personvern_cli, "demo", "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (2, "") == (result.returncode, result.stdout)
    assert (
        "personvern: error: the demo needs Faker, which a plain installation leaves out: "
        "pip install 'personvern[demo]' (make demo does)\n"
    ) == result.stderr


def test_the_command_listing_says_what_each_command_says_of_itself() -> None:
    from personvern.cli import COMMANDS, load_command

    for name, (_module, listed) in COMMANDS.items():
        own = (load_command(name).help or "").strip().splitlines()[0]
        assert own == listed, name


def test_help_and_version_import_no_command_module() -> None:
    probe = (
        "import sys\n"
        "from personvern.cli import main\n"
        "sys.argv = ['personvern', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'alembic', 'fastapi', 'pydantic', 'personvern.datamap.loader',\n"
        "         'personvern.cli.requests')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert "Commands:" in result.stdout
    assert "[]\n" == result.stderr


def test_the_command_lines_actor_is_the_account_not_what_the_environment_claims() -> None:
    import pwd

    env = {**os.environ, "LOGNAME": "colleague", "USER": "colleague", "USERNAME": "colleague"}
    result = subprocess.run(
        [sys.executable, "-c", "from personvern.cli.output import cli_actor; print(cli_actor())"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert f"cli:{pwd.getpwuid(os.getuid()).pw_name}\n" == result.stdout
