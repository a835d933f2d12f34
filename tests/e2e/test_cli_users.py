"""The real `personvern user` commands on a fresh home: create, list, disable, unlock, reset."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from personvern.domain.staff_accounts import AccountLockedError
from personvern.security.errors import AuthError
from personvern.security.principal import Principal
from personvern.security.staff_accounts import sign_in_with_password
from personvern.settings import Settings
from personvern.store.audit_events import AuditTrail
from personvern.store.db import make_engine, make_session_factory

PERSONVERN = Path(sys.executable).with_name("personvern")
GENERATED = re.compile(r"([A-Za-z0-9]{5}-){4}[A-Za-z0-9]{5}")
PASSPHRASE = "kaffe og vafler hver fredag"


def run(
    home: Path, *args: str, stdin: str | None = None, **env_extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `personvern ARGS` with its data directory in ``home`` and no other PERSONVERN_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env |= {"PERSONVERN_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200", **env_extra}
    return subprocess.run(
        [str(PERSONVERN), *args],
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[Session]:
    """A session on the home's store (the commands below create it)."""
    engine = make_engine(f"sqlite:///{home / 'personvern.db'}")
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def sign_in(session: Session, home: Path, username: str, password: str) -> Principal:
    settings = Settings(home=home, database_url=None, datamap=None, auto_migrate=None)
    principal = sign_in_with_password(session, username, password, settings=settings, client=None)
    session.commit()
    return principal


def test_create_prints_a_generated_password_once_and_it_signs_in(
    home: Path, store: Session
) -> None:
    created = run(home, "user", "create", "Dina.DPO", "--role", "privacy-officer")
    assert 0 == created.returncode, created.stderr
    password = created.stdout.strip()
    assert GENERATED.fullmatch(password)
    assert (
        "Created staff account 'dina.dpo' with role privacy_officer. Its password is below; "
        "copy it now: it will not be shown again.\n"
    ) == created.stderr
    principal = sign_in(store, home, "dina.dpo", password)
    assert ("local:dina.dpo", "password") == (principal.subject, principal.via)

    listed = run(home, "user", "list")
    assert 0 == listed.returncode, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert [
        "user",
        "role",
        "status",
        "created",
        "created by",
        "last sign-in",
        "locked until",
    ] == header.split("\t")
    cells = row.split("\t")
    assert ["dina.dpo", "privacy_officer", "active"] == cells[:3]
    assert cells[4].startswith("cli:")
    assert "-" != cells[5]
    assert password not in listed.stdout + listed.stderr
    # Neither the store nor its audit trail holds the password.
    assert password.encode() not in (home / "personvern.db").read_bytes()
    actions = [row.action for row in AuditTrail(store).page(limit=100)]
    assert ["staff_account.created", "login.succeeded"] == actions


