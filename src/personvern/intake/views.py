"""Reading requests back for staff: listings and one request with its history and tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from personvern.domain.datamap import IdentityKind
from personvern.domain.envelope import SubjectKeyDestroyedError
from personvern.domain.requests.identity import SubjectIdentity
from personvern.intake.service import parse_request_state, parse_request_type
from personvern.store.base import utcnow
from personvern.store.models import (
    DataSubjectRequest,
    RequestArtifact,
    RequestEvent,
    RequestTask,
)
from personvern.store.requests import RequestRepository

#: What listings show for the identities of a subject whose data key was destroyed.
ERASED = "[erased]"


@dataclass(frozen=True)
class RequestView:
    """A request with its history, delivered files and the tasks its run left."""

    request: DataSubjectRequest
    events: Sequence[RequestEvent]
    artifacts: Sequence[RequestArtifact]
    tasks: Sequence[RequestTask] = ()


def deadline_in_force(request: DataSubjectRequest) -> date:
    """The extended deadline if the request was extended, else the initial one."""
    return request.extended_deadline or request.deadline


def days_left(request: DataSubjectRequest, today: date | None = None) -> int | None:
    """Calendar days until the deadline (negative when overdue); None once closed."""
    if not request.state.is_open:
        return None
    return (deadline_in_force(request) - (today or utcnow().date())).days


def readable_identities(request: DataSubjectRequest) -> list[dict[str, str]] | None:
    """The request's identities; None once the subject was erased (their key destroyed)."""
    try:
        return list(request.identities)
    except SubjectKeyDestroyedError:
        return None


def readable_note(request: DataSubjectRequest) -> str | None:
    """The verification note; None if there is none or the subject was erased."""
    try:
        note: str | None = request.verification_note
    except SubjectKeyDestroyedError:
        return None
    return note


def is_erased(request: DataSubjectRequest) -> bool:
    """Whether the subject's data key was destroyed, so their sealed values are gone."""
    return readable_identities(request) is None


def readable_details(request: DataSubjectRequest) -> dict[str, Any] | None:
    """The request's details ({} if none); None once the subject was erased."""
    try:
        return dict(request.details or {})
    except SubjectKeyDestroyedError:
        return None


def readable_plan(request: DataSubjectRequest) -> dict[str, Any] | None:
    """The stored plan; None if there is none or the subject was erased."""
    try:
        plan: dict[str, Any] | None = request.plan
    except SubjectKeyDestroyedError:
        return None
    return plan


def readable_review(request: DataSubjectRequest) -> dict[str, Any] | None:
    """The review (candidates and decisions); None if there is none or the subject was erased."""
    try:
        review: dict[str, Any] | None = request.review
    except SubjectKeyDestroyedError:
        return None
    return review


def masked_identities(request: DataSubjectRequest) -> list[str]:
    """The identities with most characters hidden, for listings."""
    identities = readable_identities(request)
    if identities is None:
        return [ERASED]
    masked: list[str] = []
    for identity in identities:
        try:
            masked.append(SubjectIdentity(IdentityKind(identity["kind"]), identity["value"]).masked)
        except (KeyError, ValueError):
            masked.append("***")
    return masked


def list_requests(
    session: Session, *, state: str | None = None, type: str | None = None, limit: int = 100
) -> Sequence[DataSubjectRequest]:
    """Requests newest first, filtered by state and type given as user input."""
    return RequestRepository(session).list(
        state=parse_request_state(state) if state else None,
        type=parse_request_type(type) if type else None,
        limit=limit,
    )


def request_view(session: Session, request_id: str) -> RequestView:
    """One request with its events, artifacts and tasks, or RecordNotFoundError."""
    repository = RequestRepository(session)
    request = repository.get(request_id)
    return RequestView(
        request=request,
        events=repository.events(request.id),
        artifacts=repository.artifacts(request.id),
        tasks=repository.tasks(request.id),
    )
