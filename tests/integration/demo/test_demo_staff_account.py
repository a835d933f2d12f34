"""The demo's staff account: made on the first run, a new password on every later one."""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.cli.application import store_unit_of_work
from personvern.cli.demo import DEMO_STAFF_USER, _print_next_steps, demo_staff_account
from personvern.domain.audit.event import AuditActor
from personvern.security.errors import AuthError
from personvern.security.staff_accounts import (
    disable_account,
    list_accounts,
    sign_in_with_password,
)
from personvern.settings import Settings


def _settings(home: Path, **values: object) -> Settings:
    return Settings(home=home, database_url=None, datamap=None, auto_migrate=None, **values)  # type: ignore[arg-type]


def _signs_in(settings: Settings, password: str) -> bool:
    with store_unit_of_work(settings) as uow:
        try:
            sign_in_with_password(
                uow.session, DEMO_STAFF_USER, password, settings=settings, client=None
            )
        except AuthError:
            return False
    return True


def test_each_run_gives_the_one_account_a_new_password(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    first = demo_staff_account(settings)
    second = demo_staff_account(settings)
    assert first.password is not None
    assert second.password is not None
    assert first.password != second.password
    assert not _signs_in(settings, first.password)
    assert _signs_in(settings, second.password)
    with store_unit_of_work(settings) as uow:
        found = [(info.username, info.role) for info in list_accounts(uow.session)]
    assert [("dpo", "privacy_officer")] == found


def test_the_banner_shows_the_console_with_the_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staff = demo_staff_account(_settings(tmp_path / "home"))
    _print_next_steps("127.0.0.1", 8000, "pv_token", staff)
    printed = capsys.readouterr().out
    line = f"Staff console: http://127.0.0.1:8000/staff/  user: dpo  password: {staff.password}"
    assert line in printed.splitlines()


def test_no_password_is_shown_when_the_account_cannot_sign_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path / "home")
    demo_staff_account(settings)
    with store_unit_of_work(settings) as uow:
        disable_account(uow.session, DEMO_STAFF_USER, actor=AuditActor("cli:test"))
    disabled = demo_staff_account(settings)
    assert (None, "the account 'dpo' was disabled") == (disabled.password, disabled.why_not)

    sso = _settings(
        tmp_path / "sso",
        oidc_issuer="https://sso.example.com/realms/company",
        oidc_client_id="personvern",
        oidc_role_map="personvern-dpo=privacy_officer",
    )
    off = demo_staff_account(sso)
    assert off.password is None
    _print_next_steps("127.0.0.1", 8000, "pv_token", off)
    assert (
        "Staff console: http://127.0.0.1:8000/staff/  "
        "(sign in through the identity provider configured here)"
    ) in capsys.readouterr().out.splitlines()
