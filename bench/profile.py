"""Profile one request run against a bench database with pyinstrument.

    python -m bench.profile [--db postgresql|mariadb] [--size 1000000] [--kind access]
                            [--html FILE]

The app is built as in the request benchmark (create_app, its connector pool, the
SQLite store, empty file stores and mailbox), a warm-up run opens the connections and
reflects the tables, and then one run of the same code the background job runs
(``RequestEngine.run`` with the app's pool) is profiled on this thread. pyinstrument
is not one of personvern's dependencies: ``.venv/bin/pip install pyinstrument``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from bench import company_sql
from bench.requests import (
    EXAMPLE,
    SECRET_KEY,
    Customers,
    company_environment,
    environment,
)


def _file(app: Any, kind: str, email: str) -> str:
    """A verified request, stored the way the staff filing route stores it."""
    from personvern.intake import service

    context = app.state.context
    with context.application.unit_of_work() as uow:
        filed = service.file_request(
            uow.session,
            context.settings,
            context.application.datamap.require(),
            type=kind,
            identities=[("email", email)],
            language=None,
            channel=service.Channel.STAFF,
            actor="bench",
            client_ip=None,
            details=None,
            verification_method="staff_known_contact",
            verification_note="benchmark profile",
        )
        return str(filed.request.id)


def main() -> None:
    """Build the app, warm it up, and profile one run."""
    from pyinstrument import Profiler

    from personvern.api.app import create_app
    from personvern.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--db", choices=("postgresql", "mariadb"), default="postgresql")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=("access", "erasure"), default="access")
    parser.add_argument("--runs", type=int, default=1, help="profiled runs (one customer each)")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML here")
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "PERSONVERN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="the server (PostgreSQL or MariaDB admin URL)",
    )
    args = parser.parse_args()
    if args.db == "mariadb" and "postgresql" in args.url:
        args.url = os.environ.get(
            "PERSONVERN_BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
        )
    seeded = company_sql.seed(args.url, args.size, progress=print)
    with (
        tempfile.TemporaryDirectory(prefix="pv-bench-") as folder,
        company_environment(seeded.url, Path(folder)) as env,
        environment(env),
    ):
        settings = Settings(home=Path(folder) / "home", secret_key=SECRET_KEY)
        app = create_app(settings, EXAMPLE)
        from personvern.store.migrate import upgrade_to_head

        upgrade_to_head(app.state.context.application.store)
        customers = Customers(seeded.url, seeded.customers, f"profile-{args.db}")
        try:
            # Warm-up: connections, reflection, template and PDF-library loading.
            app.state.context.application.request_engine().run(
                _file(app, "access", customers.pick()[1])
            )
            profiler = Profiler(interval=0.0005)
            for _ in range(args.runs):
                customer_id, email = customers.pick()
                request_id = _file(app, args.kind, email)
                engine = app.state.context.application.request_engine()
                profiler.start()
                outcome = engine.run(request_id)
                profiler.stop()
                print(f"customer {customer_id}: {outcome.state.value}, {outcome.message}")
                if args.kind == "erasure":
                    customers.mark_erased(customer_id)
        finally:
            customers.close()
            app.state.context.application.connectors.close()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")
        print(f"HTML profile: {args.html}")


if __name__ == "__main__":
    main()
