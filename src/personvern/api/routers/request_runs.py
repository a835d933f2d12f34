"""Plan and run data subject requests: `GET /requests/{id}/plan`, `POST /requests/{id}/run`.

`POST /requests/{id}/review` resolves a request that stopped for review and queues its run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from personvern.api.context import AppContext
from personvern.api.deps import ContextDep, DataMapDep, require
from personvern.api.purpose import PurposeBoundRead, purpose_bound_read
from personvern.api.request_actions import approve_plan, queue_run
from personvern.api.request_actions import resolve_review as resolve
from personvern.domain.roles import Permission
from personvern.responses.handover import IssuedLink
from personvern.security.principal import Principal

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


def resume_open_runs(context: AppContext) -> int:
    """Queue again the runs an earlier process left unfinished (embedded mode only).

    Celery keeps unacknowledged runs on its broker; an in-process run lives only as long
    as the server, so after a restart the server picks up what was in progress or
    waiting for a system. Returns how many runs were queued.
    """
    application = context.application
    if application.settings.broker_url or application.datamap.loaded is None:
        return 0
    from personvern.domain.requests.lifecycle import RequestState

    with application.unit_of_work() as uow:
        open_runs = [
            request.id
            for state in (RequestState.IN_PROGRESS, RequestState.WAITING_FOR_SYSTEM)
            for request in uow.requests.list(state=state)
        ]
    for request_id in open_runs:
        context.application.jobs().submit_run(request_id)
    return len(open_runs)


@router.get(
    "/requests/{request_id}/plan",
    dependencies=[Depends(purpose_bound_read("request_plan"))],
)
def get_plan(request_id: str, context: ContextDep, _datamap: DataMapDep) -> dict[str, Any]:
    """What running the request would do now, per system and dataset; changes nothing."""
    return context.application.request_engine().dry_run(request_id).to_json()


@router.post("/requests/{request_id}/run", status_code=status.HTTP_202_ACCEPTED)
def run_request(
    request_id: str,
    context: ContextDep,
    _datamap: DataMapDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
) -> RunAccepted:
    """Queue a run of a verified request; `GET /requests/{id}/state?wait=10` waits for it.

    An erasure that needs a second person's approval (four eyes) is refused with 409
    until someone other than whoever filed or verified it has approved its plan.
    """
    job = queue_run(context, request_id, principal)
    return RunAccepted(request_id=request_id, job=job, request=f"/api/v1/requests/{request_id}")


#: How often a waiting `GET /requests/{id}/state` looks at the store while runs go to
#: Celery workers (other processes): a read of one row, where a client polling over HTTP
#: cost the serving process a request each time.
WAIT_INTERVAL_SECONDS = 0.005
#: How often it looks when runs are on this process's job thread, which wakes it when a
#: run ends (RunEndings): only a failed run, recorded after, is seen on this timer.
WAIT_INTERVAL_IN_PROCESS_SECONDS = 0.05


class RequestStateOut(BaseModel):
    """Where a request is, without its personal data."""

    request_id: str
    state: str = Field(examples=["in_progress"])
    run_under_way: bool = Field(description="a run is queued or running")


@router.get(
    "/requests/{request_id}/state",
    response_model=RequestStateOut,
    dependencies=[Depends(require(Permission.REQUESTS_READ))],
)
async def request_state(
    request_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    context: ContextDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=10,
            description="seconds to wait for a queued or running run to end before "
            "answering (0: answer at once); instead of polling",
        ),
    ] = 0,
) -> RequestStateOut:
    """The request's state; with ``wait``, answered when its run ends (or ``wait`` passes)."""
    from personvern.domain.requests.lifecycle import run_under_way

    def read() -> tuple[str, bool]:
        with context.application.reading() as uow:
            state, last = uow.requests.state_and_last_event(request_id)
        return state.value, run_under_way(state, last)

    deadline = time.monotonic() + wait
    interval = (
        WAIT_INTERVAL_SECONDS if context.settings.broker_url else WAIT_INTERVAL_IN_PROCESS_SECONDS
    )
    with context.application.run_endings.watching(request_id) as ended:
        while True:
            state, under_way = await to_thread.run_sync(read)
            left = deadline - time.monotonic()
            if not under_way or left <= 0:
                return RequestStateOut(request_id=request_id, state=state, run_under_way=under_way)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), min(interval, left))
            ended.clear()


RecordRef = Annotated[
    str, StringConstraints(min_length=1, max_length=500), Field(examples=["crm.customers:42"])
]


class ReviewIn(BaseModel):
    """A decision on every record the review names, and why (recorded with each)."""

    model_config = ConfigDict(extra="forbid")

    attach: list[RecordRef] = Field(
        default_factory=list, max_length=1000, description="records that are the subject's"
    )
    exclude: list[RecordRef] = Field(
        default_factory=list,
        max_length=1000,
        description="records that are not the subject's, or cannot be read (left out)",
    )
    reason: str = Field(min_length=1, max_length=2000)


class ReviewDecisionOut(BaseModel):
    """One recorded decision."""

    record: str
    decision: str
    reason: str
    decided_by: str
    decided_at: str


