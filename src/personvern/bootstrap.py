"""The composition root: the application built once from settings, for every entry point.

The API (``api.app.create_app``), the command line and the Celery worker all start
here, so the store, the data map, the connectors, the job runner, the mailer and the
clock are wired in one place, the same way for each. Services are handed what they
need from the :class:`Application` (a unit of work, an engine); none of them builds
its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from personvern.connectors.registry import ConnectorPool
from personvern.data_home import ensure_home
from personvern.datamap.loader import LoadedDataMap, load_datamap, resolve_datamap_path
from personvern.domain.datamap import DataMap
from personvern.engine.retention.sweep import RetentionSweep
from personvern.engine.runner import RequestEngine, RunObserver
from personvern.errors import PersonvernError
from personvern.jobs.attempts import AttemptRecords, RetryPolicy, RunAttempts
from personvern.jobs.queue import JobQueue
from personvern.jobs.run_endings import RunEndings
from personvern.mail import Mailer, mailer_from_settings
from personvern.settings import Settings, load_settings
from personvern.store.consents import LedgerLookup
from personvern.store.db import make_engine, make_session_factory, read_only_engine
from personvern.store.encryption.setup import open_vault
from personvern.store.encryption.vault import SubjectVault
from personvern.store.table_layouts import StoredTableLayouts
from personvern.store.unit_of_work import UnitOfWork, UnitOfWorkFactory, unit_of_work_factory

if TYPE_CHECKING:
    from personvern.engine.retention.runs import RetentionRuns
    from personvern.engine.retention.sweep import RetentionSweep
    from personvern.responses.pdf_worker import PdfWorker

log = logging.getLogger("personvern")

#: Today's date, for deadlines and retention: replaced in tests that need another day.
Clock = Callable[[], date]


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass
class DataMapSlot:
    """The data map the application runs on, or why it has none."""

    path: Path | None = None
    loaded: LoadedDataMap | None = None
    #: Why the data map is missing, when it is; a server runs on without it.
    error: PersonvernError | None = None

    def require(self) -> DataMap:
        """The data map, or the error that kept it from loading."""
        if self.loaded is not None:
            return self.loaded.datamap
        raise self.error or PersonvernError(
            "no data map is configured", hint="set PERSONVERN_DATAMAP or pass --datamap"
        )


@dataclass
class Application:
    """Everything one process of personvern holds, built by :func:`bootstrap`."""

    settings: Settings
    #: The SQLAlchemy engine of personvern's own store.
    store: Engine
    #: Each call opens a new transaction on the store (see store.unit_of_work).
    unit_of_work: UnitOfWorkFactory
    datamap: DataMapSlot
    #: One person's ledger rows through the database driver (marketing decisions).
    ledger_lookup: LedgerLookup
    #: Connectors to the company's systems, kept open between request runs.
    connectors: ConnectorPool = field(default_factory=ConnectorPool)
    clock: Clock = _today
    #: Who the engine's steps are recorded as when nobody named asked for a run.
    actor: str = "engine"
    #: Told of every step of a run (tests that stop a worker mid-run listen).
    observer: RunObserver | None = None
    environ: Mapping[str, str] | None = None
    #: Seals sensitive fields under per-subject data keys (docs/encryption.md).
    vault: SubjectVault | None = None
    #: The store for transactions that only read (hot read paths; see
    #: store.db.read_only_engine), and units of work on it.
    reader: Engine | None = None
    read_only_unit_of_work: UnitOfWorkFactory | None = None
    #: Wakes the API's waiters when a run on this process's job thread ends.
    run_endings: RunEndings = field(default_factory=RunEndings)
    _jobs: JobQueue | None = field(default=None, repr=False)
    #: Lays out the PDF reports of runs on this process's job thread (started on first use).
    _pdf_worker: PdfWorker | None = field(default=None, repr=False)
    _jobs_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reading(self) -> UnitOfWork:
        """A unit of work that only reads: on the embedded store it waits for no writer."""
        return (self.read_only_unit_of_work or self.unit_of_work)()

    def request_engine(
        self, actor: str | None = None, *, pdf_elsewhere: bool = False
    ) -> RequestEngine:
        """An engine for the data map and the store (DataMap errors if there is no map).

        ``pdf_elsewhere``: lay out PDF reports in a child process (the serving process's
        job runner, whose interpreter the API shares).
        """
        render_pdf = None
        if pdf_elsewhere:
            with self._jobs_lock:
                if self._pdf_worker is None:
                    from personvern.responses.pdf_worker import PdfWorker

                    self._pdf_worker = PdfWorker()
                render_pdf = self._pdf_worker.render
        return RequestEngine(
            settings=self.settings,
            datamap=self.datamap.require(),
            unit_of_work=self.unit_of_work,
            environ=self.environ,
            today=self.clock,
            actor=actor or self.actor,
            pool=self.connectors,
            observer=self.observer,
            render_pdf=render_pdf,
        )

    def retention_sweep(self, now: datetime | None = None) -> RetentionSweep:
        """The retention sweep of the data map's rules and personvern's own records, as of ``now``.

        Every entry point sweeps through this, so the holds in force, the batch size, the
        safety stop and the rules of personvern's own records are the same for each.
        """
        import os

        from personvern.domain.retention.own_records import own_record_rules
        from personvern.engine.retention.own_records import own_table_sweeps
        from personvern.engine.retention.sweep import RetentionSweep
        from personvern.security.pseudonym import pseudonymiser
        from personvern.store.retention_runs import RetentionRecords

        settings = self.settings
        now = now or datetime.now(UTC)
        with self.unit_of_work() as uow:
            holds = RetentionRecords(uow.session).holds(now.date())
        return RetentionSweep(
            self.datamap.require(),
            environ=self.environ or os.environ,
            pool=self.connectors,
            now=now,
            batch_size=settings.retention_batch_size,
            max_share=settings.retention_max_share,
            staff_holds=holds,
            pseudonymise=pseudonymiser(settings.secret().encode()),
            own_records=own_table_sweeps(
                own_record_rules(settings.own_retention_periods()),
                self.store,
                now=now,
                home=settings.home,
            ),
        )

    def jobs(self) -> JobQueue:
        """Where request runs go: Celery with a broker configured, else this process."""
        with self._jobs_lock:
            if self._jobs is None:
                from personvern.jobs.factory import make_job_queue

                self._jobs = make_job_queue(
                    self.settings,
                    # The API's waiters are woken when the run ends, not after the PDF.
                    lambda request_id: self.request_engine(pdf_elsewhere=True).run_and_deliver(
                        request_id, ended=self.run_endings.ended
                    ),
                    self.unit_of_work,
                    lambda run_id: self.retention_runs().execute(run_id),
                )
            return self._jobs

    def use_job_queue(self, jobs: JobQueue) -> None:
        """Send runs to ``jobs`` from now on (a benchmark's own queue, say)."""
        with self._jobs_lock:
            self._jobs = jobs

    def run_attempts(self, policy: RetryPolicy | None = None) -> RunAttempts:
        """Attempts at request runs in this process, judged as every job runner judges them."""
        return RunAttempts(
            lambda request_id: self.request_engine().run_and_deliver(request_id),
            AttemptRecords(self.unit_of_work),
            policy=policy,
            actor=self.actor,
        )

    def retention_runs(self) -> RetentionRuns:
        """Retention runs on this application's store, one per system at a time."""
        from datetime import timedelta

        from personvern.engine.retention.runs import RetentionRuns

        return RetentionRuns(
            self.unit_of_work,
            self.retention_sweep,
            lease=timedelta(seconds=self.settings.retention_lock_seconds),
        )

    def mailer(self) -> Mailer | None:
        """The mailer the settings describe (None when no SMTP server is configured)."""
        return mailer_from_settings(self.settings)

    def close(self) -> None:
        """Stop the job runner, close the connectors and the store's connections."""
        with self._jobs_lock:
            jobs, self._jobs = self._jobs, None
        if jobs is not None:
            jobs.shutdown()
        with self._jobs_lock:
            pdf_worker, self._pdf_worker = self._pdf_worker, None
        if pdf_worker is not None:
            pdf_worker.close()
        self.connectors.close()
        self.ledger_lookup.close()
        self.store.dispose()
        if self.reader is not None:
            self.reader.dispose()
        if self.vault is not None:
            self.vault.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    datamap_path: Path | None = None,
    datamap_required: bool = True,
    with_datamap: bool = True,
    migrate: bool | None = None,
    actor: str = "engine",
    observer: RunObserver | None = None,
    clock: Clock | None = None,
    environ: Mapping[str, str] | None = None,
) -> Application:
    """Build the application for ``settings`` (read from the environment when None).

    ``datamap_required``: raise if the data map does not load (the command line, the
    worker); a server passes False and reports the problem on its routes instead.
    ``with_datamap``: False for work on the store alone (tokens, housekeeping).
    ``migrate``: apply the store's migrations now (None: when the settings say so).
    """
    settings = settings or load_settings()
    if settings.is_embedded:
        ensure_home(settings.home)
    store = make_engine(settings)
    try:
        slot = (
            _load_datamap(datamap_path or settings.datamap, required=datamap_required)
            if with_datamap
            else DataMapSlot()
        )
        if migrate if migrate is not None else settings.should_auto_migrate:
            from personvern.store.migrate import upgrade_to_head

            upgrade_to_head(store)
    except BaseException:
        store.dispose()
        raise
    try:
        vault = open_vault(settings)
    except BaseException:
        store.dispose()
        raise
    sessions = make_session_factory(store, vault)
    unit_of_work = unit_of_work_factory(sessions, store.url)
    reader = read_only_engine(store)
    reading = make_session_factory(reader, vault)
    return Application(
        settings=settings,
        store=store,
        unit_of_work=unit_of_work,
        reader=reader,
        read_only_unit_of_work=unit_of_work_factory(reading, store.url),
        ledger_lookup=LedgerLookup(reader),
        datamap=slot,
        # Every process reads the tables' structure of the company's systems from the
        # store while it is unchanged, instead of describing them again on start.
        connectors=ConnectorPool(layouts=StoredTableLayouts(unit_of_work)),
        clock=clock or _today,
        actor=actor,
        observer=observer,
        environ=environ,
        vault=vault,
    )


def _load_datamap(explicit: Path | None, *, required: bool) -> DataMapSlot:
    slot = DataMapSlot()
    try:
        slot.path = resolve_datamap_path(explicit)
        slot.loaded = load_datamap(slot.path)
    except PersonvernError as exc:
        if required:
            raise
        log.warning("the data map did not load; serving without it: %s", exc)
        slot.error = exc
    return slot
