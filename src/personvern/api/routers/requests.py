"""`/api/v1/requests`: data subject requests.

Public (``public_router``): filing a request and proving identity with the e-mailed
code; a staff token with requests:write on the filing call makes it a staff filing.
Protected (``router``): listing, reading and rejecting requests, and marking the tasks
a run left (Art. 19 notifications, manual steps) done.

Public answers say only what the caller gave or proved: never whether the company
holds data about anyone, nor whether someone already filed for the same identities.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from personvern.api.deps import (
    DataMapDep,
    OptionalRequirement,
    SessionDep,
    SettingsDep,
    require,
)
from personvern.api.problems import http_status, problem
from personvern.api.purpose import purpose_bound_read
from personvern.domain.requests.identity import MAX_IDENTITIES
from personvern.domain.requests.lifecycle import (
    RejectionReason,
    RequestState,
    RequestType,
    VerificationMethod,
)
from personvern.domain.requests.tasks import MAX_NOTE, TaskKind, TaskStatus
from personvern.domain.roles import Permission
from personvern.intake import service, views
from personvern.intake.details import (
    MAX_CORRECTION_KEY,
    MAX_CORRECTION_VALUE,
    MAX_CORRECTIONS,
    MAX_PURPOSES,
)
from personvern.intake.errors import RateLimitedError
from personvern.intake.rate_limit import wait_hint
from personvern.intake.verification import verification_address
from personvern.security.principal import Principal
from personvern.store.limits import MAX_INTEGER_ID
from personvern.store.models import DataSubjectRequest

public_router = APIRouter(tags=["requests"])
router = APIRouter(tags=["requests"])

RequestIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the request id")]

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/problem+json": {}}}
    for status, text in (
        (422, "the input cannot be accepted; `detail` says what to change"),
        (429, "too many codes; `Retry-After` says how many seconds to wait"),
        (503, "e-mail verification is not configured or the mail server is down"),
    )
}


# -- models --------------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityIn(_Input):
    """One identity the subject can be found by."""

    kind: str = Field(max_length=32, description="email, phone_number, customer_id, ...")
    value: str = Field(max_length=254)


CorrectionKey = Annotated[str, StringConstraints(max_length=MAX_CORRECTION_KEY)]
CorrectionValue = Annotated[str, StringConstraints(max_length=MAX_CORRECTION_VALUE)]
PurposeKey = Annotated[str, StringConstraints(max_length=120)]


class DetailsIn(_Input):
    """What some request types need besides the identities."""

    corrections: dict[CorrectionKey, CorrectionValue] | None = Field(
        None,
        max_length=MAX_CORRECTIONS,
        description="rectification: data category or system.dataset.field -> new value",
    )
    purposes: list[PurposeKey] | None = Field(
        None,
        max_length=MAX_PURPOSES,
        description="objection, withdraw-consent: the purposes concerned (default: all)",
    )


class RequestIn(_Input):
    """A data subject request as filed by the subject or by staff on their behalf."""

    # Examples the server accepts, so generated and hand-written calls can file one: the
    # subject's (a code is e-mailed) and staff's, identity checked at the counter (no mail).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"type": "access", "identities": [{"kind": "email", "value": "ola@example.com"}]},
                {
                    "type": "access",
                    "identities": [{"kind": "email", "value": "kari@example.com"}],
                    "verification_method": "staff_in_person",
                    "verification_note": "passport checked at the counter",
                },
            ]
        },
    )

    type: RequestType
    identities: list[IdentityIn] = Field(min_length=1, max_length=MAX_IDENTITIES)
    language: str | None = Field(
        None, pattern=r"^[a-z]{2,3}$", description="answer language (default: the map's first)"
    )
    details: DetailsIn | None = None
    verification_method: VerificationMethod | None = Field(
        None, description="staff only: how identity was checked (staff_*)"
    )
    verification_note: str | None = Field(
        None, max_length=service.MAX_NOTE, description="staff only: what was checked"
    )


class CodeIn(_Input):
    """The code from the e-mail."""

    code: str = Field(min_length=1, max_length=16)


class RejectIn(_Input):
    """Why a request is refused; the subject is told and may complain."""

    reason: RejectionReason


class ExtendIn(_Input):
    """Why the request needs two more months; the subject is mailed this text."""

    reason: str = Field(min_length=1, max_length=2000)


class TaskDoneIn(_Input):
    """What was done for the task: who was told, when and how, or why it was not needed."""

    note: str = Field(min_length=1, max_length=MAX_NOTE)


class FiledOut(BaseModel):
    """A filed request. ``code_sent_to`` is set when a code was e-mailed."""

    id: str
    type: RequestType
    state: RequestState
    received_at: datetime
    deadline: date
    code_sent_to: str | None = Field(None, description="the address, partly hidden")
    #: Staff only: an open request this one duplicates.
    linked_request_id: str | None = None
    verification_method: VerificationMethod | None = None
    message: str


class VerifiedOut(BaseModel):
    """A request after its code was accepted."""

    id: str
    state: RequestState
    deadline: date
    verification_method: VerificationMethod | None
    linked_request_id: str | None = Field(
        None, description="the earlier open request this one duplicates"
    )
    message: str


class CodeSentOut(BaseModel):
    """A new code is on its way."""

    id: str
    code_sent_to: str | None
    message: str


class IdentityOut(BaseModel):
    """One identity of the subject, in full."""

    kind: str
    value: str


class EventOut(BaseModel):
    """One step in the request's history."""

    at: datetime
    state: str
    message: str
    actor: str


