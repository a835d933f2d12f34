"""`personvern user ...`: local staff accounts for the staff pages (docs/staff-accounts.md).

A generated password is printed once, alone on stdout (so a script can capture it),
with the explanation on stderr; it is never logged. A password of one's own comes in
through ``--password-stdin``: never as an argument, which every user of the machine can
read in the process list and which lands in the shell's history.
"""

from __future__ import annotations

import sys
from datetime import datetime

import typer

from personvern.cli.output import cli_actor, console, errors, plain, safe_text
from personvern.domain.audit.event import AuditActor
from personvern.domain.roles import Role
from personvern.settings import Settings, load_settings

user_app = typer.Typer(
    help="Local staff accounts for the staff pages (sign-in without an identity provider).",
    no_args_is_help=True,
)

STAFF_ROLES = ", ".join(role.value for role in Role if role is not Role.MARKETING_SYSTEM)
#: Enough for the longest password the policy allows (and its line break), and no more.
_STDIN_LIMIT = 4 * 1024 + 2

PasswordStdin = typer.Option(
    False,
    "--password-stdin",
    help="read the password from stdin (one line) instead of generating one",
)


def register(app: typer.Typer) -> None:
    """Add `user` to ``app``."""
    app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
    username: str = typer.Argument(..., help="the user name (a-z, 0-9, . _ - @; 3-64)"),
    role: str = typer.Option(..., "--role", "-r", help=f"one of: {STAFF_ROLES}"),
    password_stdin: bool = PasswordStdin,
) -> None:
    """Create a staff account; prints a generated password once unless --password-stdin."""
    from personvern.cli.application import store_unit_of_work
    from personvern.domain.roles import parse_role
    from personvern.security.staff_accounts import create_account

    parsed = parse_role(role)
    password = _read_password() if password_stdin else None
    settings = load_settings()
    with store_unit_of_work(settings) as uow:
        created = create_account(
            uow.session,
            username,
            parsed,
            password,
            created_by=cli_actor(),
            actor=_actor(),
        )
    account = created.account
    said = f"Created staff account '{account.username}' with role {account.role}."
    _show_password(said, created.generated_password)
    _warn_if_off(settings)


@user_app.command("list")
def user_list() -> None:
    """List the staff accounts (never their passwords)."""
    from personvern.cli.application import store_unit_of_work
    from personvern.security.staff_accounts import list_accounts
    from personvern.store.base import utcnow

    settings = load_settings()
    with store_unit_of_work(settings) as uow:
        found = list_accounts(uow.session)
    _warn_if_off(settings)
    if not found:
        errors.print(
            "no staff accounts yet; create one with `personvern user create`", markup=False
        )
        return
    now = utcnow()
    header = ("user", "role", "status", "created", "created by", "last sign-in", "locked until")
    rows = [
        (
            info.username,
            info.role,
            info.status(now),
            _when(info.created_at),
            info.created_by,
            _when(info.last_sign_in_at),
            _when(info.locked_until if info.status(now) == "locked" else None),
        )
        for info in found
    ]
    if not console.is_terminal:
        for row in (header, *rows):
            typer.echo("\t".join(safe_text(cell) for cell in row))
        return
    from rich.table import Table

    table = Table(*header, caption="times in UTC")
    for row in rows:
        table.add_row(*plain(row))
    console.print(table)


@user_app.command("disable")
def user_disable(username: str = typer.Argument(..., help="the account's user name")) -> None:
    """Disable a staff account: it can no longer sign in, and its sessions end now."""
    from personvern.cli.application import store_unit_of_work
    from personvern.security.staff_accounts import disable_account

    with store_unit_of_work(load_settings()) as uow:
        info = disable_account(uow.session, username, actor=_actor())
    console.print(f"disabled staff account '{info.username}'; its sessions ended", markup=False)


@user_app.command("unlock")
def user_unlock(username: str = typer.Argument(..., help="the account's user name")) -> None:
    """Unlock a staff account locked after failed sign-ins, and forget those failures."""
    from personvern.cli.application import store_unit_of_work
    from personvern.security.staff_accounts import unlock_account

    with store_unit_of_work(load_settings()) as uow:
        info = unlock_account(uow.session, username, actor=_actor())
    note = " (it is disabled, so it still cannot sign in)" if info.disabled_at else ""
    console.print(f"unlocked staff account '{info.username}'{note}", markup=False)


@user_app.command("reset-password")
def user_reset_password(
    username: str = typer.Argument(..., help="the account's user name"),
    password_stdin: bool = PasswordStdin,
) -> None:
    """Give a staff account a new password (printed once if generated); unlocks it too."""
    from personvern.cli.application import store_unit_of_work
    from personvern.security.staff_accounts import reset_password

    password = _read_password() if password_stdin else None
    with store_unit_of_work(load_settings()) as uow:
        generated = reset_password(uow.session, username, password, actor=_actor())
        name = _canonical(username)
    _show_password(f"New password set for staff account '{name}'; its sessions ended.", generated)


def _canonical(username: str) -> str:
    from personvern.domain.staff_accounts import parse_username

    return parse_username(username)


def _read_password() -> str:
    """The password from stdin: typed without echo at a terminal, else its first line."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            from personvern.cli.output import fail

            fail("the two passwords differ; nothing was changed")
        return first
    text = sys.stdin.read(_STDIN_LIMIT)
    # Only the line break that ends the line is not part of the password; anything
    # else (a second line) is refused by the policy, not silently dropped.
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def _show_password(said: str, generated: str | None) -> None:
    """Say what was done; a generated password alone on stdout, the words on stderr."""
    if generated is None:
        console.print(said, markup=False)
        return
    errors.print(
        f"{said} Its password is below; copy it now: it will not be shown again.", markup=False
    )
    typer.echo(generated)


def _warn_if_off(settings: Settings) -> None:
    from personvern.security.staff_accounts import local_accounts_enabled

    if not local_accounts_enabled(settings):
        errors.print(
            "note: local accounts cannot sign in here: an identity provider is configured "
            "(or PERSONVERN_STAFF_LOCAL_ACCOUNTS=false); set PERSONVERN_STAFF_LOCAL_ACCOUNTS"
            "=true to keep them as break-glass accounts",
            markup=False,
        )


def _actor() -> AuditActor:
    """The account running the command, as the audit trail records it."""
    return AuditActor(cli_actor(), via="cli")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"