def test_a_password_of_ones_own_comes_through_stdin(home: Path, store: Session) -> None:
    created = run(
        home, "user", "create", "ola", "-r", "agent", "--password-stdin", stdin=PASSPHRASE + "\n"
    )
    assert 0 == created.returncode, created.stderr
    assert ("Created staff account 'ola' with role agent.\n", "") == (
        created.stdout,
        created.stderr,
    )
    assert "agent" == sign_in(store, home, "ola", PASSPHRASE).role

    reset = run(
        home, "user", "reset-password", "OLA", "--password-stdin", stdin="ny passfrase 2027"
    )
    assert 0 == reset.returncode, reset.stderr
    assert "New password set for staff account 'ola'; its sessions ended.\n" == reset.stdout
    with pytest.raises(AuthError):
        sign_in(store, home, "ola", PASSPHRASE)
    assert sign_in(store, home, "ola", "ny passfrase 2027")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("user", "create", "kari", "--role", "privacy-oficer"),
            None,
            "unknown role 'privacy-oficer' (did you mean 'privacy_officer'?)",
        ),
        (
            ("user", "create", "kari", "--role", "marketing_system"),
            None,
            "'marketing_system' is the role of a system, not of a person",
        ),
        (
            ("user", "create", "kari nordmann", "--role", "agent"),
            None,
            "'kari nordmann' is not a valid user name (3-64 characters: lower-case letters",
        ),
        (
            ("user", "create", "kari", "--role", "agent", "--password-stdin"),
            "hemmelig\n",
            "the password has 8 characters; at least 12 are needed (use at least 12",
        ),
        (
            ("user", "create", "kari", "--role", "agent", "--password-stdin"),
            "kari-sitt-passord\n",
            "the password contains the user name",
        ),
        (
            ("user", "create", "kari", "--role", "agent", "--password-stdin"),
            "first line is long\nsecond line\n",
            "the password contains a control character",
        ),
        (("user", "disable", "nobody"), None, "there is no staff account 'nobody'"),
        (("user", "unlock", "nobody"), None, "there is no staff account 'nobody'"),
        (("user", "reset-password", "nobody"), None, "there is no staff account 'nobody'"),
    ],
)
def test_bad_input_is_one_clear_line_and_changes_nothing(
    home: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = run(home, *args, stdin=stdin)
    assert 2 == result.returncode
    assert "" == result.stdout
    assert 1 == len(result.stderr.splitlines()), result.stderr
    assert result.stderr.startswith("personvern: error: " + message), result.stderr
    assert "Traceback" not in result.stderr
    assert "no staff accounts yet" in run(home, "user", "list").stderr


def test_a_duplicate_is_refused(home: Path) -> None:
    assert 0 == run(home, "user", "create", "kari", "-r", "admin").returncode
    again = run(home, "user", "create", "KARI", "-r", "agent")
    assert (2, "") == (again.returncode, again.stdout)
    assert (
        "personvern: error: a staff account 'kari' exists already (choose another user name, "
        "or `personvern user reset-password kari`)\n"
    ) == again.stderr
    assert "\tadmin\t" in run(home, "user", "list").stdout


def test_disable_unlock_and_reset_password(home: Path, store: Session) -> None:
    password = run(home, "user", "create", "kari", "-r", "auditor").stdout.strip()
    settings = Settings(home=home, database_url=None, datamap=None, auto_migrate=None)
    for _ in range(settings.staff_lockout_attempts - 1):
        with pytest.raises(AuthError):
            sign_in(store, home, "kari", "not her password")
    with pytest.raises(AccountLockedError):
        sign_in(store, home, "kari", "not her password")
    assert "\tlocked\t" in run(home, "user", "list").stdout

    unlocked = run(home, "user", "unlock", "kari")
    assert ("unlocked staff account 'kari'\n", 0) == (unlocked.stdout, unlocked.returncode)
    assert sign_in(store, home, "kari", password)

    disabled = run(home, "user", "disable", "kari")
    assert 0 == disabled.returncode, disabled.stderr
    assert "disabled staff account 'kari'; its sessions ended\n" == disabled.stdout
    with pytest.raises(AuthError):
        sign_in(store, home, "kari", password)
    assert "\tdisabled\t" in run(home, "user", "list").stdout

    reset = run(home, "user", "reset-password", "kari")
    assert 0 == reset.returncode, reset.stderr
    new = reset.stdout.strip()
    assert GENERATED.fullmatch(new)
    assert new not in reset.stderr
    assert "it will not be shown again" in reset.stderr
    # Still disabled: a new password does not bring an account back.
    with pytest.raises(AuthError):
        sign_in(store, home, "kari", new)
    actions = [row.action for row in AuditTrail(store).page(limit=100)]
    assert [
        "staff_account.created",
        "staff_account.unlocked",
        "staff_account.disabled",
        "staff_account.password_reset",
    ] == [a for a in actions if a.startswith("staff_account.") and a != "staff_account.locked"]


def test_the_commands_say_when_single_sign_on_turns_local_accounts_off(home: Path) -> None:
    sso = {
        "PERSONVERN_OIDC_ISSUER": "https://sso.example.com/realms/company",
        "PERSONVERN_OIDC_CLIENT_ID": "personvern",
        "PERSONVERN_OIDC_ROLE_MAP": "personvern-dpo=privacy_officer",
    }
    created = run(home, "user", "create", "breakglass", "-r", "admin", **sso)
    assert 0 == created.returncode, created.stderr
    assert "note: local accounts cannot sign in here" in created.stderr
    kept = run(home, "user", "list", PERSONVERN_STAFF_LOCAL_ACCOUNTS="true", **sso)
    assert "note:" not in kept.stderr
    assert "breakglass\tadmin\tactive" in kept.stdout