class ArtifactOut(BaseModel):
    """A file delivered to the subject."""

    name: str
    media_type: str
    sha256: str
    size: int


class TaskOut(BaseModel):
    """Work the run left to a person: tell a recipient (Art. 19) or a manual step."""

    id: int
    kind: TaskKind
    key: str = Field(description="the recipient's key, or system.dataset (a system's key)")
    description: str
    details: dict[str, Any]
    status: TaskStatus
    done_by: str | None
    done_at: datetime | None
    note: str | None
    created_at: datetime


class RequestSummaryOut(BaseModel):
    """A request in a listing; identities partly hidden."""

    id: str
    type: RequestType
    state: RequestState
    received_at: datetime
    deadline: date
    days_left: int | None = Field(description="None once the request is closed")
    identities: list[str]
    channel: str
    verification_method: str | None
    linked_request_id: str | None
    rejection_reason: str | None

    @classmethod
    def of(cls, request: DataSubjectRequest) -> RequestSummaryOut:
        """The summary of a stored request."""
        return cls(
            id=request.id,
            type=request.type,
            state=request.state,
            received_at=request.received_at,
            deadline=views.deadline_in_force(request),
            days_left=views.days_left(request),
            identities=views.masked_identities(request),
            channel=request.channel,
            verification_method=request.verification_method,
            linked_request_id=request.linked_request_id,
            rejection_reason=request.rejection_reason,
        )


class RequestListOut(BaseModel):
    """Requests, newest first."""

    requests: list[RequestSummaryOut]


class RequestDetailOut(BaseModel):
    """One request in full: identities, history, plan and receipt."""

    id: str
    type: RequestType
    state: RequestState
    received_at: datetime
    deadline: date
    initial_deadline: date
    extended_deadline: date | None
    extension_reason: str | None
    days_left: int | None
    language: str
    identities: list[IdentityOut]
    channel: str
    created_by: str
    verification_method: str | None
    verification_note: str | None
    verified_at: datetime | None
    linked_request_id: str | None
    rejection_reason: str | None
    details: dict[str, Any]
    plan: dict[str, Any] | None
    receipt: dict[str, Any] | None
    review: dict[str, Any] | None = Field(
        None,
        description="the records a review asks to decide on (candidates) and every decision",
    )
    erased: bool = Field(
        False,
        description="the subject was erased: their data key is destroyed, so identities, "
        "note, details, plan and review are gone; the receipt stays",
    )
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    completed_at: datetime | None
    events: list[EventOut]
    artifacts: list[ArtifactOut]
    tasks: list[TaskOut] = Field(
        description="what the run left to people; the request completes when all are done"
    )

    @classmethod
    def of(cls, view: views.RequestView) -> RequestDetailOut:
        """The full view of a stored request."""
        request = view.request
        return cls(
            id=request.id,
            type=request.type,
            state=request.state,
            received_at=request.received_at,
            deadline=views.deadline_in_force(request),
            initial_deadline=request.deadline,
            extended_deadline=request.extended_deadline,
            extension_reason=request.extension_reason,
            days_left=views.days_left(request),
            language=request.language,
            # An erased subject's identities are crypto-shredded: the request shows none.
            identities=[IdentityOut(**i) for i in views.readable_identities(request) or []],
            channel=request.channel,
            created_by=request.created_by,
            verification_method=request.verification_method,
            verification_note=views.readable_note(request),
            verified_at=request.verified_at,
            linked_request_id=request.linked_request_id,
            rejection_reason=request.rejection_reason,
            # An erased subject's details, plan and review are shredded with their key;
            # the receipt is plain (the proof of what was done) and stays.
            details=views.readable_details(request) or {},
            plan=views.readable_plan(request),
            receipt=request.receipt,
            review=views.readable_review(request),
            erased=views.is_erased(request),
            attempts=request.attempts,
            last_error=request.last_error,
            next_attempt_at=request.next_attempt_at,
            completed_at=request.completed_at,
            events=[
                EventOut(at=e.at, state=e.state, message=e.message, actor=e.actor)
                for e in view.events
            ],
            artifacts=[
                ArtifactOut(name=a.name, media_type=a.media_type, sha256=a.sha256, size=a.size)
                for a in view.artifacts
            ],
            tasks=[
                TaskOut(
                    id=t.id,
                    kind=TaskKind(t.kind),
                    key=t.key,
                    description=t.description,
                    details=t.details or {},
                    status=TaskStatus(t.status),
                    done_by=t.done_by,
                    done_at=t.done_at,
                    note=t.note,
                    created_at=t.created_at,
                )
                for t in view.tasks
            ],
        )


