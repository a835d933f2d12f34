"""`/staff/requests/{id}`: one request, its plan in plain language, and what staff can do.

The page shows, to anyone who may read requests, the state, deadline, timeline and
manual steps: none of it is the subject's personal data. The identities, the plan and
the review's records are shown only after the reader names the purpose they read them
for (the same purpose-bound read the API records in the audit trail). Every action is a
form posted with a CSRF token and checked against the same permission as the API route.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from personvern.api.console.pages import (
    FormError,
    first,
    form_fields,
    language_of,
    page_requires,
    redirect,
    render,
)
from personvern.api.context import AppContext
from personvern.api.csrf import require_csrf
from personvern.api.deps import ContextDep, DataMapDep, SessionDep, SettingsDep
from personvern.api.purpose import read_for_purpose
from personvern.api.request_actions import approve_plan, queue_run, resolve_review
from personvern.domain.audit.purpose import offered_purpose
from personvern.domain.datamap import DataMap
from personvern.domain.localized_names import localized
from personvern.domain.requests.lifecycle import RejectionReason, RequestState, RequestType
from personvern.domain.requests.plan_summary import PlanSummary, summarise
from personvern.domain.requests.request_plan import RequestPlan
from personvern.domain.requests.review import Review
from personvern.domain.requests.tasks import TaskKind
from personvern.domain.requests.urgency import urgency, waiting_for
from personvern.domain.roles import Permission
from personvern.errors import PersonvernError
from personvern.intake import service
from personvern.intake.approval import approval_needed
from personvern.intake.views import (
    days_left,
    deadline_in_force,
    masked_identities,
    readable_identities,
    readable_plan,
    readable_review,
    request_view,
)
from personvern.security.principal import Principal
from personvern.store.base import utcnow

router = APIRouter()

RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="the request's id")]
Reader = Annotated[Principal, Depends(page_requires(Permission.REQUESTS_READ))]
Writer = Annotated[Principal, Depends(page_requires(Permission.REQUESTS_WRITE))]
PersonalReader = Annotated[Principal, Depends(page_requires(Permission.PERSONAL_DATA_READ))]
#: Seconds between reloads of a page whose request is being run.
PROGRESS_REFRESH = 2
_DECISION = re.compile(r"^decision:(.{1,500})$")


@router.get("/requests/{request_id}", name="staff_request")
def request_page(
    request: Request,
    request_id: RequestId,
    context: ContextDep,
    settings: SettingsDep,
    session: SessionDep,
    datamap: DataMapDep,
    principal: Reader,
    purpose: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The request with its timeline; its personal data once a purpose is named."""
    view = request_view(session, request_id)
    dsr = view.request
    opened = None
    if purpose:
        principal.require(Permission.PERSONAL_DATA_READ)
        opened = read_for_purpose(
            session, settings.secret(), datamap, principal, request_id, purpose, "request_page"
        ).purpose
    left = days_left(dsr, utcnow().date())
    open_tasks = [task for task in view.tasks if task.status == "open"]
    awaits_approval = dsr.approved_at is None and approval_needed(dsr, settings)
    plan, plan_error = (None, None)
    review: Review | None = None
    identities: list[str] | None = None
    if opened is not None:
        plan, plan_error = _plan(context, dsr.id, readable_plan(dsr), dsr.state)
        review = Review.from_json(readable_review(dsr))
        identities = _spelled(readable_identities(dsr))
    return render(
        request,
        settings,
        "request.html.j2",
        principal=principal,
        title_key="request.title",
        title_value=dsr.id,
        dsr=dsr,
        type=RequestType(dsr.type),
        events=view.events,
        tasks=view.tasks,
        open_tasks=open_tasks,
        artifacts=view.artifacts,
        days_left=left,
        deadline=deadline_in_force(dsr),
        urgency=urgency(left),
        waiting=waiting_for(dsr.state, awaits_approval=awaits_approval, open_tasks=len(open_tasks)),
        awaits_approval=awaits_approval,
        masked=masked_identities(dsr),
        identities=identities,
        purposes=[(p.key, p.name) for p in datamap.purposes],
        chosen_purpose=opened or offered_purpose(datamap),
        opened=opened,
        opened_name=_purpose_name(datamap, opened, language_of(request).value),
        plan=plan,
        plan_error=plan_error,
        review=review,
        rejection_reasons=list(RejectionReason),
        may_extend=dsr.state.is_open and dsr.extended_deadline is None,
        refresh=PROGRESS_REFRESH if dsr.state is RequestState.IN_PROGRESS else None,
        state_names=[state.value for state in RequestState],
        task_kinds=[kind.value for kind in TaskKind],
    )


def _purpose_name(datamap: DataMap, key: str | None, lang: str) -> str:
    purpose = datamap.purpose(key) if key else None
    return localized(purpose.name, lang) if purpose is not None else (key or "")


def _spelled(identities: list[dict[str, str]] | None) -> list[str] | None:
    if identities is None:
        return None
    return [f"{i.get('kind', '?')}: {i.get('value', '***')}" for i in identities]


