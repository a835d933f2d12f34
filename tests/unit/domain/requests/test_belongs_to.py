"""Persons who belong to another: a business customer's designated employees (belongs_to)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import BelongsTo, DataMap
from personvern.domain.requests.belongs_to import partly_shown, shown_to_owner
from personvern.domain.requests.handlers.erasure import ABOUT_ANOTHER_PERSON
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.request_plan import RequestPlan, build_plan
from personvern.domain.requests.subject_graph import SubjectGraph, SubjectWalk
from personvern.engine.search import search_subject
from tests.unit.domain.requests.company_rows import ANN, TODAY, company_rows
from tests.unit.domain.requests.memory_store import MemoryConnector, MemoryStore

EVA = "eva@kunde.example"
EVA_PHONE = "+4791111222"


@pytest.fixture(scope="module")
def example() -> DataMap:
    """The example company's data map: employees belong to the customer, not erased with it."""
    root = Path(__file__).resolve().parents[4] / "examples" / "workspace-company"
    return load_datamap(root).datamap


def _belonging(datamap: DataMap, **belongs: Any) -> DataMap:
    """``datamap`` with crm.designated_employees declaring ``belongs_to`` as given."""
    systems = []
    for system in datamap.systems:
        datasets = [
            dataset.model_copy(update={"belongs_to": BelongsTo(field="customer_id", **belongs)})
            if (system.key, dataset.name) == ("crm", "designated_employees")
            else dataset
            for dataset in system.datasets
        ]
        systems.append(system.model_copy(update={"datasets": datasets}))
    return datamap.model_copy(update={"systems": systems})


def _walk(
    datamap: DataMap,
    *pairs: tuple[str, str],
    rows: dict[str, list[dict[str, Any]]] | None = None,
) -> tuple[SubjectGraph, SubjectWalk]:
    store = MemoryStore(datamap, rows or company_rows())
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    identities = [parse_identity(kind, value) for kind, value in pairs]
    result = search_subject(graph, identities, connectors)  # type: ignore[arg-type]
    return graph, result.walk


def _plan(datamap: DataMap, request_type: RequestType, *pairs: tuple[str, str]) -> RequestPlan:
    graph, walk = _walk(datamap, *pairs)
    return build_plan(request_type, graph, walk, datamap, TODAY)


def _parts(plan: RequestPlan, name: str) -> tuple[tuple[Any, ...], ...]:
    part = plan.dataset(name)
    assert part is not None
    return part.delete, part.erase_fields, part.keep


def test_erasing_the_customer_takes_the_contacts_erased_with_it(example: DataMap) -> None:
    datamap = _belonging(example, erased_with_it=True)

    plan = _plan(datamap, RequestType.ERASURE, ("email", ANN))

    # Eva is deleted with Ann's customer record, and so is her security card.
    assert ((10,), (), ()) == _parts(plan, "crm.designated_employees")
    assert ((7,), (), ()) == _parts(plan, "access_control.security_cards")
    employees = plan.dataset("crm.designated_employees")
    assert employees is not None
    assert employees.keep_reason is None
    # The customer's own record is erased, not protected by a kept contact.
    assert ((), (1,), ()) == _parts(plan, "crm.customers")


def test_without_erased_with_it_the_contacts_stay_as_another_persons(example: DataMap) -> None:
    plan = _plan(example, RequestType.ERASURE, ("email", ANN))

    assert ((), (), (10,)) == _parts(plan, "crm.designated_employees")
    assert ((), (), (7,)) == _parts(plan, "access_control.security_cards")
    employees = plan.dataset("crm.designated_employees")
    assert employees is not None
    assert ABOUT_ANOTHER_PERSON == employees.keep_reason


def test_erased_with_it_is_about_erasure_only(example: DataMap) -> None:
    datamap = _belonging(example, erased_with_it=True)

    restriction = _plan(datamap, RequestType.RESTRICTION, ("email", ANN))
    rectification = _plan(datamap, RequestType.RECTIFICATION, ("email", ANN))

    # Restricting or correcting Ann's data is not restricting or correcting Eva's.
    employees = restriction.dataset("crm.designated_employees")
    assert employees is not None
    assert () == employees.restrict
    employees = rectification.dataset("crm.designated_employees")
    assert employees is not None
    assert () == employees.rectify