# -- dependencies --------------------------------------------------------------------------


#: Staff filing on a subject's behalf need requests:write; anonymous subjects need nothing.
get_staff = OptionalRequirement(Permission.REQUESTS_WRITE)

StaffDep = Annotated[Principal | None, Depends(get_staff)]


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _masked_address(request: DataSubjectRequest) -> str | None:
    address = verification_address(request)
    if address is None:
        return None
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _too_many(request: Request, exc: RateLimitedError) -> Response:
    # Here rather than in the shared handler: only this error carries a Retry-After.
    return problem(
        http_status(exc),
        exc.message,
        request=request,
        title=exc.title,
        hint=exc.hint,
        headers={"Retry-After": str(exc.retry_after)},
        retry_after=exc.retry_after,
    )


# -- public routes -------------------------------------------------------------------------


@public_router.post("/requests", status_code=201, response_model=FiledOut, responses={**_PROBLEMS})
def file_request(
    body: RequestIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
    staff: StaffDep,
) -> FiledOut | Response:
    """File a request. Anyone may; a code is e-mailed to prove the address.

    With a staff token (requests:write) staff may instead record how they verified the
    subject (``verification_method`` staff_*, ``verification_note``).
    """
    details = body.details.model_dump(exclude_none=True) if body.details else None
    try:
        filed = service.file_request(
            session,
            settings,
            datamap,
            type=body.type.value,
            identities=[(i.kind, i.value) for i in body.identities],
            language=body.language,
            channel=service.Channel.STAFF if staff else service.Channel.PUBLIC,
            actor=staff.subject if staff else service.SUBJECT_ACTOR,
            client_ip=_client_ip(request),
            details=details,
            verification_method=body.verification_method,
            verification_note=body.verification_note,
        )
    except RateLimitedError as exc:
        return _too_many(request, exc)
    filed_request = filed.request
    if filed.challenge_sent:
        message = "we e-mailed you a code; send it to /verify within 10 minutes"
    elif filed.code_wait is not None:
        message = (
            "your request is registered, but we have sent this address several codes "
            "recently; ask for yours with /resend-code: " + wait_hint(filed.code_wait)
        )
    elif filed_request.state is RequestState.REJECTED:
        message = "an open request of this type already exists for this subject"
    else:
        message = "the request is registered"
    return FiledOut(
        id=filed_request.id,
        type=RequestType(filed_request.type),
        # A public duplicate looks like any new request until its code is entered.
        state=filed_request.state,
        received_at=filed_request.received_at,
        deadline=filed_request.deadline,
        code_sent_to=_masked_address(filed_request) if filed.challenge_sent else None,
        linked_request_id=filed_request.linked_request_id if staff else None,
        verification_method=(
            VerificationMethod(filed_request.verification_method)
            if staff and filed_request.verification_method
            else None
        ),
        message=message,
    )


