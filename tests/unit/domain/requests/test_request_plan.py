"""Plans: what erasure deletes, empties, redacts and keeps, and what other requests change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap
from personvern.domain.requests.handlers.erasure import ABOUT_ANOTHER_PERSON
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.legal_hold import legal_holds
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.request_plan import RequestPlan, build_plan
from personvern.domain.requests.subject_graph import SubjectGraph
from personvern.engine.search import search_subject
from tests.unit.domain.requests.company_rows import ANN, TODAY, company_rows
from tests.unit.domain.requests.memory_store import MemoryConnector, MemoryStore


@pytest.fixture(scope="module")
def datamap() -> DataMap:
    """The example company's data map."""
    root = Path(__file__).resolve().parents[4] / "examples" / "workspace-company"
    return load_datamap(root).datamap


def _plan(datamap: DataMap, request_type: RequestType, **details: object) -> RequestPlan:
    store = MemoryStore(datamap, company_rows())
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    result = search_subject(graph, [parse_identity("email", ANN)], connectors)  # type: ignore[arg-type]
    return build_plan(request_type, graph, result.walk, datamap, TODAY, details=details)


@pytest.mark.parametrize(
    ("issued", "held_until"),
    [
        (date(2025, 3, 1), date(2030, 12, 31)),
        (date(2020, 12, 31), date(2025, 12, 31)),
        (date(2024, 2, 29), date(2029, 12, 31)),
    ],
)
def test_invoices_are_held_five_years_after_the_financial_year(
    datamap: DataMap, issued: date, held_until: date
) -> None:
    hold = legal_holds(datamap)["billing.invoices"]
    assert "bokføringsloven § 13" == hold.reference
    assert held_until == hold.held_until(issued)
    assert hold.holds(issued, held_until)
    assert not hold.holds(issued, date(held_until.year + 1, 1, 1))


def test_an_unreadable_trigger_date_keeps_the_record(datamap: DataMap) -> None:
    assert legal_holds(datamap)["billing.invoices"].holds("not a date", TODAY)


def test_erasure_keeps_recent_invoices_with_their_lines_and_says_why(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.ERASURE)
    invoices = plan.dataset("billing.invoices")
    lines = plan.dataset("billing.invoice_lines")
    assert invoices is not None
    assert lines is not None
    assert (100,) == invoices.keep
    assert (101,) == invoices.delete
    assert "bokføringsloven § 13" == invoices.keep_reason
    assert (1000,) == lines.keep
    assert (1001,) == lines.delete


def test_erasure_empties_the_customer_record_but_keeps_the_company_name(datamap: DataMap) -> None:
    customers = _plan(datamap, RequestType.ERASURE).dataset("crm.customers")
    assert customers is not None
    assert (1,) == customers.erase_fields
    assert () == customers.delete
    assert "company_name" not in customers.strategies
    assert "null" == customers.strategies["contact_name"]
    assert {"email", "phone", "national_id", "address"} <= set(customers.strategies)


def test_erasure_redacts_mentions_instead_of_deleting_others_records(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.ERASURE)
    tickets = plan.dataset("support.tickets")
    assert tickets is not None
    assert (300,) == tickets.delete
    assert (301, 302) == tickets.redact
    assert ("subject", "body") == tickets.redact_fields
    assert ANN in plan.needles
    assert "010170 12343" in plan.needles


def test_erasure_lists_the_recipients_to_notify(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.ERASURE)
    assert "collection-agency" in plan.recipients
    assert "telephony-provider" in plan.recipients


def test_access_exports_everything_found_and_changes_nothing(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.ACCESS)
    assert not any(part.changes for part in plan.datasets)
    assert sum(part.found for part in plan.datasets) == sum(len(p.export) for p in plan.datasets)
    assert () == plan.recipients


def test_rectification_changes_every_copy_of_the_category(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.RECTIFICATION, corrections={"user.name": "Ann Berg-Dahl"})
    customers = plan.dataset("crm.customers")
    invoices = plan.dataset("billing.invoices")
    assert customers is not None
    assert invoices is not None
    assert {"contact_name": "Ann Berg-Dahl"} == dict(customers.rectify_changes)
    # Only the invoice outside the bookkeeping hold is corrected.
    assert (101,) == invoices.rectify
    assert (100,) == invoices.keep
    employees = plan.dataset("crm.designated_employees")
    assert employees is not None
    assert () == employees.rectify


def test_objection_stops_marketing_where_consent_withdrawal_is_recorded(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.OBJECTION)
    subscriptions = plan.dataset("marketing.newsletter_subscriptions")
    assert subscriptions is not None
    assert (1,) == subscriptions.stop_marketing
    assert "unsubscribed_at" == subscriptions.stop_field


def test_a_plan_survives_its_json_form(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.ERASURE)
    assert plan == RequestPlan.from_json(plan.to_json())


def test_recipients_are_those_that_received_what_was_found(datamap: DataMap) -> None:
    store = MemoryStore(datamap, company_rows())
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    visitor = [parse_identity("cookie_id", "c-other")]
    result = search_subject(graph, visitor, connectors)  # type: ignore[arg-type]
    plan = build_plan(RequestType.ERASURE, graph, result.walk, datamap, TODAY)
    assert ["analytics.web_events"] == [part.name for part in plan.datasets]
    # A web visitor's clicks never went to the debt collector or the card supplier.
    assert "collection-agency" not in plan.recipients
    assert "card-supplier" not in plan.recipients


def test_erasure_keeps_other_people_under_the_customers_record(datamap: DataMap) -> None:
    plan = _plan(datamap, RequestType.ERASURE)
    employees = plan.dataset("crm.designated_employees")
    cards = plan.dataset("access_control.security_cards")
    assert employees is not None
    assert cards is not None
    assert ((10,), ()) == (employees.keep, employees.delete)
    # Eva's security card is hers, not the contact person's.
    assert ((7,), ()) == (cards.keep, cards.delete)
    assert ABOUT_ANOTHER_PERSON == employees.keep_reason


def test_rectification_leaves_a_colleagues_ticket_alone(datamap: DataMap) -> None:
    plan = _plan(
        datamap, RequestType.RECTIFICATION, corrections={"user.contact.email": "ann@ny.example"}
    )
    customers = plan.dataset("crm.customers")
    tickets = plan.dataset("support.tickets")
    assert customers is not None
    assert (1,) == customers.rectify
    # Ticket 300 was filed by Eva: its requester e-mail is hers.
    assert tickets is None or 300 not in tickets.rectify
