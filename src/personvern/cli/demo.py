"""`personvern demo`: seed the example company's own systems, then serve personvern on them.

The demo company is the one described by ``examples/workspace-company``. That folder
is not part of the installed package, so the command takes ``--datamap``, else
``$PERSONVERN_DATAMAP``, else the first ``examples/workspace-company`` found in the
current directory or one of its parents (a checkout of personvern).

Its databases are SQLite files under ``<home>/demo/`` unless ``--company-db-url`` (one
URL for every system) or ``--crm-url``/``--billing-url``/... (one per system) point
elsewhere. The environment variables that the data map's ``connection_env`` names
are set in this process, so the server reads the demo's systems through them.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from personvern.cli.output import console


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

    environment = demo_environment(targets, datamap_path)
    environment["PERSONVERN_DATAMAP"] = str(datamap_path)
    os.environ.update(environment)
    console.print("The data map reaches the demo through:", markup=False)
    for name, value in environment.items():
        console.print(f"  {name}={_display(value)}", markup=False)

    if no_serve:
        return
    import uvicorn

    from personvern.api.app import create_app
    from personvern.domain.roles import Role
    from personvern.security.tokens import issue_token
    from personvern.store.db import open_session
    from personvern.store.migrate import upgrade_to_head

    listen_host = host or settings.host
    listen_port = port or settings.port
    upgrade_to_head(settings)
    # A fresh token per run: tokens are stored hashed, so an old one cannot be shown again.
    with open_session(settings) as session:
        issued = issue_token(session, name="demo admin", role=Role.ADMIN)
    app = create_app(settings, datamap_path=datamap_path)
    _print_next_steps(listen_host, listen_port, issued.token)
    uvicorn.run(app, host=listen_host, port=listen_port)


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
