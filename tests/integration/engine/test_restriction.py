"""Restriction (Art. 18) against the demo company, in SQLite, PostgreSQL and MariaDB.

Before, a restriction request wrote a flag in personvern's own store, changed nothing
in any system and reported ``completed``. Now it sets ``crm.customers.restricted_at``
(the field the data map declares) on the subject's record and nowhere else, lists
every dataset without such a field as a manual step, and ends ``partially_completed``
until people have done those steps and told the recipients (Art. 19).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from personvern.demo import ground_truth, schema
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.intake.tasks import mark_task_done
from personvern.settings import Settings
from tests.support.company import Company, file_request


def _everything(company: Company) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Every row of every demo table, by "system.dataset" and primary key."""
    rows: dict[str, dict[str, tuple[Any, ...]]] = {}
    for name, table in schema.TABLES.items():
        engine = sa.create_engine(company.targets.url(name.split(".", 1)[0]))
        pk = next(iter(table.primary_key.columns))
        try:
            with engine.connect() as conn:
                rows[name] = {
                    str(row._mapping[pk.name]): tuple(row) for row in conn.execute(table.select())
                }
        finally:
            engine.dispose()
    return rows


def _restricted_at(company: Company) -> dict[int, datetime | None]:
    engine = sa.create_engine(company.targets.url("crm"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.customers.c.id, schema.customers.c.restricted_at))
            return {row.id: row.restricted_at for row in rows}
    finally:
        engine.dispose()


def _customer_with_records_elsewhere(company: Company, skip: int = 0) -> tuple[int, str]:
    """A customer with invoices and newsletter subscriptions as well as the customer record."""
    found = [
        (customer_id, str(email))
        for customer_id, email, _phone in company.customers()[:30]
        if (truth := ground_truth(company.targets, customer_id))["billing.invoices"]
        and truth["marketing.newsletter_subscriptions"]
    ]
    return found[skip]


def test_a_restriction_sets_restricted_at_on_exactly_the_subjects_record(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    customer_id, email = _customer_with_records_elsewhere(company)
    before = _everything(company)
    assert {None} == set(_restricted_at(company).values())

    started = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    request_id = file_request(engine, RequestType.RESTRICTION, [{"kind": "email", "value": email}])
    outcome = engine.run(request_id)

    after = _restricted_at(company)
    restricted = {cid: at for cid, at in after.items() if at is not None}
    assert [customer_id] == list(restricted)
    assert started <= restricted[customer_id] <= started + timedelta(minutes=5)
    # Nothing else changed anywhere: no other column, no other row, no other table.
    changed = _everything(company)
    column = list(schema.customers.columns.keys()).index("restricted_at")
    row = list(changed["crm.customers"][str(customer_id)])
    row[column] = None
    changed["crm.customers"][str(customer_id)] = tuple(row)
    assert before == changed

    assert RequestState.PARTIALLY_COMPLETED == outcome.state
    with engine.unit_of_work() as uow:
        receipt = uow.requests.get(request_id).receipt
    assert receipt is not None
    assert {"crm.customers": {"records": 1, "field": "restricted_at"}} == receipt["restricted"]
    assert {"restricted": 1, "field": "restricted_at"} == receipt["outcomes"]["crm.customers"]

    # A second request finds the record restricted already and keeps its first time.
    again = file_request(engine, RequestType.RESTRICTION, [{"kind": "email", "value": email}])
    plan = engine.dry_run(again)
    customers = plan.dataset("crm.customers")
    assert customers is not None
    assert () == customers.restrict
    engine.run(again)
    assert restricted == {cid: at for cid, at in _restricted_at(company).items() if at}


def test_datasets_without_a_restriction_field_are_manual_steps_until_done(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    customer_id, email = _customer_with_records_elsewhere(company, skip=1)
    truth = ground_truth(company.targets, customer_id)
    request_id = file_request(engine, RequestType.RESTRICTION, [{"kind": "email", "value": email}])
    outcome = engine.run(request_id)
    assert outcome.plan is not None
    assert RequestState.PARTIALLY_COMPLETED == outcome.state

    with engine.unit_of_work() as uow:
        repo = uow.requests
        tasks = [(t.id, t.kind, t.key, t.status, t.description) for t in repo.tasks(request_id)]
        receipt = repo.get(request_id).receipt
        last = repo.events(request_id)[-1]
    manual = {key: description for _, kind, key, _, description in tasks if kind == "manual_step"}
    # Every dataset holding the subject's own records, other than the declared one.
    own = {part.name for part in outcome.plan.datasets if part.restrict}
    assert own - {"crm.customers"} == set(manual)
    assert {"billing.invoices", "marketing.newsletter_subscriptions"} <= set(manual)
    invoices = len(truth["billing.invoices"])
    noun = "record" if invoices == 1 else "records"
    assert (
        f"restrict {invoices} {noun} in Billing (billing), dataset invoices, by hand: "
        "the data map declares no restriction field there"
    ) == manual["billing.invoices"]
    # The recipients that received the data are to be told (Art. 19).
    assert "notify_recipient" in {kind for _, kind, _, _, _ in tasks}
    assert {"open"} == {status for _, _, _, status, _ in tasks}
    # The last event lists every open task, with the number `request done` takes.
    assert ("partially_completed", f"{len(tasks)} tasks to do: ") == (
        last.state,
        last.message.split("; ", 1)[1][: len(f"{len(tasks)} tasks to do: ")],
    )
    assert all(f"#{task_id} {description}" in last.message for task_id, *_, description in tasks)
    assert receipt is not None
    assert sorted(manual) == sorted(step["key"] for step in receipt["manual_steps"])

    # Marking each task done completes the request with the last one, and says who.
    for task_id, *_ in tasks:
        with engine.unit_of_work() as uow:
            mark_task_done(uow.session, request_id, task_id, "done by hand", actor="cli:kari")
    with engine.unit_of_work() as uow:
        repo = uow.requests
        request = repo.get(request_id)
        assert (RequestState.COMPLETED.value, {"cli:kari"}) == (
            request.state,
            {t.done_by for t in repo.tasks(request_id)},
        )
        assert ("completed", "all tasks done") == (
            repo.events(request_id)[-1].state,
            repo.events(request_id)[-1].message,
        )
