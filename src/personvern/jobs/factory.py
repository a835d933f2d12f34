"""Choose where request runs happen: Celery when PERSONVERN_BROKER_URL is set, else in-process."""

from __future__ import annotations

from collections.abc import Callable

from personvern.engine.runner import RequestEngine
from personvern.jobs.attempts import AttemptRecords
from personvern.jobs.queue import InProcessJobs, JobQueue
from personvern.settings import Settings


def make_job_queue(settings: Settings, engine: Callable[[], RequestEngine]) -> JobQueue:
    """The job queue for these settings."""
    if settings.broker_url:
        # Imported here: the embedded mode must not need Celery installed or loaded.
        from personvern.jobs.celery_app import CeleryJobs

        # The workers build their own engines from the same settings; ``engine`` is
        # only for runs in this process.
        return CeleryJobs(settings)
    return InProcessJobs(
        lambda request_id: engine().run_and_deliver(request_id),
        records=AttemptRecords(lambda: engine().session_factory),
    )
