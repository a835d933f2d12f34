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

personvern's own mail (the verification codes of public requests) needs an SMTP
server. Unless PERSONVERN_SMTP_HOST is already set, the serving demo starts one on
127.0.0.1 (personvern.demo.outbox) that relays nothing: it keeps every message under
``<home>/demo/outbox/``, and the same server shows them under ``/demo/outbox`` to
callers on this machine.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from personvern.cli.output import console

if TYPE_CHECKING:
    from types import FrameType

    from fastapi import FastAPI

    from personvern.demo import DemoTargets
    from personvern.demo.mailbox import Mailbox
    from personvern.demo.outbox import Outbox, OutboxServer
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
        None,
        "--home",
        help="data directory (default: $PERSONVERN_HOME, else ~/.local/share/personvern)",
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
    smtp_port: int | None = typer.Option(
        None,
        "--smtp-port",
        min=1,
        max=65535,
        help="port of the demo's local mail server on 127.0.0.1 (default: a free port)",
    ),
) -> None:
    """Seed the demo company's databases and files (once), then serve personvern on them."""
    _require_demo_extra()
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
    if mailbox_url:
        environment.update(_served_environment(listen_host, listen_port))
    # Before the app is created: request runs in the server read the systems from here.
    os.environ.update(environment)
    console.print("The data map reaches the demo through:", markup=False)
    for name, value in environment.items():
        shown = "<made for this run, not shown>" if name.endswith("_SECRET") else _display(value)
        console.print(f"  {name}={shown}", markup=False)

    if no_serve or mailbox_secret is None:
        _write_cli_environment(settings.home, environment)
        console.print(
            "E-mail is reached through the demo mailbox, which only a serving demo runs.",
            markup=False,
        )
        return
    with _sigterm_unwinds(), ExitStack() as running:
        # Before the app is created: it reads PERSONVERN_SMTP_* from its settings.
        outbox = _start_outbox(settings, smtp_port, running)
        # Read again: the demo's mail server and public address are in the environment now.
        settings = load_settings(**overrides)
        _write_cli_environment(settings.home, {**environment, **_smtp_environment(outbox)})
        _serve(
            settings,
            datamap_path,
            targets.mailbox_path,
            mailbox_secret,
            listen_host,
            listen_port,
            outbox=outbox,
            example_email=_example_email(targets),
            targets=targets,
        )


#: What `pip install 'personvern[demo]'` adds, by the module each package provides.
DEMO_EXTRA = {"faker": "Faker", "aiosmtpd": "aiosmtpd"}


def _require_demo_extra() -> None:
    """Refuse with one clear line when the demo's own packages are not installed."""
    import importlib

    missing = []
    for module, name in DEMO_EXTRA.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(name)
    if missing:
        from personvern.cli.output import fail

        fail(
            f"the demo needs {' and '.join(missing)}, which a plain installation leaves out: "
            "pip install 'personvern[demo]' (make demo does)",
            code=2,
        )


#: The first line of a personvern.env the demo wrote; one without it is the operator's.
DEMO_ENVIRONMENT_HEADER = "Written by `personvern demo` for this home."


def _smtp_environment(outbox: OutboxServer | None) -> dict[str, str]:
    return outbox.environment() if outbox is not None else {}


