"""What staff do to a request, shared by the API's routes and the console's forms.

Each function takes the running application's context and the acting principal and
does the whole action (checks, records, queued job), so the API and the console can
never disagree on a rule such as four eyes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from personvern.api.context import AppContext
from personvern.intake.review import Resolved
from personvern.security.principal import Principal


def queue_run(context: AppContext, request_id: str, principal: Principal) -> str:
    """Queue a run of a verified request (ApprovalError while four eyes are missing)."""
    from personvern.domain.requests.lifecycle import (
        RUN_REQUESTED,
        RequestState,
        check_transition,
    )
    from personvern.intake.approval import check_may_run

    with context.application.unit_of_work() as uow:
        repository = uow.requests
        request = repository.get(request_id)
        state = request.state
        if not state.is_runnable:
            check_transition(state, RequestState.IN_PROGRESS)
        check_may_run(request, context.settings)
        request.run_requested_by = principal.subject
        repository.add_event(request, RUN_REQUESTED, principal.subject)
    return context.application.jobs().submit_run(request_id)


def resolve_review(
    context: AppContext,
    request_id: str,
    principal: Principal,
    *,
    attach: Sequence[str],
    exclude: Sequence[str],
    reason: str,
) -> tuple[Resolved, str | None]:
    """Record the review's decisions and queue the run (None: an approval comes first)."""
    from personvern.intake.review import resolve_review as resolve

    with context.application.unit_of_work() as uow:
        resolved = resolve(
            uow.session,
            context.settings,
            request_id,
            attach=list(attach),
            exclude=list(exclude),
            reason=reason,
            actor=principal.subject,
            now=datetime.now(UTC),
        )
    job = context.application.jobs().submit_run(request_id) if resolved.may_run else None
    return resolved, job


def approve_plan(context: AppContext, request_id: str, principal: Principal) -> dict[str, Any]:
    """Approve the erasure plan as it is now (four eyes); returns the plan approved."""
    from personvern.domain.requests.four_eyes import ApprovalError
    from personvern.intake.approval import answer_of, approve

    engine = context.application.request_engine()
    planned, found = engine.preview(request_id)
    if engine.hold_for_review(request_id, planned, principal.subject):
        raise ApprovalError(
            "the plan cannot be approved: the identities point at different people in "
            + ", ".join(planned.conflicts),
            hint="the request now needs review: resolve it on the request's page or with "
            f"POST /api/v1/requests/{request_id}/review",
        )
    plan = planned.to_json()
    with context.application.unit_of_work() as uow:
        approve(
            uow.session,
            context.settings,
            request_id,
            plan,
            approver=principal.subject,
            now=datetime.now(UTC),
            answer=answer_of(found),
        )
    return plan
