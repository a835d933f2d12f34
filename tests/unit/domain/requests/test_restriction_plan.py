"""Restriction (Art. 18) plans: the declared field set, manual steps where there is none.

Before, a restriction request planned nothing for any dataset: the run wrote a flag in
personvern's own store and reported the request completed, while every system went on
using the records. Now the plan lists the records to mark per dataset, with the field
where the data map declares one, and a manual step where it does not.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.request_plan import ManualStep, RequestPlan, build_plan
from personvern.domain.requests.subject_graph import SubjectGraph
from personvern.engine.search import search_subject
from tests.unit.domain.requests.company_rows import ANN, TODAY, company_rows
from tests.unit.domain.requests.memory_store import MemoryConnector, MemoryStore


@pytest.fixture(scope="module")
def datamap() -> DataMap:
    """The example company's data map (crm.customers declares restricted_at)."""
    root = Path(__file__).resolve().parents[4] / "examples" / "workspace-company"
    return load_datamap(root).datamap


def _plan(
    datamap: DataMap,
    request_type: RequestType,
    rows: dict[str, list[dict[str, Any]]] | None = None,
    unavailable: dict[str, str] | None = None,
) -> RequestPlan:
    store = MemoryStore(datamap, company_rows() if rows is None else rows)
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    result = search_subject(graph, [parse_identity("email", ANN)], connectors)  # type: ignore[arg-type]
    return build_plan(request_type, graph, result.walk, datamap, TODAY, unavailable=unavailable)


def test_restriction_sets_the_declared_field_on_the_subjects_record(datamap: DataMap) -> None:
    customers = _plan(datamap, RequestType.RESTRICTION).dataset("crm.customers")
    assert customers is not None
    assert ((1,), "restricted_at", "timestamp") == (
        customers.restrict,
        customers.restrict_field,
        customers.restrict_mark,
    )
    assert customers.changes


def test_datasets_without_a_declaration_are_manual_steps_with_their_counts(
    datamap: DataMap,
) -> None:
    plan = _plan(datamap, RequestType.RESTRICTION)
    assert {
        "crm.prospects": 1,
        "billing.invoices": 2,
        "billing.invoice_lines": 2,
        "support.tickets": 1,
        "analytics.web_events": 2,
        "marketing.newsletter_subscriptions": 1,
        "telephony.call_recordings": 1,
        "identity_documents.identity_documents": 1,
    } == {step.key: step.records for step in plan.manual_steps}
    assert {"no_restriction"} == {step.reason for step in plan.manual_steps}
    invoices = next(s for s in plan.manual_steps if s.key == "billing.invoices")
    assert (
        "restrict 2 records in Billing (billing), dataset invoices, by hand: "
        "the data map declares no restriction field there"
    ) == invoices.description
    # The plan still names the records to restrict by hand, but writes none of them.
    part = plan.dataset("billing.invoices")
    assert part is not None
    assert ((100, 101), None, False) == (part.restrict, part.restrict_field, part.changes)


def test_mentions_and_other_people_are_not_restricted(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.RESTRICTION)
    tickets = plan.dataset("support.tickets")
    employees = plan.dataset("crm.designated_employees")
    cards = plan.dataset("access_control.security_cards")
    assert tickets is not None
    # Tickets 301 and 302 are Bo's and only mention Ann.
    assert (300,) == tickets.restrict
    # Eva, designated by Ann's company, and her card are Eva's own.
    assert employees is None or () == employees.restrict
    assert cards is None or () == cards.restrict
    assert not {"crm.designated_employees", "access_control.security_cards"} & {
        s.key for s in plan.manual_steps
    }


def test_a_record_restricted_before_keeps_its_time(datamap: DataMap) -> None:
    rows = company_rows()
    rows["crm.customers"][0]["restricted_at"] = "2026-01-05T10:00:00"
    customers = _plan(datamap, RequestType.RESTRICTION, rows).dataset("crm.customers")
    assert customers is not None
    assert ((), "restricted_at") == (customers.restrict, customers.restrict_field)


def test_restriction_tells_the_recipients(datamap: DataMap) -> None:
    assert "collection-agency" in _plan(datamap, RequestType.RESTRICTION).recipients


@pytest.mark.parametrize(
    ("request_type", "expected"),
    [
        (
            RequestType.ACCESS,
            "find the subject's records in Microsoft 365 e-mail (email) and add them to the "
            "answer by hand: personvern could not search it (not set)",
        ),
        (
            RequestType.ERASURE,
            "erase the subject's records in Microsoft 365 e-mail (email) by hand: "
            "personvern could not search it (not set)",
        ),
        (
            RequestType.RESTRICTION,
            "restrict the subject's records in Microsoft 365 e-mail (email) by hand: "
            "personvern could not search it (not set)",
        ),
        (
            RequestType.OBJECTION,
            "stop the processing objected to in Microsoft 365 e-mail (email) by hand: "
            "personvern could not search it (not set)",
        ),
    ],
)
def test_a_system_that_could_not_be_searched_is_a_manual_step_of_every_request(
    datamap: DataMap, request_type: RequestType, expected: str
) -> None:
    plan = _plan(datamap, request_type, unavailable={"email": "not set"})
    steps = [step for step in plan.manual_steps if step.reason == "not_connected"]
    assert [("email", expected)] == [(step.key, step.description) for step in steps]


def test_a_system_lost_before_a_resumed_run_becomes_a_manual_step(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.ERASURE)
    resumed = plan.with_unavailable({"support": "unreachable", "website": "-"}, datamap)
    # Support had rows to erase; a system with nothing planned adds no step.
    assert ["support"] == [s.key for s in resumed.manual_steps]
    assert {"support": "unreachable"} == dict(resumed.unavailable)
    assert plan is plan.with_unavailable({}, datamap)


def test_a_restriction_plan_survives_its_json_form(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.RESTRICTION, unavailable={"email": "not set"})
    assert plan == RequestPlan.from_json(plan.to_json())


def test_a_plan_stored_before_restriction_and_manual_steps_still_reads() -> None:
    stored = {
        "request_type": "erasure",
        "computed_on": "2026-11-01",
        "datasets": [{"system": "crm", "dataset": "customers", "found": 1, "delete": [1]}],
        "unavailable": {"email": "not set"},
        "recipients": ["collection-agency"],
    }
    plan = RequestPlan.from_json(stored)
    assert (date(2026, 11, 1), (), ()) == (
        plan.computed_on,
        plan.manual_steps,
        plan.datasets[0].restrict,
    )


def test_manual_steps_keep_their_fields_in_json(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.RESTRICTION)
    first = plan.to_json()["manual_steps"][0]
    assert ManualStep(**first) == plan.manual_steps[0]