def _write_cli_environment(home: Path, values: dict[str, str]) -> None:
    """Save what the command line needs to reach the demo in <home>/personvern.env."""
    from personvern.data_home import ENVIRONMENT_FILE, write_environment_file

    path = home.expanduser() / ENVIRONMENT_FILE
    if path.exists() and DEMO_ENVIRONMENT_HEADER not in path.read_text(encoding="utf-8"):
        console.print(
            f"{path} was not written by the demo and is left as it is; the command line "
            "may not reach the demo's systems",
            markup=False,
        )
        return
    header = (
        f"{DEMO_ENVIRONMENT_HEADER}\n"
        "The command line (personvern request ..., token ..., notice ...) reads these when\n"
        "they are not set in the environment. The mailbox and mail server settings work\n"
        "while `personvern demo` serves; it writes this file anew each time it starts."
    )
    written = write_environment_file(home, values, header)
    console.print(
        f"The command line finds these settings in {written} (no exports needed).",
        markup=False,
    )


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into SystemExit(143) while the demo serves, so its clean-up runs."""
    # uvicorn handles SIGTERM itself and, once shut down, raises it again under the
    # handler it found; the default handler would end the process on the spot, before
    # the demo's mail server is stopped and its mailbox closed.
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; uvicorn does not either then
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _start_outbox(
    settings: Settings, smtp_port: int | None, running: ExitStack
) -> OutboxServer | None:
    """Start the outbox SMTP server and point PERSONVERN_SMTP_* at it, unless SMTP is set up."""
    if settings.smtp_host:
        console.print(
            f"personvern mails through the SMTP server already configured "
            f"(PERSONVERN_SMTP_HOST={settings.smtp_host}, port {settings.smtp_port}); "
            "the demo outbox is not started, so read the codes where that server delivers.",
            markup=False,
        )
        if smtp_port is not None:
            console.print("--smtp-port is ignored: SMTP is already configured.", markup=False)
        return None
    from personvern.demo.outbox import outbox_folder, serve_outbox

    server = running.enter_context(
        serve_outbox(outbox_folder(settings.home.resolve()), port=smtp_port)
    )
    environment = server.environment()
    os.environ.update(environment)
    # The local server takes no login; a stray user name would make every send fail.
    for name in ("PERSONVERN_SMTP_USERNAME", "PERSONVERN_SMTP_PASSWORD"):
        os.environ.pop(name, None)
    console.print("personvern's mail goes to the demo outbox, a local SMTP server:", markup=False)
    for name, value in environment.items():
        console.print(f"  {name}={value}", markup=False)
    return server


def _example_email(targets: DemoTargets) -> str | None:
    """The e-mail of the first demo customer, to show a request that finds someone."""
    import sqlalchemy as sa

    from personvern.demo.schema import customers

    # Synthetic people: showing one address in the terminal discloses nobody.
    try:
        engine = sa.create_engine(targets.url("crm"))
    except sa.exc.ArgumentError:
        return None
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.select(customers.c.email).order_by(customers.c.id).limit(1)
            ).scalar()
    except sa.exc.SQLAlchemyError:
        return None  # only the example is lost; the demo serves regardless
    finally:
        engine.dispose()
    return str(found) if found else None


def _serve(
    settings: Settings,
    datamap_path: Path,
    mailbox_path: Path,
    mailbox_secret: str,
    host: str,
    port: int,
    *,
    outbox: OutboxServer | None = None,
    example_email: str | None = None,
    targets: DemoTargets | None = None,
) -> None:
    import uvicorn

    from personvern.cli.application import store_unit_of_work
    from personvern.domain.roles import Role
    from personvern.observability.logs import configure_logging
    from personvern.security.tokens import issue_token
    from personvern.store.migrate import upgrade_to_head

    configure_logging(settings.effective_log_format)
    upgrade_to_head(settings)
    # A fresh token per run: tokens are stored hashed, so an old one cannot be shown again.
    with store_unit_of_work(settings) as uow:
        issued = issue_token(uow.session, name="demo admin", role=Role.ADMIN)
    staff = demo_staff_account(settings)
    if targets is not None:
        _seed_demo_inbox(settings, datamap_path, targets)
    app, mailbox = demo_app(
        settings,
        datamap_path,
        mailbox_path,
        mailbox_secret,
        outbox=outbox.outbox if outbox is not None else None,
        targets=targets,
    )
    _print_next_steps(host, port, issued.token, staff)
    if outbox is not None:
        _print_outbox_steps(host, port, outbox.outbox.folder, example_email)
    try:
        # log_config=None: uvicorn's records go through the redacting handler.
        uvicorn.run(app, host=host, port=port, log_config=None)
    finally:
        mailbox.close()


def _served_environment(listen_host: str, listen_port: int) -> dict[str, str]:
    """What a serving demo adds to the environment, unless the user set it already."""
    served: dict[str, str] = {}
    if not os.environ.get("PERSONVERN_PUBLIC_BASE_URL"):
        # Links in the answers personvern mails point at this server.
        served["PERSONVERN_PUBLIC_BASE_URL"] = f"http://{mailbox_host(listen_host)}:{listen_port}"
    if not os.environ.get("PERSONVERN_STAFF_INSECURE_COOKIES"):
        # The demo serves plain http on this machine: the console's sign-in cookie must
        # not be Secure, or a browser that does not treat the address as secure drops it.
        served["PERSONVERN_STAFF_INSECURE_COOKIES"] = "true"
    return served


def _seed_demo_inbox(settings: Settings, datamap_path: Path, targets: DemoTargets) -> None:
    """File the demo's example requests on the first run, so the console shows work."""
    import sqlalchemy as sa

    from personvern.cli.application import store_unit_of_work
    from personvern.datamap.loader import load_datamap
    from personvern.demo.inbox import FILINGS, demo_addresses, seed_inbox
    from personvern.store.base import utcnow

    try:
        addresses = demo_addresses(targets, len(FILINGS))
    except sa.exc.SQLAlchemyError:
        return  # only the example requests are lost; the demo serves regardless
    with store_unit_of_work(settings) as uow:
        filed = seed_inbox(
            uow.session,
            settings,
            load_datamap(datamap_path).datamap,
            addresses,
            now=utcnow(),
        )
    if filed:
        console.print(
            f"Filed {len(filed)} example requests for the staff console's inbox.", markup=False
        )


