"""The walk reads identities as stored: phones without "+", national ids with a space.

Before, a phone number on the subject's own record written without a country code
(``971 55 337``) made ``SubjectWalk.needles()`` raise NumberParseException, and the
request never finished. Now every found value is read in canonical form with the
controller's country, searched in every spelling, and one that cannot be read is
noted, by where it sits, for the privacy officer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap, IdentityKind
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.request_plan import RequestPlan, build_plan
from personvern.domain.requests.subject_graph import (
    DatasetNode,
    MatchKind,
    SubjectGraph,
    SubjectWalk,
)
from personvern.engine.search import SearchResult, search_subject
from tests.unit.domain.requests.company_rows import ANN, TODAY, company_rows
from tests.unit.domain.requests.memory_store import MemoryConnector, MemoryStore

ANN_PHONE = "+4797155337"


@pytest.fixture(scope="module")
def datamap() -> DataMap:
    """The example company's data map."""
    root = Path(__file__).resolve().parents[4] / "examples" / "workspace-company"
    return load_datamap(root).datamap


def _rows(**customer: Any) -> dict[str, list[dict[str, Any]]]:
    """The walk's company with Ann's customer record changed, and rows spelling her phone."""
    rows = company_rows()
    rows["crm.customers"][0].update(customer)
    rows["crm.prospects"] += [
        # Her own prospect record, the number in another spelling.
        {"id": 52, "name": "Ann B.", "email": "ab@x.example", "phone": "+47 971 55 337"},
        # A stranger whose number is one digit off.
        {"id": 53, "name": "Ola", "email": "ola@x.example", "phone": "971 55 338"},
        # Someone else's notes, naming her number as people write it.
        {
            "id": 54,
            "name": "Per",
            "email": "p@x.example",
            "phone": None,
            "notes": "Ring 97 15 53 37.",
        },
    ]
    return rows


def _search(
    datamap: DataMap, rows: dict[str, list[dict[str, Any]]], *pairs: tuple[str, str]
) -> SearchResult:
    store = MemoryStore(datamap, rows)
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    identities = [parse_identity(kind, value) for kind, value in pairs]
    return search_subject(graph, identities, connectors, country="NO")  # type: ignore[arg-type]


def _found(result: SearchResult, name: str) -> dict[object, MatchKind]:
    return {key: match for key, (_, match) in result.walk.records(name).items()}


def test_a_phone_stored_without_a_country_code_on_her_record_is_learned_and_searched(
    datamap: DataMap,
) -> None:
    result = _search(datamap, _rows(phone="971 55 337"), ("email", ANN))

    assert {ANN_PHONE} == result.walk.harvested()[IdentityKind.PHONE_NUMBER]
    assert {"971 55 337", "97 15 53 37", "+47 971 55 337", "0047 97155337"} <= result.walk.needles()
    assert {50: MatchKind.IDENTITY, 52: MatchKind.IDENTITY, 54: MatchKind.MENTION} == _found(
        result, "crm.prospects"
    )


def test_a_phone_given_in_e164_finds_her_record_storing_it_grouped(datamap: DataMap) -> None:
    result = _search(datamap, _rows(phone="971 55 337"), ("phone_number", ANN_PHONE))

    assert MatchKind.IDENTITY == _found(result, "crm.customers")[1]
    assert {ANN} <= result.walk.harvested()[IdentityKind.EMAIL]


def test_a_national_id_stored_with_a_space_is_found_by_the_eleven_digits(datamap: DataMap) -> None:
    result = _search(datamap, _rows(national_id="010170 12343"), ("national_id", "01017012343"))

    assert MatchKind.IDENTITY == _found(result, "crm.customers")[1]
    assert [] == result.walk.unreadable_values()


def test_values_on_her_record_that_cannot_be_read_are_noted_not_raised(datamap: DataMap) -> None:
    result = _search(datamap, _rows(phone="ring meg", national_id="010170 12345"), ("email", ANN))

    assert ["crm.customers 1 national_id", "crm.customers 1 phone"] == (
        result.walk.unreadable_values()
    )
    assert IdentityKind.PHONE_NUMBER not in result.walk.harvested()


def test_the_plan_lists_where_values_could_not_be_read(datamap: DataMap) -> None:
    result = _search(datamap, _rows(phone="ring meg"), ("email", ANN))
    graph = SubjectGraph.from_datamap(datamap)

    plan = build_plan(RequestType.ACCESS, graph, result.walk, datamap, TODAY)

    assert ("crm.customers 1 phone",) == plan.unreadable
    assert plan.unreadable == RequestPlan.from_json(plan.to_json()).unreadable


def test_a_connector_claiming_another_number_matched_is_not_believed(datamap: DataMap) -> None:
    result = _search(datamap, _rows(phone="971 55 337"), ("email", ANN))
    walk = result.walk
    node = walk.graph.node("crm.prospects")

    walk.absorb(node, 53, {"id": 53, "phone": "971 55 338"}, {"phone"})

    assert 53 not in _found(result, "crm.prospects")


def test_a_key_that_is_contact_details_is_masked_where_values_could_not_be_read() -> None:
    node = DatasetNode(
        system="mail",
        dataset="mailboxes",
        key_field="address",
        identities={"address": IdentityKind.EMAIL, "mobile": IdentityKind.PHONE_NUMBER},
        references={},
        free_text=(),
    )
    walk = SubjectWalk(SubjectGraph((node,)), (parse_identity("email", ANN),))
    walk.mark_asked(node, walk.pending(node))

    walk.absorb(node, ANN, {"address": ANN, "mobile": "ring meg"}, {"address"})

    assert ["mail.mailboxes a***@kunde.example mobile"] == walk.unreadable_values()
