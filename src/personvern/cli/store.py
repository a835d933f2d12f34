"""`personvern db ...` and `personvern token ...`: the store's schema and the API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import typer
from rich.table import Table

from personvern.cli.output import cli_actor, console, errors, plain, safe_text
from personvern.domain.audit.event import AuditActor
from personvern.domain.roles import Role, parse_role
from personvern.settings import load_settings
from personvern.store.base import utcnow
from personvern.store.db import display_url, store_url
from personvern.store.migrate import create_revision, upgrade_to_head

db_app = typer.Typer(help="personvern's own database.", no_args_is_help=True)
token_app = typer.Typer(help="Scoped API tokens for the HTTP API.", no_args_is_help=True)

ROLE_NAMES = ", ".join(role.value for role in Role)


def register(app: typer.Typer) -> None:
    """Add `db` and `token` to ``app``."""
    app.add_typer(db_app, name="db")
    app.add_typer(token_app, name="token")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the store and print the revision it is at."""
    settings = load_settings()
    revision = upgrade_to_head(settings)
    console.print(
        f"{display_url(store_url(settings))}: at revision {revision} (head)", markup=False
    )


@db_app.command("revision", hidden=True)
def db_revision(
    message: str = typer.Option(..., "--message", "-m", help="what the migration does"),
) -> None:
    """Developers: autogenerate a migration from the models against an up-to-date store."""
    path = create_revision(load_settings(), message)
    console.print(f"wrote {path}; review it before committing", markup=False)


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., "--role", "-r", help=f"one of: {ROLE_NAMES}"),
    name: str = typer.Option(..., "--name", "-n", help="who or what will use the token"),
    expires_in_days: int | None = typer.Option(
        None, "--expires-in-days", min=1, help="the token stops working after this many days"
    ),
) -> None:
    """Create an API token and print it once; only its hash is kept."""
    from personvern.security.tokens import issue_token

    parsed = parse_role(role)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    from personvern.cli.application import store_unit_of_work

    with store_unit_of_work(load_settings()) as uow:
        issued = issue_token(
            uow.session, name=name, role=parsed, expires_at=expires_at, actor=_cli_actor()
        )
    info = issued.info
    # The token alone on stdout, so `TOKEN=$(personvern token create ...)` works; the
    # explanation goes to stderr where a person sees it and a pipe does not.
    errors.print(
        f"Created token {info.id} '{info.name}' with role {info.role}"
        + (f", expiring {_when(info.expires_at)} UTC" if info.expires_at else "")
        + ". Copy it now: it will not be shown again.",
        markup=False,
    )
    typer.echo(issued.token)


@token_app.command("list")
def token_list() -> None:
    """List the API tokens (never the tokens themselves)."""
    from personvern.cli.application import store_unit_of_work
    from personvern.security.tokens import list_tokens

    with store_unit_of_work(load_settings()) as uow:
        tokens = list_tokens(uow.session)
    if not tokens:
        errors.print("no API tokens yet; create one with `personvern token create`", markup=False)
        return
    now = utcnow()
    header = ("id", "name", "role", "prefix", "status", "created", "last used", "expires")
    rows = [
        (
            str(info.id),
            safe_text(info.name),
            info.role,
            info.prefix + "…",
            info.status(now),
            _when(info.created_at),
            _when(info.last_used_at),
            _when(info.expires_at),
        )
        for info in tokens
    ]
    if not console.is_terminal:
        # Piped: tab-separated lines a script can cut, without a table's wrapping.
        for row in (header, *rows):
            typer.echo("\t".join(row))
        return
    table = Table(*header, caption="times in UTC")
    for row in rows:
        table.add_row(*plain(row))
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., help="the token's id (see `token list`)"),
) -> None:
    """Revoke an API token; it stops working at once."""
    from personvern.cli.application import store_unit_of_work
    from personvern.security.tokens import revoke_token

    with store_unit_of_work(load_settings()) as uow:
        info = revoke_token(uow.session, token_id, actor=_cli_actor())
    console.print(f"revoked token {info.id} '{info.name}' ({info.prefix}…)", markup=False)


def _cli_actor() -> AuditActor:
    """The account running the command, as the audit trail records it."""
    return AuditActor(cli_actor(), via="cli")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"
