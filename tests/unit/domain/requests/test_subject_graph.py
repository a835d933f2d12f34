"""The search walk: from the identities a subject gives to every record about them."""

from __future__ import annotations

from pathlib import Path

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.review import Decision, Review, ReviewDecision
from personvern.domain.requests.subject_graph import MatchKind, SubjectGraph
from personvern.engine.search import search_subject
from tests.unit.domain.requests.company_rows import ANN, ANN_PHONE, company_rows
from tests.unit.domain.requests.memory_store import MemoryConnector, MemoryStore


@pytest.fixture(scope="module")
def datamap() -> DataMap:
    """The example company's data map."""
    root = Path(__file__).resolve().parents[4] / "examples" / "workspace-company"
    return load_datamap(root).datamap


def _search(datamap: DataMap, *pairs: tuple[str, str]):  # type: ignore[no-untyped-def]
    store = MemoryStore(datamap, company_rows())
    graph = SubjectGraph.from_datamap(datamap)
    systems = {node.system for node in graph.nodes}
    connectors = {key: MemoryConnector(store, key) for key in systems}
    identities = [parse_identity(kind, value) for kind, value in pairs]
    return search_subject(graph, identities, connectors), store  # type: ignore[arg-type]


def _found(result, name: str) -> dict[object, MatchKind]:  # type: ignore[no-untyped-def]
    return {key: match for key, (_, match) in result.walk.records(name).items()}


def test_parents_are_searched_before_the_records_that_point_at_them(datamap: DataMap) -> None:
    order = [node.name for node in SubjectGraph.from_datamap(datamap).nodes]
    assert order.index("crm.customers") < order.index("billing.invoices")
    assert order.index("billing.invoices") < order.index("billing.invoice_lines")
    assert order.index("crm.designated_employees") < order.index("access_control.security_cards")


def test_children_first_reverses_the_dependencies(datamap: DataMap) -> None:
    order = [node.name for node in SubjectGraph.from_datamap(datamap).children_first()]
    assert order.index("billing.invoice_lines") < order.index("billing.invoices")
    assert order.index("crm.designated_employees") < order.index("crm.customers")


def test_web_and_app_systems_are_not_searched(datamap: DataMap) -> None:
    systems = {node.system for node in SubjectGraph.from_datamap(datamap).nodes}
    assert "website" not in systems
    assert "email" in systems


def test_an_email_reaches_every_record_of_the_customer_and_nothing_of_others(
    datamap: DataMap,
) -> None:
    result, _ = _search(datamap, ("email", ANN.upper()))
    assert {1: MatchKind.IDENTITY} == _found(result, "crm.customers")
    # Designated employees belong to the customer's record; their own e-mail is not
    # followed, so Eva's newsletter subscription stays out.
    assert {10: MatchKind.REFERENCE} == _found(result, "crm.designated_employees")
    assert {1} == set(_found(result, "marketing.newsletter_subscriptions"))
    assert {100, 101} == set(_found(result, "billing.invoices"))
    assert {1000, 1001} == set(_found(result, "billing.invoice_lines"))
    assert {7} == set(_found(result, "access_control.security_cards"))
    assert {"doc-a"} == set(_found(result, "identity_documents.identity_documents"))
    # The phone number found on the customer record finds the call made from it.
    assert {"call-a": MatchKind.IDENTITY} == _found(result, "telephony.call_recordings")
    # The cookie of the signed-in session finds the visits before signing in.
    assert {1, 2} == set(_found(result, "analytics.web_events"))


def test_free_text_mentions_are_found_by_email_phone_and_national_id(datamap: DataMap) -> None:
    result, _ = _search(datamap, ("email", ANN))
    tickets = _found(result, "support.tickets")
    assert MatchKind.REFERENCE == tickets[300]
    # 301 mentions the e-mail in capitals, 302 the national id with a space.
    assert MatchKind.MENTION == tickets[301]
    assert MatchKind.MENTION == tickets[302]
    # The prospect note writes the phone number 3-2-3.
    prospects = _found(result, "crm.prospects")
    assert MatchKind.IDENTITY == prospects[50]
    assert MatchKind.MENTION == prospects[51]


def test_each_dataset_is_asked_a_small_constant_number_of_times(datamap: DataMap) -> None:
    result, store = _search(datamap, ("email", ANN), ("phone_number", ANN_PHONE))
    assert result.passes <= 3
    assert max(result.queries.values()) <= 2
    assert len(store.queries) == sum(result.queries.values())


def test_an_identity_that_matches_nobody_finds_nothing(datamap: DataMap) -> None:
    result, _ = _search(datamap, ("email", "nobody@nowhere.example"))
    assert not result.walk.found_any()
    assert [] == result.walk.conflicts()


def test_identities_of_different_people_are_a_conflict(datamap: DataMap) -> None:
    result, _ = _search(datamap, ("email", ANN), ("customer_id", "2"))
    assert ["crm.customers"] == result.walk.conflicts()


def test_identities_of_the_same_person_are_no_conflict(datamap: DataMap) -> None:
    result, _ = _search(
        datamap, ("email", ANN), ("customer_id", "1"), ("phone_number", "912 34 567")
    )
    assert [] == result.walk.conflicts()


def _search_rows(
    datamap: DataMap, rows: dict[str, list[dict[str, object]]], *pairs: tuple[str, str]
):  # type: ignore[no-untyped-def]
    store = MemoryStore(datamap, rows)
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    identities = [parse_identity(kind, value) for kind, value in pairs]
    return search_subject(graph, identities, connectors)  # type: ignore[arg-type]