def _plan(
    context: AppContext, request_id: str, stored: dict[str, Any] | None, state: RequestState
) -> tuple[PlanSummary | None, PersonvernError | None]:
    """The stored plan, else (for a request that may run) what a run would do now."""
    try:
        if stored is not None:
            return summarise(RequestPlan.from_json(stored)), None
        if state in (RequestState.VERIFIED, RequestState.NEEDS_REVIEW):
            return summarise(context.application.request_engine().dry_run(request_id)), None
    except PersonvernError as failed:
        # A system that is down must not hide the rest of the page.
        return None, failed
    return None, None


@router.get("/requests/{request_id}/receipt", name="staff_receipt")
def receipt(request_id: RequestId, session: SessionDep, _principal: Reader) -> Response:
    """The request's receipt (what was done, never a value of the subject's) as JSON."""
    import json

    dsr = request_view(session, request_id).request
    if not dsr.receipt:
        from personvern.responses.handover import AnswerNotReadyError

        raise AnswerNotReadyError(
            f"request {request_id} has no receipt yet", hint="a receipt is written when it ends"
        )
    return Response(
        json.dumps(dsr.receipt, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{dsr.id}.json"',
            "Cache-Control": "no-store",
        },
    )


def _back(request_id: str) -> Response:
    return redirect(f"/staff/requests/{request_id}")


@router.post("/requests/{request_id}/run", name="staff_run", dependencies=[Depends(require_csrf)])
def run(request_id: RequestId, context: ContextDep, principal: Writer) -> Response:
    """Queue a run; the page then follows its progress."""
    queue_run(context, request_id, principal)
    return _back(request_id)


@router.post(
    "/requests/{request_id}/approve", name="staff_approve", dependencies=[Depends(require_csrf)]
)
def approve(request_id: RequestId, context: ContextDep, principal: Writer) -> Response:
    """Approve the plan as it is now (four eyes)."""
    approve_plan(context, request_id, principal)
    return _back(request_id)


@router.post(
    "/requests/{request_id}/review", name="staff_review", dependencies=[Depends(require_csrf)]
)
async def review(
    request: Request, request_id: RequestId, context: ContextDep, principal: Writer
) -> Response:
    """Attach or exclude each record the review names, with one reason, and run on."""
    fields = await form_fields(request)
    attach: list[str] = []
    exclude: list[str] = []
    for name, values in fields.items():
        match = _DECISION.match(name)
        if match is None:
            continue
        choice = values[0] if values else ""
        if choice == "attach":
            attach.append(match.group(1))
        elif choice == "exclude":
            exclude.append(match.group(1))
        else:
            raise FormError(
                "choose attach or exclude for every record", hint="every record needs a decision"
            )
    resolve_review(
        context,
        request_id,
        principal,
        attach=attach,
        exclude=exclude,
        reason=first(fields, "reason"),
    )
    return _back(request_id)


@router.post(
    "/requests/{request_id}/extend", name="staff_extend", dependencies=[Depends(require_csrf)]
)
async def extend(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
    principal: Writer,
) -> Response:
    """Extend the deadline by two months, mailing the reasons (once, within the first month)."""
    from personvern.intake.extension import extend_deadline

    fields = await form_fields(request)
    extend_deadline(
        session, settings, datamap, request_id, first(fields, "reason"), actor=principal.subject
    )
    return _back(request_id)


@router.post(
    "/requests/{request_id}/reject", name="staff_reject", dependencies=[Depends(require_csrf)]
)
async def reject(
    request: Request, request_id: RequestId, session: SessionDep, principal: Writer
) -> Response:
    """Refuse the request for a reason the subject is told (Art. 12(4))."""
    fields = await form_fields(request)
    service.reject(session, request_id, first(fields, "reason"), actor=principal.subject)
    return _back(request_id)


@router.post(
    "/requests/{request_id}/tasks/{task_id}/done",
    name="staff_task_done",
    dependencies=[Depends(require_csrf)],
)
async def task_done(
    request: Request,
    request_id: RequestId,
    task_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    principal: Writer,
) -> Response:
    """Mark a manual step or an Art. 19 notification done, with a note."""
    from personvern.intake.tasks import mark_task_done

    fields = await form_fields(request)
    mark_task_done(session, request_id, task_id, first(fields, "note"), actor=principal.subject)
    return _back(request_id)


@router.post(
    "/requests/{request_id}/downloads",
    name="staff_downloads",
    dependencies=[Depends(require_csrf), Depends(page_requires(Permission.PERSONAL_DATA_READ))],
)
async def downloads(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
    principal: Writer,
) -> Response:
    """Links (valid one day) to the request's files: the access report and the export."""
    from personvern.responses.handover import issue_links

    fields = await form_fields(request)
    read_for_purpose(
        session,
        settings.secret(),
        datamap,
        principal,
        request_id,
        first(fields, "purpose"),
        "request_files",
    )
    issued = issue_links(
        session,
        settings.secret(),
        request_id,
        created_by=principal.subject,
        token_id=principal.token_id,
        now=datetime.now(UTC),
        days=1,
    )
    return render(
        request,
        settings,
        "downloads.html.j2",
        principal=principal,
        title_key="downloads.title",
        request_id=request_id,
        links=issued,
    )
