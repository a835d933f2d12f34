"""Choose where request runs happen: Celery when PERSONVERN_BROKER_URL is set, else in-process."""

from __future__ import annotations

from collections.abc import Callable

from personvern.engine.runner import RunOutcome
from personvern.jobs.attempts import AttemptRecords
from personvern.jobs.queue import InProcessJobs, JobQueue
from personvern.settings import Settings
from personvern.store.unit_of_work import UnitOfWorkFactory


def make_job_queue(
    settings: Settings,
    run: Callable[[str], RunOutcome],
    unit_of_work: UnitOfWorkFactory,
    retention: Callable[[str], object] | None = None,
) -> JobQueue:
    """The job queue for these settings; ``run`` carries out one request in this process.

    ``retention`` executes one started retention run in this process.
    """
    if settings.broker_url:
        # Imported here: the embedded mode must not need Celery installed or loaded.
        from personvern.jobs.celery_app import CeleryJobs

        # The workers build their own application from the same settings; ``run`` is
        # only for runs in this process.
        return CeleryJobs(settings)
    return InProcessJobs(run, records=AttemptRecords(unit_of_work), retention=retention)
