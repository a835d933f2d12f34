"""The way out of needs_review through the API: decide every record, with a reason, and run.

Before, a request whose identities pointed at two people stopped in needs_review and
the only way out was to reject it. Now staff attach or exclude each record the review
names (POST /requests/{id}/review), the decisions are recorded with who made them and
why, and the run goes on with them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.request_flow.staff import Staff, company, staff
from tests.support.company import Company

__all__ = ["company", "staff"]


def _stopped(staff: Staff, company: Company) -> tuple[str, int, int, dict[str, Any]]:
    """An access request naming two customers, run until it stops for review."""
    (first, email, _), (second, _, _) = company.customers()[:2]
    filed = staff.client.post(
        "/api/v1/requests",
        headers=staff.agent,
        json={
            "type": "access",
            "identities": [
                {"kind": "email", "value": email},
                {"kind": "customer_id", "value": str(second)},
            ],
            "verification_method": "staff_in_person",
            "verification_note": "passport checked at the Oslo office",
        },
    )
    assert 201 == filed.status_code, filed.text
    request_id: str = filed.json()["id"]
    ran = staff.client.post(f"/api/v1/requests/{request_id}/run", headers=staff.agent)
    assert 202 == ran.status_code, ran.text
    stopped = staff.wait(request_id)
    assert "needs_review" == stopped["state"], stopped["last_error"]
    return request_id, int(first), int(second), stopped


def _review(staff: Staff, request_id: str, body: dict[str, Any], **kw: Any) -> Any:
    return staff.client.post(
        f"/api/v1/requests/{request_id}/review", headers=kw.get("headers", staff.dpo), json=body
    )


def test_staff_decide_each_record_and_the_run_goes_on_with_the_decisions(
    staff: Staff, company: Company
) -> None:
    request_id, first, second, stopped = _stopped(staff, company)
    records = sorted(f"{c['dataset']}:{c['key']}" for c in stopped["review"]["candidates"])
    assert {f"crm.customers:{first}", f"crm.customers:{second}"} <= set(records)
    others = [r for r in records if r != f"crm.customers:{first}"]

    resolved = _review(
        staff,
        request_id,
        {
            "attach": [f"crm.customers:{first}"],
            "exclude": others,
            "reason": "the customer number was a typo on the form",
        },
    )

    assert 202 == resolved.status_code, resolved.text
    assert resolved.json()["job"]
    finished = staff.wait(request_id)
    assert finished["state"] in ("completed", "partially_completed"), finished["last_error"]
    exported = next(d for d in finished["plan"]["datasets"] if d["dataset"] == "customers")
    assert [first] == exported["export"]
    review = finished["receipt"]["review"]
    assert {(r["record"], r["decision"], r["reason"]) for r in review} == {
        (f"crm.customers:{first}", "attach", "the customer number was a typo on the form"),
        *((r, "exclude", "the customer number was a typo on the form") for r in others),
    }
    notes = [(e["message"], e["actor"]) for e in finished["events"]]
    dpo = f"api-token:{staff.dpo_id}"
    assert {
        (
            f"review: crm.customers:{second} excluded: not the subject's "
            "(the customer number was a typo on the form)",
            dpo,
        ),
        ("review resolved", dpo),
        ("run requested", dpo),
    } <= set(notes)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"attach": ["crm.customers:999999"], "reason": "x"},
            "crm.customers:999999 is not a record this review asks about",
        ),
        ({"attach": [], "exclude": [], "reason": "x"}, "every record of the review must be"),
        ({"exclude": ["no-colon"], "reason": "x"}, "'no-colon' does not name a record"),
        ({"attach": [], "reason": "bad \x1b[31m"}, "the reason contains an ESC"),
        ({"attach": [], "reason": "   "}, "a review decision needs a reason"),
    ],
)
def test_a_decision_the_review_refuses_is_a_problem_and_changes_nothing(
    staff: Staff, company: Company, body: dict[str, Any], detail: str
) -> None:
    request_id, _, _, stopped = _stopped(staff, company)

    refused = _review(staff, request_id, body)

    assert (422, "application/problem+json") == (
        refused.status_code,
        refused.headers["content-type"],
    ), refused.text
    assert refused.json()["detail"].startswith(detail), refused.text
    after = staff.client.get(f"/api/v1/requests/{request_id}", headers=staff.dpo).json()
    assert (stopped["state"], stopped["review"], len(stopped["events"])) == (
        after["state"],
        after["review"],
        len(after["events"]),
    )


def test_only_a_request_in_review_is_resolved_and_only_with_write_access(
    staff: Staff, company: Company
) -> None:
    request_id, _, _, stopped = _stopped(staff, company)
    records = [f"{c['dataset']}:{c['key']}" for c in stopped["review"]["candidates"]]
    body = {"attach": [], "exclude": records, "reason": "neither is the subject"}

    forbidden = _review(staff, request_id, body, headers=staff.auditor)
    resolved = _review(staff, request_id, body)
    again = _review(staff, request_id, body)

    assert (403, 202, 409) == (
        forbidden.status_code,
        resolved.status_code,
        again.status_code,
    ), again.text
    assert "not needs_review" in again.json()["detail"]


def test_an_erasure_waiting_for_approval_goes_to_review_approval_and_run(
    staff: Staff, company: Company
) -> None:
    (first, email, _), (second, _, _) = company.customers()[2:4]
    filed = staff.client.post(
        "/api/v1/requests",
        headers=staff.agent,
        json={
            "type": "erasure",
            "identities": [
                {"kind": "email", "value": email},
                {"kind": "customer_id", "value": str(second)},
            ],
            "verification_method": "staff_in_person",
            "verification_note": "passport checked at the Oslo office",
        },
    )
    assert 201 == filed.status_code, filed.text
    request_id = filed.json()["id"]

    refused = staff.client.post(f"/api/v1/requests/{request_id}/approve", headers=staff.dpo)
    held = staff.client.get(f"/api/v1/requests/{request_id}", headers=staff.dpo).json()
    records = [f"{c['dataset']}:{c['key']}" for c in held["review"]["candidates"]]
    mine = f"crm.customers:{first}"
    resolved = _review(
        staff,
        request_id,
        {
            "attach": [mine],
            "exclude": [r for r in records if r != mine],
            "reason": "the customer number belongs to her neighbour",
        },
    )
    approved = staff.client.post(f"/api/v1/requests/{request_id}/approve", headers=staff.dpo)
    ran = staff.client.post(f"/api/v1/requests/{request_id}/run", headers=staff.agent)
    finished = staff.wait(request_id)

    assert (409, "needs_review") == (refused.status_code, held["state"]), refused.text
    assert (202, None) == (resolved.status_code, resolved.json()["job"]), resolved.text
    assert (200, 202) == (approved.status_code, ran.status_code), approved.text
    assert finished["state"] in ("completed", "partially_completed"), finished["last_error"]
    erased = next(d for d in finished["plan"]["datasets"] if d["dataset"] == "customers")
    assert [first] == erased["delete"] + erased["erase_fields"]
