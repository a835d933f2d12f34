"""The walk finds an address's records and never a lookalike's, even over a loose store.

The memory store compares e-mail with Unicode case folding, as a careless system (or a
collation) would: it answers "eivind.nilſen@..." with "eivind.nilsen@..."'s rows. The
walk must not take them as the subject's. (Mentions in free text are confirmed by each
connector with mention_pattern; the connectors' tests check that on real stores.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap, IdentityKind
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.subject_graph import SubjectGraph, SubjectWalk
from personvern.engine.search import SearchResult, search_subject
from tests.unit.domain.requests.memory_store import MemoryConnector, MemoryStore

NILSEN = "eivind.nilsen@example.no"
NILSEN_LONG_S = "eivind.nil\u017fen@example.no"


@pytest.fixture(scope="module")
def datamap() -> DataMap:
    """The example company's data map."""
    root = Path(__file__).resolve().parents[4] / "examples" / "workspace-company"
    return load_datamap(root).datamap


def _rows() -> dict[str, list[dict[str, Any]]]:
    def customer(key: int, email: str, phone: str) -> dict[str, Any]:
        return {
            "id": key,
            "company_name": f"Firma {key}",
            "contact_name": "Eivind Nilsen",
            "email": email,
            "phone": phone,
            "national_id": None,
            "address": None,
        }

    return {
        "crm.customers": [
            customer(1, NILSEN, "+4791111111"),
            customer(2, NILSEN_LONG_S, "+4792222222"),
        ],
        "billing.invoices": [
            {"id": 100, "customer_id": 1, "billing_email": NILSEN, "billing_name": "E N"},
            {"id": 200, "customer_id": 2, "billing_email": NILSEN_LONG_S, "billing_name": "E N"},
        ],
    }


def _search(datamap: DataMap, email: str) -> SearchResult:
    store = MemoryStore(datamap, _rows())
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    return search_subject(graph, [parse_identity("email", email)], connectors)  # type: ignore[arg-type]


def _keys(walk: SubjectWalk) -> dict[str, set[Any]]:
    return {name: set(found) for name, found in walk.found.items() if found}


@pytest.mark.parametrize(
    ("email", "own"),
    [
        (NILSEN_LONG_S, {"crm.customers": {2}, "billing.invoices": {200}}),
        (NILSEN, {"crm.customers": {1}, "billing.invoices": {100}}),
    ],
)
def test_a_lookalike_address_finds_only_its_own_records(
    datamap: DataMap, email: str, own: dict[str, set[Any]]
) -> None:
    result = _search(datamap, email)

    assert own == _keys(result.walk)
    assert [] == result.walk.conflicts()
    assert {parse_identity("email", email).value} == result.walk.harvested()[
        parse_identity("email", email).kind
    ]


def test_needles_keep_letters_outside_ascii_as_written() -> None:
    walk = SubjectWalk(SubjectGraph(()), (parse_identity("email", "Ørjan@Example.NO"),))
    assert {"Ørjan@example.no"} == walk.needles()


def test_a_stored_spelling_is_the_subject_only_in_canonical_form(datamap: DataMap) -> None:
    kari = parse_identity("email", "kari@example.no")
    walk = SubjectWalk(SubjectGraph.from_datamap(datamap), (kari,))
    node = walk.graph.node("crm.customers")
    walk.mark_asked(node, walk.pending(node))
    shouted = {"id": 7, "email": "KARI@Example.NO", "phone": "+4791111111"}
    fullwidth = {"id": 8, "email": "\uff4bari@example.no", "phone": "+4792222222"}

    walk.absorb(node, 7, shouted, {"email"})
    walk.absorb(node, 8, fullwidth, {"email"})

    assert {7} == set(walk.records("crm.customers"))
    assert {"+4791111111"} == walk.harvested()[IdentityKind.PHONE_NUMBER]
    assert [] == walk.conflicts()