def test_the_customer_sees_of_its_contacts_only_what_shown_to_it(example: DataMap) -> None:
    _graph, walk = _walk(example, ("email", ANN))

    shown = partly_shown(example, walk)

    assert {
        "crm.designated_employees": {10: frozenset({"id", "customer_id", "name", "job_title"})},
        # Eva's card shows Ann its number in the register and whose it is, nothing of Eva.
        "access_control.security_cards": {7: frozenset({"id", "customer_id", "employee_id"})},
    } == shown


def test_by_default_the_customer_sees_names_and_job_titles(example: DataMap) -> None:
    datamap = _belonging(example)
    employees = next(
        d for s in datamap.systems for d in s.datasets if d.name == "designated_employees"
    )

    assert frozenset({"id", "customer_id", "name", "job_title"}) == shown_to_owner(employees)


def test_shown_to_it_says_exactly_what_is_shown(example: DataMap) -> None:
    datamap = _belonging(example, shown_to_it=["name"])
    _graph, walk = _walk(datamap, ("email", ANN))

    shown = partly_shown(datamap, walk)

    assert {10: frozenset({"id", "customer_id", "name"})} == shown["crm.designated_employees"]


def test_a_contacts_own_request_finds_everything_about_them(example: DataMap) -> None:
    datamap = _belonging(example, erased_with_it=True)
    _graph, walk = _walk(datamap, ("email", EVA))

    assert {} == partly_shown(datamap, walk)
    plan = _plan(datamap, RequestType.ERASURE, ("email", EVA))
    assert ((10,), (), ()) == _parts(plan, "crm.designated_employees")
    # Nothing of Ann's goes with her employee.
    assert plan.dataset("crm.customers") is None


def _employee_calls(rows: dict[str, list[dict[str, Any]]]) -> None:
    rows["crm.designated_employees"][0]["phone"] = EVA_PHONE
    rows["telephony.call_recordings"].append(
        {"call_id": "call-eva", "customer_id": 1, "phone_number": EVA_PHONE}
    )


def test_an_employees_own_call_under_the_firms_number_is_theirs(example: DataMap) -> None:
    rows = company_rows()
    _employee_calls(rows)

    _graph, walk = _walk(example, ("email", EVA), rows=rows)

    # Found by the phone on Eva's own record, filed under the customer she belongs to.
    assert {"call-eva"} == set(walk.records("telephony.call_recordings"))


def test_a_phone_typed_into_ones_own_record_reaches_no_other_customers_calls(
    example: DataMap,
) -> None:
    rows = company_rows()
    _employee_calls(rows)
    rows["crm.prospects"].append(
        {"id": 60, "name": "M", "email": "mallory@evil.example", "phone": EVA_PHONE, "notes": None}
    )

    _graph, walk = _walk(example, ("email", "mallory@evil.example"), rows=rows)

    # Mallory's record names Eva's phone, but not the customer Eva's call is filed under.
    assert {} == walk.records("telephony.call_recordings")


def _customers_deleted(datamap: DataMap) -> DataMap:
    """``datamap`` with crm.customers naming no erasure strategy: its rows are deleted."""
    systems = []
    for system in datamap.systems:
        datasets = [
            dataset.model_copy(
                update={"fields": [f.model_copy(update={"erasure": None}) for f in dataset.fields]}
            )
            if (system.key, dataset.name) == ("crm", "customers")
            else dataset
            for dataset in system.datasets
        ]
        systems.append(system.model_copy(update={"datasets": datasets}))
    return datamap.model_copy(update={"systems": systems})


def test_a_contact_kept_as_another_persons_keeps_the_customer_row_but_not_its_data(
    example: DataMap,
) -> None:
    datamap = _customers_deleted(example)

    plan = _plan(datamap, RequestType.ERASURE, ("email", ANN))

    # Eva stays, and her row needs Ann's to exist: the row stays, Ann's data in it goes.
    assert ((), (), (10,)) == _parts(plan, "crm.designated_employees")
    assert ((), (1,), ()) == _parts(plan, "crm.customers")
    customers = plan.dataset("crm.customers")
    assert customers is not None
    assert {"contact_name", "email", "phone", "national_id", "address"} <= set(customers.strategies)
    assert customers.keep_reason is None


def test_with_erased_with_it_a_deleted_customer_is_deleted(example: DataMap) -> None:
    datamap = _belonging(_customers_deleted(example), erased_with_it=True)

    plan = _plan(datamap, RequestType.ERASURE, ("email", ANN))

    assert ((10,), (), ()) == _parts(plan, "crm.designated_employees")
    assert ((1,), (), ()) == _parts(plan, "crm.customers")