def test_a_phone_number_typed_into_ones_own_record_does_not_reach_its_owner(
    datamap: DataMap,
) -> None:
    rows = company_rows()
    rows["crm.prospects"].append(
        {"id": 60, "name": "M", "email": "mallory@evil.example", "phone": ANN_PHONE, "notes": None}
    )
    result = _search_rows(datamap, rows, ("email", "mallory@evil.example"))
    # Ann's customer record is reached only through the phone Mallory typed in: review.
    assert ["crm.customers"] == result.walk.conflicts()
    # And it lent nothing: Ann's invoices were not searched for.
    assert {} == _found(result, "billing.invoices")


def test_a_shared_mailbox_matching_two_people_is_a_conflict(datamap: DataMap) -> None:
    rows = company_rows()
    rows["crm.designated_employees"].append(
        {"id": 12, "customer_id": 2, "name": "Ida", "email": "eva@kunde.example", "phone": None}
    )
    result = _search_rows(datamap, rows, ("email", "eva@kunde.example"))
    assert ["crm.designated_employees"] == result.walk.conflicts()


def test_another_customers_session_on_a_shared_browser_is_not_the_subjects(
    datamap: DataMap,
) -> None:
    rows = company_rows()
    rows["analytics.web_events"].append(
        {"id": 4, "cookie_id": "c-ann", "customer_id": 2, "url": "/bo-sin-side"}
    )
    result = _search_rows(datamap, rows, ("email", ANN))
    assert {1, 2} == set(_found(result, "analytics.web_events"))


def _search_decided(
    datamap: DataMap,
    rows: dict[str, list[dict[str, object]]],
    review: Review,
    *pairs: tuple[str, str],
):  # type: ignore[no-untyped-def]
    store = MemoryStore(datamap, rows)
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    identities = [parse_identity(kind, value) for kind, value in pairs]
    return search_subject(graph, identities, connectors, review=review)  # type: ignore[arg-type]


def _attached(dataset: str, key: str) -> Review:
    return Review(decisions=(ReviewDecision(dataset, key, Decision.ATTACH, "r", "dpo", "t"),))


def test_the_subjects_record_kept_twice_in_capitals_is_one_subject(datamap: DataMap) -> None:
    rows = company_rows()
    rows["crm.customers"].append(
        {
            "id": 3,
            "company_name": "BERG AS",
            "contact_name": "ANN BERG",
            "email": ANN.upper(),
            "phone": "912 34 567",
            "national_id": None,
            "address": "GATA 1",
        }
    )
    rows["billing.invoices"].append(
        {"id": 103, "customer_id": 3, "issued_on": "2020-01-01", "amount": 1, "paid": True}
    )
    result = _search_rows(datamap, rows, ("email", ANN))
    assert [] == result.walk.conflicts()
    assert {1: MatchKind.IDENTITY, 3: MatchKind.IDENTITY} == _found(result, "crm.customers")
    assert 103 in _found(result, "billing.invoices")


def test_a_record_holding_less_under_the_same_name_found_on_the_way_is_the_subjects(
    datamap: DataMap,
) -> None:
    rows = company_rows()
    rows["crm.customers"].append(
        {
            "id": 4,
            "company_name": None,
            "contact_name": "ann berg",
            "email": None,
            "phone": "0047 91234567",
            "national_id": None,
            "address": None,
        }
    )
    result = _search_rows(datamap, rows, ("email", ANN))
    assert [] == result.walk.conflicts()
    assert {1, 4} == set(_found(result, "crm.customers"))


def test_a_record_a_person_attached_is_the_subjects_and_lends_its_identities(
    datamap: DataMap,
) -> None:
    rows = company_rows()
    rows["crm.prospects"].append(
        {"id": 60, "name": "M", "email": "mallory@evil.example", "phone": ANN_PHONE, "notes": None}
    )
    review = _attached("crm.customers", "1")
    result = _search_decided(datamap, rows, review, ("email", "mallory@evil.example"))
    assert {100, 101} == set(_found(result, "billing.invoices"))
    # Ann's address, lent by her record, reaches her prospect record: decided in turn.
    assert {"crm.prospects": ["50", "60"]} == result.walk.review_candidates()


def test_a_record_a_person_excluded_is_not_the_subjects(datamap: DataMap) -> None:
    rows = company_rows()
    rows["crm.designated_employees"].append(
        {"id": 12, "customer_id": 2, "name": "Ida", "email": "eva@kunde.example", "phone": None}
    )
    review = Review(
        decisions=(
            ReviewDecision("crm.designated_employees", "12", Decision.EXCLUDE, "r", "dpo", "t"),
        )
    )
    result = _search_decided(datamap, rows, review, ("email", "eva@kunde.example"))
    assert [] == result.walk.conflicts()
    assert {10: MatchKind.IDENTITY} == _found(result, "crm.designated_employees")


def test_records_found_after_a_review_that_nobody_decided_on_stop_it_again(
    datamap: DataMap,
) -> None:
    rows = company_rows()
    rows["crm.prospects"].append(
        {"id": 60, "name": "M", "email": "mallory@evil.example", "phone": ANN_PHONE, "notes": None}
    )
    rows["crm.customers"].append(
        {
            "id": 5,
            "company_name": "Annen AS",
            "contact_name": "Other Person",
            "email": "other@annen.example",
            "phone": ANN_PHONE,
            "national_id": None,
            "address": None,
        }
    )
    review = _attached("crm.customers", "1")
    result = _search_decided(datamap, rows, review, ("email", "mallory@evil.example"))
    candidates = {"crm.customers": ["5"], "crm.prospects": ["50", "60"]}
    assert candidates == result.walk.review_candidates()
