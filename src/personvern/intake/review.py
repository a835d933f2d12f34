"""Resolve a request that stopped for review: record the decisions, send it back to run.

The rules (what must be decided, what may be attached) are those of
personvern.domain.requests.review; this records them on the request in one
transaction: the decisions and a history event for each (who, what, why), and the
request back to ``verified`` with its run asked for by whoever decided. The caller then
runs it (the CLI at once, the API through the job queue), unless a second person must
approve an erasure's plan first (four eyes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import RUN_REQUESTED, RequestState
from personvern.domain.requests.review import (
    NotUnderReviewError,
    Review,
    ReviewDecision,
    check_reason,
    decide,
)
from personvern.intake.approval import approval_needed
from personvern.settings import Settings
from personvern.store.requests import RequestRepository


@dataclass(frozen=True)
class Resolved:
    """What a resolution recorded, and whether the request may run now."""

    request_id: str
    decisions: tuple[ReviewDecision, ...]
    #: False when an erasure's plan waits for a second person's approval first.
    may_run: bool


def resolve_review(
    session: Session,
    settings: Settings,
    request_id: str,
    *,
    attach: Sequence[str],
    exclude: Sequence[str],
    reason: str,
    actor: str,
    now: datetime,
) -> Resolved:
    """Record a decision on every record of the request's review and send it back to run.

    A request not in ``needs_review`` (NotUnderReviewError), or a decision the review
    refuses (ReviewError): nothing is recorded.
    """
    why = check_reason(reason)
    repository = RequestRepository(session)
    request = repository.get(request_id, for_update=True)
    if request.state is not RequestState.NEEDS_REVIEW:
        raise NotUnderReviewError(
            f"request {request_id} is {request.state}, not needs_review: there is nothing "
            "to resolve",
            hint="`personvern request show` says where the request is",
        )
    review, made = decide(
        Review.from_json(request.review),
        attach=attach,
        exclude=exclude,
        reason=why,
        decided_by=actor,
        decided_at=now,
    )
    request.review = review.to_json()
    for decision in made:
        repository.add_event(request, decision.note, actor, now)
    if not made:
        repository.add_event(request, f"review: sent back to run ({why})", actor, now)
    repository.transition(
        request, request.lifecycle.resolve_review(), "review resolved", actor, at=now
    )
    request.last_error = None
    may_run = request.approved_at is not None or not approval_needed(request, settings)
    if may_run:
        request.run_requested_by = actor
        repository.add_event(request, RUN_REQUESTED, actor, now)
    return Resolved(request_id, made, may_run)
