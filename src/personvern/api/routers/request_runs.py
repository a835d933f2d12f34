"""Plan and run data subject requests: `GET /requests/{id}/plan`, `POST /requests/{id}/run`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel

from personvern.api.context import AppContext
from personvern.api.deps import ContextDep, DataMapDep, require
from personvern.domain.roles import Permission
from personvern.engine.runner import RequestEngine
from personvern.jobs.queue import JobQueue

router = APIRouter(tags=["requests"])


class DownloadLink(BaseModel):
    """A delivered file and the signed, time-limited link the subject downloads it with."""

    name: str
    media_type: str
    sha256: str
    size: int
    url: str
    expires_at: datetime


class RunAccepted(BaseModel):
    """A run was queued; follow the request's state at ``request``."""

    request_id: str
    job: str
    request: str


def request_engine(context: AppContext) -> RequestEngine:
    """An engine for the app's data map and store."""
    assert context.datamap is not None
    return RequestEngine(
        settings=context.settings,
        datamap=context.datamap.datamap,
        session_factory=context.session_factory,
        pool=context.connectors,
    )


def job_queue(context: AppContext) -> JobQueue:
    """The app's job queue, created on first use."""
    if context.jobs is None:
        from personvern.jobs.factory import make_job_queue

        context.jobs = make_job_queue(context.settings, lambda: request_engine(context))
    return context.jobs


def resume_open_runs(context: AppContext) -> int:
    """Queue again the runs an earlier process left unfinished (embedded mode only).

    Celery keeps unacknowledged runs on its broker; an in-process run lives only as long
    as the server, so after a restart the server picks up what was in progress or
    waiting for a system. Returns how many runs were queued.
    """
    if context.settings.broker_url or context.datamap is None:
        return 0
    from personvern.domain.requests.lifecycle import RequestState
    from personvern.store.db import session_scope
    from personvern.store.requests import RequestRepository

    with session_scope(context.session_factory) as session:
        repo = RequestRepository(session)
        open_runs = [
            request.id
            for state in (RequestState.IN_PROGRESS, RequestState.WAITING_FOR_SYSTEM)
            for request in repo.list(state=state)
        ]
    for request_id in open_runs:
        job_queue(context).submit_run(request_id)
    return len(open_runs)


@router.get(
    "/requests/{request_id}/plan",
    dependencies=[Depends(require(Permission.REQUESTS_READ))],
)
def get_plan(request_id: str, context: ContextDep, _datamap: DataMapDep) -> dict[str, Any]:
    """What running the request would do now, per system and dataset; changes nothing."""
    return request_engine(context).dry_run(request_id).to_json()


@router.post(
    "/requests/{request_id}/run",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require(Permission.REQUESTS_WRITE))],
)
def run_request(request_id: str, context: ContextDep, _datamap: DataMapDep) -> RunAccepted:
    """Queue a run of a verified request; poll `GET /requests/{id}` for its state."""
    from personvern.domain.requests.lifecycle import RequestState, check_transition
    from personvern.store.db import session_scope
    from personvern.store.requests import RequestRepository

    with session_scope(context.session_factory) as session:
        request = RequestRepository(session).get(request_id)
        state = RequestState(request.state)
        if not state.is_runnable:
            check_transition(state, RequestState.IN_PROGRESS)
    job = job_queue(context).submit_run(request_id)
    return RunAccepted(request_id=request_id, job=job, request=f"/api/v1/requests/{request_id}")


@router.get(
    "/requests/{request_id}/downloads",
    dependencies=[Depends(require(Permission.REQUESTS_READ))],
)
def get_downloads(
    request_id: str,
    context: ContextDep,
    days: Annotated[int, Query(ge=1, le=30, description="how long the links work")] = 7,
) -> list[DownloadLink]:
    """Signed links to the request's files, to send to the subject; they expire."""
    from personvern.responses.download_link import sign
    from personvern.store.db import session_scope
    from personvern.store.requests import RequestRepository

    secret = context.settings.secret()
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    with session_scope(context.session_factory) as session:
        repo = RequestRepository(session)
        repo.get(request_id)
        return [
            DownloadLink(
                name=artifact.name,
                media_type=artifact.media_type,
                sha256=artifact.sha256,
                size=artifact.size,
                url=f"/api/v1/downloads/{sign(secret, request_id, artifact.name, expires_at)}",
                expires_at=expires_at,
            )
            for artifact in repo.artifacts(request_id)
        ]
