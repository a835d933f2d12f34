"""A second person's approval of an erasure or rectification plan (four eyes), and the check.

The approver reviews the plan as computed at that moment (what is deleted, emptied,
redacted and kept); the approved plan is stored with the request and is exactly what
the run executes, so nothing is erased that the second person did not see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from personvern.domain.requests.collected import CollectedData
from personvern.domain.requests.four_eyes import (
    ApprovalError,
    FourEyesPolicy,
    check_approver,
    needs_approval,
)
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestState, RequestType, VerificationMethod
from personvern.settings import Settings
from personvern.store.models import DataSubjectRequest
from personvern.store.requests import RequestRepository


def approval_needed(request: DataSubjectRequest, settings: Settings) -> bool:
    """Whether the request must be approved by a second person before it runs."""
    method = request.verification_method
    return needs_approval(
        FourEyesPolicy(settings.four_eyes),
        RequestType(request.type),
        VerificationMethod(method) if method else None,
    )


def check_may_run(request: DataSubjectRequest, settings: Settings) -> None:
    """Raise ApprovalError if the request waits for a second person's approval."""
    if request.approved_at is None and approval_needed(request, settings):
        raise ApprovalError(
            f"{request.type} {request.id} needs a second person's approval before it runs",
            hint=f"someone other than {request.created_by} approves the plan: "
            f"`personvern request approve {request.id}` or POST "
            f"/api/v1/requests/{request.id}/approve",
        )


def approve(
    session: Session,
    settings: Settings,
    request_id: str,
    plan: dict[str, Any],
    *,
    approver: str,
    now: datetime,
    answer: tuple[str, dict[str, Any] | None] | None = None,
) -> DataSubjectRequest:
    """Record ``approver``'s approval of ``plan`` (the dry run they reviewed) for the request.

    ``answer``, when given, is the language and profile decided from the same search:
    the approved plan is what the run executes, so the run does not search (or decide)
    again.
    """
    repository = RequestRepository(session)
    request = repository.get(request_id)
    if request.state is not RequestState.VERIFIED:
        raise ApprovalError(
            f"request {request_id} is {request.state}; only a verified request that has not "
            "run yet is approved",
        )
    if not approval_needed(request, settings):
        raise ApprovalError(
            f"request {request_id} does not need an approval",
            hint=f"the four-eyes policy is '{settings.four_eyes}'; run it",
        )
    if plan.get("conflicts"):
        raise ApprovalError(
            "the plan cannot be approved: the identities point at different people in "
            + ", ".join(plan["conflicts"]),
            hint="resolve which person the request is about first",
        )
    verified_by = request.created_by if request.verification_method else None
    check_approver(approver, filed_by=request.created_by, verified_by=verified_by)
    repository.save_plan(request, plan)
    if answer is not None:
        request.language, request.answer_profile = answer
    request.approved_by = approver
    request.approved_at = now
    datasets = plan.get("datasets", [])
    summary = handler_for(RequestType(request.type)).approval_summary(datasets)
    repository.add_event(request, summary, approver, now)
    return request


def answer_of(found: CollectedData) -> tuple[str, dict[str, Any] | None]:
    """The language and answer profile decided from what a preview found."""
    from personvern.responses.receipt import answer_summary

    profile = answer_summary(found.profile) if found.profile is not None else None
    return found.language, profile
