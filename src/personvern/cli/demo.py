"""`personvern demo`: seed the example company's own systems, then serve personvern on them.

The demo company is the one described by ``examples/workspace-company``. That folder
is not part of the installed package, so the command takes ``--datamap``, else
``$PERSONVERN_DATAMAP``, else the first ``examples/workspace-company`` found in the
current directory or one of its parents (a checkout of personvern).

Its databases are SQLite files under ``<home>/demo/`` unless ``--company-db-url`` (one
URL for every system) or ``--crm-url``/``--billing-url``/... (one per system) point
elsewhere. The environment variables that the data map's ``connection_env`` names
are set in this process, so the server reads the demo's systems through them.

The company's e-mail is a ``webhook`` system. While the demo serves, the same server
also serves the demo mailbox (personvern.demo.mailbox) under ``/demo/mailbox``, with a
signing secret made for this run only, and the e-mail system's variables point there:
request runs in the server reach the mailbox through the signed webhook contract, as
they would reach the company's real mail bridge.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from personvern.cli.output import console

if TYPE_CHECKING:
    from fastapi import FastAPI

    from personvern.demo.mailbox import Mailbox
    from personvern.settings import Settings


def register(app: typer.Typer) -> None:
    """Add `demo` to ``app``."""
    app.command("demo")(demo)


def _display(value: str) -> str:
    # Database URLs may carry a password; the terminal (and its scrollback) must not.
    if "://" in value:
        try:
            return make_url(value).render_as_string(hide_password=True)
        except ArgumentError:
            return "<url>"
    return value


def demo(
    customers: int = typer.Option(10_000, "--customers", min=1, help="number of customers"),
    seed: int = typer.Option(42, "--seed", help="random seed; the same seed gives the same data"),
    home: Path | None = typer.Option(
        None, "--home", help="data directory (default: $PERSONVERN_HOME, else ./.personvern)"
    ),
    datamap: Path | None = typer.Option(
        None,
        "--datamap",
        "-d",
        help="the example company's data map (default: $PERSONVERN_DATAMAP, else "
        "examples/workspace-company in this folder or a parent)",
    ),
    company_db_url: str | None = typer.Option(
        None, "--company-db-url", help="one SQLAlchemy URL for all the demo company's databases"
    ),
    crm_url: str | None = typer.Option(None, "--crm-url", help="URL of the CRM database"),
    billing_url: str | None = typer.Option(None, "--billing-url", help="URL of billing"),
    access_control_url: str | None = typer.Option(
        None, "--access-control-url", help="URL of access control"
    ),
    support_url: str | None = typer.Option(None, "--support-url", help="URL of the support desk"),
    analytics_url: str | None = typer.Option(None, "--analytics-url", help="URL of analytics"),
    marketing_url: str | None = typer.Option(None, "--marketing-url", help="URL of marketing"),
    recordings_dir: Path | None = typer.Option(
        None,
        "--recordings-dir",
        help="root of the call recordings (default: <home>/demo/telephony)",
    ),
    identity_documents_dir: Path | None = typer.Option(
        None,
        "--identity-documents-dir",
        help="root of the identity documents (default: <home>/demo/identity_documents)",
    ),
    no_serve: bool = typer.Option(False, "--no-serve", help="seed only; do not start the server"),
    host: str | None = typer.Option(None, "--host", help="address to listen on"),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="port to listen on"),
) -> None:
    """Seed the demo company's databases and files (once), then serve personvern on them."""
    from personvern.datamap.loader import load_datamap
    from personvern.demo import demo_environment, find_example_datamap, seed_demo_company
    from personvern.demo.targets import targets_from_urls
    from personvern.settings import load_settings

    overrides: dict[str, object] = {}
    if home is not None:
        overrides["home"] = home
    settings = load_settings(**overrides)
    datamap_path = (datamap or find_example_datamap()).resolve()
    load_datamap(datamap_path)  # refuse an invalid map before spending time on seeding
    targets = targets_from_urls(
        settings.home,
        company_db_url=company_db_url,
        system_urls={
            "crm": crm_url,
            "billing": billing_url,
            "access_control": access_control_url,
            "support": support_url,
            "analytics": analytics_url,
            "marketing": marketing_url,
        },
        recordings_dir=recordings_dir,
        identity_documents_dir=identity_documents_dir,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("checking the demo company", total=None)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(
                task, description=f"{stage} customers and prospects", completed=done, total=total
            )

        summary = seed_demo_company(targets, customers=customers, seed=seed, progress=report)

    table = Table(title="Demo company", show_edge=False)
    table.add_column("system.dataset")
    table.add_column("rows / files", justify="right")
    for dataset, count in summary.rows.items():
        table.add_row(dataset, f"{count:,}")
    console.print(table)
    if summary.seeded:
        console.print(
            f"Seeded {', '.join(summary.seeded)} with {summary.customers:,} customers "
            f"(seed {summary.seed}) in {summary.seconds:.1f} s.",
            markup=False,
        )
    if summary.skipped:
        console.print(
            f"Already seeded with the same parameters, left as they were: "
            f"{', '.join(summary.skipped)}.",
            markup=False,
        )

    listen_host = host or settings.host
    listen_port = port or settings.port
    mailbox_url = mailbox_secret = None
    if not no_serve:
        from personvern.demo.mailbox import ROUTE_PREFIX

        # A fresh secret per run, never printed: only this process signs and checks.
        mailbox_secret = secrets.token_urlsafe(32)
        mailbox_url = f"http://{mailbox_host(listen_host)}:{listen_port}{ROUTE_PREFIX}"
    environment = demo_environment(
        targets, datamap_path, mailbox_url=mailbox_url, mailbox_secret=mailbox_secret
    )
    environment["PERSONVERN_DATAMAP"] = str(datamap_path)
    # Before the app is created: request runs in the server read the systems from here.
    os.environ.update(environment)
    console.print("The data map reaches the demo through:", markup=False)
    for name, value in environment.items():
        shown = "<made for this run, not shown>" if name.endswith("_SECRET") else _display(value)
        console.print(f"  {name}={shown}", markup=False)

    if no_serve or mailbox_secret is None:
        console.print(
            "E-mail is reached through the demo mailbox, which only a serving demo runs.",
            markup=False,
        )
        return
    _serve(settings, datamap_path, targets.mailbox_path, mailbox_secret, listen_host, listen_port)


def _serve(
    settings: Settings,
    datamap_path: Path,
    mailbox_path: Path,
    mailbox_secret: str,
    host: str,
    port: int,
) -> None:
    import uvicorn

    from personvern.domain.roles import Role
    from personvern.security.tokens import issue_token
    from personvern.store.db import open_session
    from personvern.store.migrate import upgrade_to_head

    upgrade_to_head(settings)
    # A fresh token per run: tokens are stored hashed, so an old one cannot be shown again.
    with open_session(settings) as session:
        issued = issue_token(session, name="demo admin", role=Role.ADMIN)
    app, mailbox = demo_app(settings, datamap_path, mailbox_path, mailbox_secret)
    _print_next_steps(host, port, issued.token)
    try:
        uvicorn.run(app, host=host, port=port)
    finally:
        mailbox.close()


def mailbox_host(listen_host: str) -> str:
    """The host the server reaches its own mailbox at: loopback when it listens there."""
    # personvern calls a webhook over plain http only on loopback, and a server that
    # listens on every interface (0.0.0.0, ::) listens on loopback too.
    if listen_host in ("", "0.0.0.0"):  # noqa: S104
        return "127.0.0.1"
    if listen_host == "::":
        return "[::1]"
    # Any other address is called as given; one that is not loopback leaves e-mail
    # unconnected, and the request says why.
    return f"[{listen_host}]" if ":" in listen_host else listen_host


def demo_app(
    settings: Settings, datamap_path: Path, mailbox_path: Path, mailbox_secret: str
) -> tuple[FastAPI, Mailbox]:
    """personvern's app with the demo mailbox mounted beside the API (demo mode only)."""
    from personvern.api.app import create_app
    from personvern.demo.mailbox import Mailbox

    app = create_app(settings, datamap_path=datamap_path)
    mailbox = Mailbox(mailbox_path, mailbox_secret)
    # No API token on these routes: every call is authenticated by its HMAC signature.
    app.include_router(mailbox.router)
    return app, mailbox


def _print_next_steps(host: str, port: int, token: str) -> None:
    base = f"http://{host}:{port}"
    console.print("Where to look next:", markup=False)
    for path in ("/healthz", "/api/v1/notice?lang=nb", "/api/v1/cookies?lang=nb", "/api/v1/docs"):
        console.print(f"  {base}{path}", markup=False)
    console.print(
        "An admin API token for this demo (shown once; `personvern token create` makes more):",
        markup=False,
    )
    console.print(f"  export PERSONVERN_TOKEN={token}", markup=False)
    for path in ("/api/v1/ropa?format=html", "/api/v1/datamap"):
        console.print(
            f'  curl -H "Authorization: Bearer $PERSONVERN_TOKEN" "{base}{path}"', markup=False
        )