def mailbox_host(listen_host: str) -> str:
    """The host the server reaches its own mailbox at: loopback when it listens there."""
    # personvern calls a webhook over plain http only on loopback, and a server that
    # listens on every interface (0.0.0.0, ::) listens on loopback too.
    # Bandit's B104 (binding to all interfaces) misreads this comparison: nothing binds
    # here. Its marker is bare: Bandit 1.9 warns when a test id is named on this line.
    if listen_host in ("", "0.0.0.0"):  # noqa: S104  # nosec
        return "127.0.0.1"
    if listen_host == "::":
        return "[::1]"
    # Any other address is called as given; one that is not loopback leaves e-mail
    # unconnected, and the request says why.
    return f"[{listen_host}]" if ":" in listen_host else listen_host


def demo_app(
    settings: Settings,
    datamap_path: Path,
    mailbox_path: Path,
    mailbox_secret: str,
    *,
    outbox: Outbox | None = None,
    targets: DemoTargets | None = None,
) -> tuple[FastAPI, Mailbox]:
    """personvern's app with the demo mailbox (and outbox, customers, if given) beside the API."""
    from personvern.api.app import create_app
    from personvern.api.start_page import EXTRA_LINKS_STATE
    from personvern.demo.mailbox import Mailbox
    from personvern.demo.outbox import outbox_router
    from personvern.demo.shop import shop_router
    from personvern.demo.subjects import subjects_router

    app = create_app(settings, datamap_path=datamap_path)
    mailbox = Mailbox(mailbox_path, mailbox_secret)
    # No API token on these routes: every call is authenticated by its HMAC signature.
    app.include_router(mailbox.router)
    app.include_router(shop_router())
    # The start page (/) links the example web page with the cookie banner.
    setattr(app.state, EXTRA_LINKS_STATE, (("start.shop", "/demo/shop"),))
    if outbox is not None:
        # No token either: the outbox answers loopback callers only (see its module).
        app.include_router(outbox_router(outbox))
    if targets is not None:
        app.include_router(subjects_router(targets))
    return app, mailbox


#: The demo's staff account: a privacy officer, as whoever tries personvern likely is.
DEMO_STAFF_USER = "dpo"


@dataclass(frozen=True)
class DemoStaffAccount:
    """The demo's local staff account and its password for this run (None: cannot sign in)."""

    username: str
    password: str | None
    why_not: str = ""