class ReviewResolved(BaseModel):
    """The decisions recorded; ``job`` is the queued run (None: an approval comes first)."""

    request_id: str
    decisions: list[ReviewDecisionOut]
    job: str | None
    request: str


@router.post("/requests/{request_id}/review", status_code=status.HTTP_202_ACCEPTED)
def resolve_review(
    request_id: str,
    body: ReviewIn,
    context: ContextDep,
    _datamap: DataMapDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
) -> ReviewResolved:
    """Resolve a request in needs_review: attach or exclude each record it names, with a reason.

    Every record of the review must be decided; the decisions are recorded as events
    and in the receipt, and the run is queued (unless an erasure's plan waits for a
    second person's approval). 409 when the request is not in needs_review, 422 for a
    record the review does not name, one left undecided, or an unusable reason.
    """
    resolved, job = resolve(
        context,
        request_id,
        principal,
        attach=body.attach,
        exclude=body.exclude,
        reason=body.reason,
    )
    return ReviewResolved(
        request_id=request_id,
        decisions=[
            ReviewDecisionOut(
                record=made.record,
                decision=made.decision.value,
                reason=made.reason,
                decided_by=made.decided_by,
                decided_at=made.decided_at,
            )
            for made in resolved.decisions
        ],
        job=job,
        request=f"/api/v1/requests/{request_id}",
    )


@router.post("/requests/{request_id}/approve")
def approve_request(
    request_id: str,
    context: ContextDep,
    _datamap: DataMapDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
) -> dict[str, Any]:
    """Approve the erasure plan as it is now (four eyes); returns the plan approved.

    The plan is computed afresh, shown back, and stored: the run executes exactly it.
    Whoever filed or verified the request cannot approve it. A plan whose identities
    point at different people is refused (409) and the request goes to review
    (`POST /requests/{id}/review`), to be approved after.
    """
    return approve_plan(context, request_id, principal)


@router.get(
    "/requests/{request_id}/downloads",
    # A GET the generic rules (personvern.api.openapi) would not give a 409.
    responses={409: {"description": "the request has no finished answer to hand over yet"}},
)
def get_downloads(
    request_id: str,
    context: ContextDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
    _read: Annotated[PurposeBoundRead, Depends(purpose_bound_read("request_files"))],
    days: Annotated[int, Query(ge=1, le=30, description="how long the links work")] = 7,
) -> list[DownloadLink]:
    """New signed links to the request's files, to send to the subject; they expire.

    Each call issues new links, recorded with the caller: they stop working when they
    expire, when they are withdrawn, or when the caller's token is revoked.
    """
    from personvern.responses.handover import issue_links

    with context.application.unit_of_work() as uow:
        issued = issue_links(
            uow.session,
            context.settings.secret(),
            request_id,
            created_by=principal.subject,
            token_id=principal.token_id,
            now=datetime.now(UTC),
            days=days,
        )
    return _links_out(issued)


@router.post("/requests/{request_id}/downloads/withdraw")
def withdraw_downloads(
    request_id: str,
    context: ContextDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
) -> dict[str, int]:
    """Withdraw every link to the request's files that still works."""
    from personvern.responses.handover import revoke_links

    with context.application.unit_of_work() as uow:
        count = revoke_links(
            uow.session, request_id, actor=principal.subject, now=datetime.now(UTC)
        )
    return {"withdrawn": count}


class AnswerSent(BaseModel):
    """The answer went out by mail."""

    request_id: str
    sent_to: str = Field(description="the address, partly hidden")
    subject: str
    links: list[DownloadLink]


@router.post("/requests/{request_id}/send-answer")
def send_answer(
    request_id: str,
    context: ContextDep,
    datamap: DataMapDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
    days: Annotated[int, Query(ge=1, le=30, description="how long the links work")] = 7,
) -> AnswerSent:
    """Release the answer: mail the subject their links, or a letter saying what was done."""
    from personvern.responses.handover import AnswerNotReadyError
    from personvern.responses.handover import send_answer as send

    mailer = context.application.mailer()
    if mailer is None:
        raise AnswerNotReadyError(
            "e-mail is not configured, so the answer cannot be mailed",
            hint="set PERSONVERN_SMTP_HOST, or hand the answer over another way",
        )
    with context.application.unit_of_work() as uow:
        sent = send(
            uow.session,
            context.settings,
            datamap,
            request_id,
            sender=principal.subject,
            token_id=principal.token_id,
            mailer=mailer,
            now=datetime.now(UTC),
            days=days,
        )
    local, _, domain = sent.address.partition("@")
    return AnswerSent(
        request_id=request_id,
        sent_to=f"{local[:1]}***@{domain}",
        subject=sent.subject,
        links=_links_out(sent.links),
    )


def _links_out(issued: Sequence[IssuedLink]) -> list[DownloadLink]:
    return [
        DownloadLink(
            name=link.name,
            media_type=link.media_type,
            sha256=link.sha256,
            size=link.size,
            url=link.path,
            expires_at=link.expires_at,
        )
        for link in issued
    ]
