"""`personvern worker`: a Celery worker that runs data subject requests from the broker."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from personvern.domain.datamap import DataMap
    from personvern.engine.retention.runs import RetentionRuns
    from personvern.jobs.attempts import RunAttempts


def register(app: typer.Typer) -> None:
    """Add `worker` to ``app``."""
    app.command("worker")(worker)


def worker(
    concurrency: int = typer.Option(
        1, "--concurrency", "-c", min=1, help="requests run at the same time (processes)"
    ),
    loglevel: str = typer.Option(
        "info", "--loglevel", "-l", help="debug, info, warning, error or critical"
    ),
    queue: str = typer.Option("personvern", "--queue", "-Q", help="the queue to take runs from"),
    visibility_timeout: int = typer.Option(
        3600,
        "--visibility-timeout",
        min=1,
        help="Redis only: seconds before the run of a worker that died is delivered again; "
        "keep it above the longest run",
    ),
    beat: bool = typer.Option(
        False,
        "--beat",
        help="also run Celery beat in this worker, to start the retention runs the data "
        "map's schedules make due (several beats are safe: each run starts once)",
    ),
) -> None:
    """Run requests queued through PERSONVERN_BROKER_URL, in the foreground (Ctrl-C stops)."""
    from personvern.bootstrap import bootstrap
    from personvern.cli.output import fail
    from personvern.datamap.loader import load_datamap, resolve_datamap_path
    from personvern.jobs.celery_app import (
        POLICY,
        check_broker,
        make_celery_app,
        pause_from_environ,
    )
    from personvern.settings import load_settings

    levels = {"debug", "info", "warning", "error", "critical"}
    if loglevel.lower() not in levels:
        fail(f"unknown log level '{loglevel}': use one of {', '.join(sorted(levels))}")
    settings = load_settings()
    observer = pause_from_environ(settings)

    def attempts() -> RunAttempts:
        # Built in each pool process on its first task (see make_celery_app).
        application = bootstrap(settings, actor="worker", observer=observer)
        return application.run_attempts(POLICY)

    def retention() -> tuple[RetentionRuns, DataMap]:
        application = bootstrap(settings, actor="worker")
        return application.retention_runs(), application.datamap.require()

    from celery.signals import setup_logging

    from personvern.observability.logs import configure_logging

    def use_personvern_logging(**_: object) -> None:
        # Connected, this replaces Celery's own logging set-up: one redacting handler.
        configure_logging(settings.effective_log_format, loglevel)

    setup_logging.connect(use_personvern_logging, weak=False)
    app = make_celery_app(
        settings,
        queue=queue,
        visibility_timeout=visibility_timeout,
        attempts=attempts,
        retention=retention,
    )
    # Fail at once, in one line, rather than in every task: a worker that cannot reach
    # the broker or read the data map would only log the same error forever.
    check_broker(app)
    load_datamap(resolve_datamap_path(settings.datamap))
    beat_options: list[str] = []
    if beat:
        import tempfile

        # Beat's own schedule file only says when it last sent the tick; the tick needs
        # nothing from it, so a file per process in the temporary folder does.
        state = Path(tempfile.gettempdir()) / f"personvern-beat-{os.getpid()}"
        beat_options = ["--beat", f"--schedule={state}"]
    app.worker_main(
        [
            "worker",
            *beat_options,
            f"--loglevel={loglevel.upper()}",
            f"--concurrency={concurrency}",
            # Unique per process, so two workers on one machine can be told apart.
            f"--hostname=personvern-{os.getpid()}@{socket.gethostname()}",
            # Gossip and mingle synchronise revokes between workers; personvern revokes
            # nothing, and they slow start-up by seconds.
            "--without-gossip",
            "--without-mingle",
        ]
    )