@public_router.post(
    "/requests/{request_id}/verify",
    response_model=VerifiedOut,
    responses={
        **_PROBLEMS,
        410: {
            "description": "the code expired or was entered wrongly too often; "
            "`POST /requests/{id}/resend-code` sends a new one",
            "content": {"application/problem+json": {}},
        },
    },
)
def verify_request(
    request_id: RequestIdPath,
    body: CodeIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> VerifiedOut | Response:
    """Prove the e-mail address with the code we sent."""
    try:
        verified = service.verify(
            session, settings, request_id, body.code, client_ip=_client_ip(request)
        )
    except RateLimitedError as exc:
        return _too_many(request, exc)
    duplicate = verified.rejection_reason == "duplicate"
    return VerifiedOut(
        id=verified.id,
        state=verified.state,
        deadline=views.deadline_in_force(verified),
        verification_method=VerificationMethod(verified.verification_method or "email_code"),
        linked_request_id=verified.linked_request_id,
        message=(
            f"you already have an open request of this type ({verified.linked_request_id}); "
            "we will answer that one"
            if duplicate
            else "thank you: your identity is confirmed and we are handling your request"
        ),
    )


@public_router.post(
    "/requests/{request_id}/resend-code",
    status_code=202,
    response_model=CodeSentOut,
    responses={**_PROBLEMS},
)
def resend_code(
    request_id: RequestIdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
) -> CodeSentOut | Response:
    """E-mail a new code; the previous one stops working."""
    try:
        resent = service.resend_code(
            session, settings, datamap, request_id, client_ip=_client_ip(request)
        )
    except RateLimitedError as exc:
        return _too_many(request, exc)
    return CodeSentOut(
        id=resent.id,
        code_sent_to=_masked_address(resent),
        message="we e-mailed you a new code; it works for 10 minutes",
    )


# -- staff routes --------------------------------------------------------------------------


@router.get(
    "/requests",
    response_model=RequestListOut,
    dependencies=[Depends(require(Permission.REQUESTS_READ))],
)
def list_requests(
    session: SessionDep,
    # Documented as the canonical names; the server also reads them written loosely
    # (case, dashes), as the CLI does.
    state: Annotated[
        str | None,
        Query(
            max_length=32,
            description="only this state",
            json_schema_extra={"enum": [s.value for s in RequestState]},
        ),
    ] = None,
    type: Annotated[
        str | None,
        Query(
            max_length=32,
            description="only this type",
            json_schema_extra={"enum": [t.value for t in RequestType]},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RequestListOut:
    """Requests, newest first, with days left until each deadline."""
    found = views.list_requests(session, state=state, type=type, limit=limit)
    return RequestListOut(requests=[RequestSummaryOut.of(r) for r in found])


@router.get(
    "/requests/{request_id}",
    response_model=RequestDetailOut,
    dependencies=[Depends(purpose_bound_read("request_details"))],
)
def get_request(request_id: RequestIdPath, session: SessionDep) -> RequestDetailOut:
    """One request: identities, history, verification, plan and receipt."""
    return RequestDetailOut.of(views.request_view(session, request_id))


@router.post("/requests/{request_id}/reject", response_model=RequestDetailOut)
def reject_request(
    request_id: RequestIdPath,
    body: RejectIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
) -> RequestDetailOut:
    """Refuse a request for a reason the subject is told (Art. 12(4))."""
    service.reject(session, request_id, body.reason, actor=principal.subject)
    return RequestDetailOut.of(views.request_view(session, request_id))


@router.post("/requests/{request_id}/extend", response_model=RequestDetailOut)
def extend_request(
    request_id: RequestIdPath,
    body: ExtendIn,
    session: SessionDep,
    datamap: DataMapDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
) -> RequestDetailOut:
    """Extend the deadline by two months (once, within the first month), mailing the reasons."""
    from personvern.intake.extension import extend_deadline

    extend_deadline(session, settings, datamap, request_id, body.reason, actor=principal.subject)
    return RequestDetailOut.of(views.request_view(session, request_id))


@router.post(
    "/requests/{request_id}/tasks/{task_id}/done",
    response_model=RequestDetailOut,
    responses={
        404: {"description": "no such request, or the task is not one of its tasks"},
        409: {"description": "the task is already done"},
        422: {"description": "the note is empty, too long or holds control characters"},
    },
)
def mark_task_done(
    request_id: RequestIdPath,
    task_id: Annotated[int, Path(ge=1, le=MAX_INTEGER_ID, description="the task's id")],
    body: TaskDoneIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_WRITE))],
) -> RequestDetailOut:
    """Mark a task done with a note; the last open task completes the request."""
    from personvern.intake.tasks import mark_task_done as mark_done

    mark_done(session, request_id, task_id, body.note, actor=principal.subject)
    return RequestDetailOut.of(views.request_view(session, request_id))