def demo_staff_account(settings: Settings) -> DemoStaffAccount:
    """Create the demo's staff account on the first run; on later runs give it a new password.

    Passwords are stored hashed, so an earlier run's cannot be shown again: each run
    makes a new one, and prints it beside the API token.
    """
    from personvern.cli.application import store_unit_of_work
    from personvern.cli.output import cli_actor
    from personvern.domain.audit.event import AuditActor
    from personvern.domain.roles import Role
    from personvern.domain.staff_accounts import DuplicateAccountError
    from personvern.security.staff_accounts import (
        create_account,
        list_accounts,
        local_accounts_enabled,
        reset_password,
    )

    if not local_accounts_enabled(settings):
        return DemoStaffAccount(
            DEMO_STAFF_USER, None, "sign in through the identity provider configured here"
        )
    actor = AuditActor(cli_actor(), via="cli")
    with store_unit_of_work(settings) as uow:
        try:
            created = create_account(
                uow.session,
                DEMO_STAFF_USER,
                Role.PRIVACY_OFFICER,
                None,
                created_by=actor.subject,
                actor=actor,
            )
            password = created.generated_password
        except DuplicateAccountError:
            password = reset_password(uow.session, DEMO_STAFF_USER, None, actor=actor)
        disabled = any(
            info.disabled_at is not None
            for info in list_accounts(uow.session)
            if info.username == DEMO_STAFF_USER
        )
    if disabled:
        return DemoStaffAccount(
            DEMO_STAFF_USER, None, f"the account '{DEMO_STAFF_USER}' was disabled"
        )
    return DemoStaffAccount(DEMO_STAFF_USER, password)


def _print_next_steps(
    host: str, port: int, token: str, staff: DemoStaffAccount | None = None
) -> None:
    base = f"http://{host}:{port}"
    console.print("Where to look next:", markup=False)
    for path in (
        "/healthz",
        "/api/v1/notice?lang=nb",
        "/api/v1/cookies?lang=nb",
        "/api/v1/docs",
        "/demo/shop?lang=nb",
    ):
        console.print(f"  {base}{path}", markup=False)
    if staff is not None and staff.password is not None:
        # Shown once: only its hash is kept, and the next run makes a new one.
        console.print(
            f"Staff console: {base}/staff/  user: {staff.username}  password: {staff.password}",
            markup=False,
        )
    elif staff is not None:
        console.print(f"Staff console: {base}/staff/  ({staff.why_not})", markup=False)
    console.print(
        "An admin API token for this demo (shown once; `personvern token create` makes more):",
        markup=False,
    )
    console.print(f"  export PERSONVERN_TOKEN={token}", markup=False)
    for path in ("/api/v1/ropa?format=html", "/api/v1/datamap"):
        console.print(
            f'  curl -H "Authorization: Bearer $PERSONVERN_TOKEN" "{base}{path}"', markup=False
        )


def _print_outbox_steps(host: str, port: int, folder: Path, example_email: str | None) -> None:
    from personvern.demo.outbox import OUTBOX_PREFIX, is_loopback_host

    local = mailbox_host(host)
    base = f"http://{local}:{port}"
    console.print(
        "Mail personvern sends (verification codes) is kept in the demo outbox:", markup=False
    )
    if is_loopback_host(local):
        console.print(f"  curl {base}{OUTBOX_PREFIX}          # newest first, JSON", markup=False)
        console.print(f"  curl {base}{OUTBOX_PREFIX}/<id>     # one message, text", markup=False)
        console.print(f"  (only from this machine; the files are in {folder})", markup=False)
    else:
        # The outbox answers loopback callers only, and this server is not on loopback.
        console.print(f"  the .eml files in {folder} (newest last)", markup=False)
    address = example_email or "<a customer's e-mail>"
    body = json.dumps({"type": "access", "identities": [{"kind": "email", "value": address}]})
    console.print(
        "File a request as a customer would, then confirm it with the code:", markup=False
    )
    console.print(
        f"  curl -X POST {base}/api/v1/requests -H 'Content-Type: application/json' -d '{body}'",
        markup=False,
    )
    console.print(
        f"  curl -X POST {base}/api/v1/requests/<id>/verify "
        """-H 'Content-Type: application/json' -d '{"code": "<code>"}'""",
        markup=False,
    )
