"""A plan in plain language: counts, fields and legal grounds, never a record key."""

from __future__ import annotations

from datetime import date

from personvern.domain.requests.dataset_plan import DatasetPlan
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.plan_summary import PlanAction, PlanLine, summarise
from personvern.domain.requests.request_plan import ManualStep, RequestPlan


def test_each_action_becomes_a_line_grouped_by_system() -> None:
    plan = RequestPlan(
        request_type=RequestType.ERASURE,
        computed_on=date(2026, 12, 1),
        datasets=(
            DatasetPlan(
                "crm",
                "customers",
                found=1,
                erase_fields=("42",),
                strategies={"email": "null", "name": "mask"},
            ),
            DatasetPlan("crm", "notes", found=3, delete=("1", "2"), redact=("3",),
                        redact_fields=("body",)),
            DatasetPlan("billing", "invoices", found=2, keep=("9", "10"),
                        keep_reason="bokføringsloven § 13"),
            DatasetPlan("shop", "carts", found=0),
        ),
        recipients=("mailer",),
        manual_steps=(ManualStep("files", "unreachable", "delete the scans by hand", 4),),
    )  # fmt: skip

    summary = summarise(plan)

    assert ["crm", "billing"] == [system for system, _ in summary.systems]
    crm = dict(summary.systems)["crm"]
    assert (PlanLine(PlanAction.ERASE_FIELDS, 1, ("email (null)", "name (mask)")),) == crm[0].lines
    assert (
        PlanLine(PlanAction.DELETE, 2),
        PlanLine(PlanAction.REDACT, 1, ("body",)),
    ) == crm[1].lines
    [billing] = dict(summary.systems)["billing"]
    assert (PlanLine(PlanAction.KEEP, 2, reason="bokføringsloven § 13"),) == billing.lines
    assert (("mailer",), ("delete the scans by hand",)) == (
        summary.recipients,
        summary.manual_steps,
    )
    assert "42" not in repr(summary), "record keys stay out of the summary"


def test_a_restriction_without_a_field_is_done_by_hand() -> None:
    by_field = DatasetPlan("crm", "customers", found=1, restrict=("1",), restrict_field="held_at")
    by_hand = DatasetPlan("crm", "leads", found=1, restrict=("2",))
    plan = RequestPlan(RequestType.RESTRICTION, date(2026, 12, 1), datasets=(by_field, by_hand))
    [(_, parts)] = summarise(plan).systems
    assert [PlanAction.RESTRICT, PlanAction.RESTRICT_BY_HAND] == [p.lines[0].action for p in parts]
    assert summarise(RequestPlan(RequestType.ACCESS, date(2026, 12, 1))).found_nothing
