"""The way out of needs_review: every record decided, with a reason, or nothing is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personvern.domain.requests.dataset_plan import DatasetPlan
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.review import (
    Candidate,
    CandidateKind,
    Decision,
    Review,
    ReviewError,
    decide,
    leave_out,
    left_out_steps,
)
from personvern.domain.text_input import UnsafeTextError

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
OPEN = Review(
    candidates=(
        Candidate("crm.customers", "1"),
        Candidate("crm.customers", "2"),
        Candidate("support.tickets", "300", CandidateKind.UNREADABLE),
    )
)


def _decide(review: Review = OPEN, **kw: object) -> tuple[Review, tuple[object, ...]]:
    args: dict[str, object] = {
        "attach": ["crm.customers:1"],
        "exclude": ["crm.customers:2", "support.tickets:300"],
        "reason": "same address in other case; 2 is her husband",
        "decided_by": "dpo",
        "decided_at": NOW,
    } | kw
    return decide(review, **args)  # type: ignore[arg-type]


def test_every_record_decided_is_recorded_with_who_why_and_when() -> None:
    review, made = _decide()
    assert () == review.candidates
    assert [
        ("crm.customers:1", Decision.ATTACH, "dpo", "2026-12-02T10:00:00+00:00"),
        ("crm.customers:2", Decision.EXCLUDE, "dpo", "2026-12-02T10:00:00+00:00"),
        ("support.tickets:300", Decision.EXCLUDE, "dpo", "2026-12-02T10:00:00+00:00"),
    ] == [(d.record, d.decision, d.decided_by, d.decided_at) for d in review.decisions]
    assert made == review.decisions
    assert (
        {"crm.customers": frozenset({"1"})},
        {"crm.customers": frozenset({"2"})},
        {"support.tickets": frozenset({"300"})},
    ) == (review.attached(), review.set_aside(), review.left_out())
    assert review == Review.from_json(review.to_json())


def test_earlier_decisions_stand_when_a_later_review_opens() -> None:
    review, _ = _decide()
    again = review.opened([Candidate("crm.prospects", "50")])
    decided, _ = decide(
        again,
        attach=[],
        exclude=["crm.prospects:50"],
        reason="another Ann",
        decided_by="agent",
        decided_at=NOW,
    )
    assert 4 == len(decided.decisions)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"attach": ["crm.customers:9"]}, "crm.customers:9 is not a record this review asks about"),
        (
            {"attach": []},
            "every record of the review must be decided; not decided: crm.customers:1",
        ),
        (
            {"attach": ["crm.customers:1", "crm.customers:2"]},
            "crm.customers:2 cannot be both attached and excluded",
        ),
        (
            {"attach": ["crm.customers:1", "support.tickets:300"], "exclude": ["crm.customers:2"]},
            "support.tickets:300 cannot be read, so it cannot be attached",
        ),
        ({"attach": ["crm.customers"]}, "'crm.customers' does not name a record"),
        ({"attach": ["customers:1"]}, "'customers:1' does not name a record"),
        ({"reason": "  "}, "a review decision needs a reason"),
        ({"reason": "x" * 2001}, "the reason is longer than 2000 characters"),
    ],
)
def test_a_decision_the_review_cannot_take_is_refused_whole(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(ReviewError) as refused:
        _decide(**change)
    assert message == refused.value.message


@pytest.mark.parametrize("reason", ["ok\x1b[2J", "ok\nsecond line", "ok\u202egnp.exe"])
def test_a_reason_with_control_characters_is_refused(reason: str) -> None:
    with pytest.raises(UnsafeTextError):
        _decide(reason=reason)


def test_a_review_naming_no_record_is_sent_back_with_a_reason_alone() -> None:
    review, made = decide(
        Review(), attach=[], exclude=[], reason="fixed the row", decided_by="dpo", decided_at=NOW
    )
    assert ((), ()) == (review.decisions, made)


def test_an_unreadable_record_left_out_is_a_step_by_hand_and_leaves_the_plan() -> None:
    review, _ = _decide()
    steps = left_out_steps(review, RequestType.ERASURE)
    assert [("support.tickets:300", "not_readable", 1)] == [
        (s.key, s.reason, s.records) for s in steps
    ]
    assert steps[0].description.endswith("; fix it, then erase it if it is the subject's")
    part = DatasetPlan("support", "tickets", found=2, delete=(300, 301), redact=(300,))
    kept = leave_out(part, frozenset({"300"}))
    assert ((301,), ()) == (kept.delete, kept.redact)
