"""The application for one command: built by personvern.bootstrap, closed when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from personvern.bootstrap import Application, bootstrap
from personvern.cli.output import cli_actor
from personvern.domain.audit.event import AuditAction, AuditActor
from personvern.settings import Settings
from personvern.store.audit_events import AuditTrail
from personvern.store.unit_of_work import UnitOfWork


def command_application(datamap: Path | None, settings: Settings | None = None) -> Application:
    """The application with its data map, closed when the command ends.

    Steps are recorded as the account that runs the command (see ``cli_actor``).
    """
    import click

    application = bootstrap(settings, datamap_path=datamap, actor=cli_actor())
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(application.close)
    return application


@contextmanager
def store_unit_of_work(settings: Settings | None = None) -> Iterator[UnitOfWork]:
    """One transaction on the store (migrated first when embedded), for commands without a map."""
    application = bootstrap(settings, with_datamap=False)
    try:
        with application.unit_of_work() as uow:
            yield uow
    finally:
        application.close()


def record_cli_read(session: Session, request_id: str, subject_key: str, what: str) -> None:
    """Put a read of a request's personal data at the command line in the audit trail."""
    AuditTrail(session).record(
        AuditAction.PERSONAL_DATA_READ,
        AuditActor(cli_actor(), via="cli"),
        subject_key=subject_key,
        detail={"what": what, "request_id": request_id},
    )
