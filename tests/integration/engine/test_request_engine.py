"""Requests run by the engine against the demo company, checked against the ground truth.

The ground truth (personvern.demo.ground_truth) finds a customer's records with plain
SQL written for the demo's schema; the engine finds them by walking the data map. The
two must agree on every dataset, in SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from personvern.demo import ground_truth, schema
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.requests.request_plan import PLAN_VERSION, RequestPlan
from personvern.engine.runner import RequestEngine
from personvern.settings import Settings
from tests.support.company import Company, file_request


def _richest_customer(company: Company) -> tuple[int, str, dict[str, list[Any]]]:
    """The customer with records in the most datasets (recent and old invoices included)."""
    best: tuple[int, int, str, dict[str, list[Any]]] | None = None
    for customer_id, email, _phone in company.customers()[:25]:
        truth = ground_truth(company.targets, customer_id)
        score = sum(1 for keys in truth.values() if keys)
        if best is None or score > best[0]:
            best = (score, customer_id, email, truth)
    assert best is not None
    return best[1], best[2], best[3]


def _keys(plan: RequestPlan, name: str, attribute: str = "export") -> set[str]:
    part = plan.dataset(name)
    return {str(key) for key in getattr(part, attribute)} if part else set()


def _rows(company: Company, name: str, keys: set[str]) -> dict[str, dict[str, Any]]:
    table = schema.TABLES[name]
    pk = next(iter(table.primary_key.columns))
    engine = sa.create_engine(company.targets.url(name.split(".", maxsplit=1)[0]))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(table).where(pk.in_([int(k) for k in keys])))
            return {str(row._mapping[pk.name]): dict(row._mapping) for row in rows}
    finally:
        engine.dispose()


def _counts(company: Company) -> dict[str, int]:
    counts = {}
    for name, table in schema.TABLES.items():
        engine = sa.create_engine(company.targets.url(name.split(".")[0]))
        try:
            with engine.connect() as conn:
                counts[name] = conn.execute(
                    sa.select(sa.func.count()).select_from(table)
                ).scalar_one()
        finally:
            engine.dispose()
    return counts


def test_access_finds_exactly_the_ground_truth(company: Company, settings: Settings) -> None:
    engine = company.engine(settings)
    for customer_id, email, _phone in company.customers()[:6]:
        truth = ground_truth(company.targets, customer_id)
        request_id = file_request(
            engine, RequestType.ACCESS, [{"kind": "email", "value": email.upper()}]
        )
        plan = engine.dry_run(request_id)
        for name, keys in truth.items():
            assert {str(k) for k in keys} == _keys(plan, name), f"{name} of customer {customer_id}"
        assert {} == plan.unavailable


def test_access_run_delivers_and_completes(company: Company, settings: Settings) -> None:
    engine = company.engine(settings)
    _customer_id, email, _truth = _richest_customer(company)
    request_id = file_request(engine, RequestType.ACCESS, [{"kind": "email", "value": email}])
    outcome = engine.run(request_id)
    assert RequestState.COMPLETED == outcome.state
    with engine.unit_of_work() as uow:
        repo = uow.requests
        request = repo.get(request_id)
        assert request.receipt is not None
        assert request.receipt["found"]["crm.customers"] == 1
        names = {artifact.name for artifact in repo.artifacts(request_id)}
    assert "export.zip" in names
    assert "access-report.html" in names


def test_the_pdf_report_is_made_after_the_run_not_during_it(
    company: Company, settings: Settings
) -> None:
    # The run is what the subject waits for; the PDF edition (most of an access run's
    # time) is left for the job runner to make once the request has completed.
    engine = company.engine(settings)
    _customer_id, email, _truth = _richest_customer(company)
    request_id = file_request(engine, RequestType.ACCESS, [{"kind": "email", "value": email}])
    assert RequestState.COMPLETED == engine.run(request_id).state

    def files() -> set[str]:
        with engine.unit_of_work() as uow:
            return {a.name for a in uow.requests.artifacts(request_id)}

    assert {"access-report.html", "export.zip"} <= files()
    assert "access-report.pdf" not in files()
    assert engine.deliver_report_pdf(request_id)
    assert "access-report.pdf" in files()
    with engine.unit_of_work() as uow:
        receipt = uow.requests.get(request_id).receipt or {}
    assert "access-report.pdf" in {item["name"] for item in receipt["sent"]}
    assert not engine.deliver_report_pdf(request_id), "made once"


def test_an_unknown_subject_gets_a_proper_answer(company: Company, settings: Settings) -> None:
    engine = company.engine(settings)
    request_id = file_request(
        engine, RequestType.ACCESS, [{"kind": "email", "value": "nobody@nowhere.example"}]
    )
    outcome = engine.run(request_id)
    assert outcome.plan is not None
    assert outcome.plan.found_nothing
    assert "no data about the subject" in outcome.message


def test_identities_of_two_customers_stop_for_review(company: Company, settings: Settings) -> None:
    engine = company.engine(settings)
    (_first, email, _), (second, _, _) = company.customers()[:2]
    request_id = file_request(
        engine,
        RequestType.ERASURE,
        [{"kind": "email", "value": email}, {"kind": "customer_id", "value": str(second)}],
    )
    before = _counts(company)
    outcome = engine.run(request_id)
    assert RequestState.NEEDS_REVIEW == outcome.state
    assert before == _counts(company)


def test_erasure_erases_the_plan_keeps_what_the_law_holds_and_touches_nothing_else(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    customer_id, email, truth = _richest_customer(company)
    request_id = file_request(engine, RequestType.ERASURE, [{"kind": "email", "value": email}])
    plan = engine.dry_run(request_id)
    before = _counts(company)
    outcome = engine.run(request_id)
    # Everything personvern can do is done; telling the recipients (Art. 19) is left open.
    assert RequestState.PARTIALLY_COMPLETED == outcome.state
    assert outcome.plan is not None
    assert plan.to_json()["datasets"] == outcome.plan.to_json()["datasets"]

    after = _counts(company)
    for name, table_count in before.items():
        deleted = len(_keys(plan, name, "delete"))
        assert table_count - deleted == after[name], name
        if truth.get(name):
            assert not _rows(company, name, _keys(plan, name, "delete")), name
            kept = _keys(plan, name, "keep")
            assert kept == set(_rows(company, name, kept)), name

    # Invoices under the bookkeeping hold are kept, and the receipt says why.
    with engine.unit_of_work() as uow:
        receipt = uow.requests.get(request_id).receipt
    assert receipt is not None
    if _keys(plan, "billing.invoices", "keep"):
        assert "bokføringsloven § 13" == receipt["kept"]["billing.invoices"]["reason"]
    # Art. 19: a task per recipient that got the data, e.g. the debt collector; every
    # system was reached, so nothing else is left to do by hand.
    tasks = {task["recipient"]: task for task in receipt["notify_recipients"]}
    assert ("open", "erasure") == (
        tasks["collection-agency"]["status"],
        tasks["collection-agency"]["tell"],
    )
    assert [] == receipt["manual_steps"]
    with engine.unit_of_work() as uow:
        stored = uow.requests.tasks(request_id)
        assert sorted(tasks) == sorted(t.key for t in stored)
        assert {"notify_recipient"} == {t.kind for t in stored}
        assert {t.id for t in stored} == {task["task"] for task in tasks.values()}

    # The customer record stays for its company name, emptied of the person.
    customer = _rows(company, "crm.customers", {str(customer_id)})[str(customer_id)]
    assert customer["company_name"]
    assert customer["contact_name"] != ""
    assert email != customer["email"]
    assert customer["national_id"] is None

    # Mentions in others' tickets are redacted, the tickets themselves stay.
    for key, ticket in _rows(
        company, "support.tickets", _keys(plan, "support.tickets", "redact")
    ).items():
        text = f"{ticket['subject']} {ticket['body']}".casefold()
        assert not any(needle in text for needle in plan.needles), key

    # A second erasure request finds nothing left to erase.
    again = file_request(engine, RequestType.ERASURE, [{"kind": "email", "value": email}])
    second = engine.dry_run(again)
    assert not any(part.delete or part.redact for part in second.datasets)


def test_a_mailed_code_proves_the_address_and_nothing_else(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    _customer_id, _email, phone = next(row for row in company.customers() if row[2])
    identities = [
        {"kind": "email", "value": "someone.else@elsewhere.example"},
        {"kind": "phone_number", "value": phone},
    ]
    by_code = file_request(engine, RequestType.ACCESS, identities, verification_method="email_code")
    assert engine.dry_run(by_code).found_nothing
    # Staff who checked the caller's identity may search by the phone number.
    by_staff = file_request(engine, RequestType.ACCESS, identities)
    assert not engine.dry_run(by_staff).found_nothing


def test_a_system_that_is_down_makes_the_request_wait_and_the_retry_completes_it(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    _customer_id, email, _truth = _richest_customer(company)
    request_id = file_request(engine, RequestType.ERASURE, [{"kind": "email", "value": email}])
    before = _counts(company)
    variable = "PERSONVERN_DEMO_SUPPORT_URL"
    working = engine.environ[variable]
    # Nothing listens on port 1; a SQLite file that does not exist is "down" just the same.
    down = (
        f"sqlite:///{company.home / 'missing.sqlite'}"
        if company.kind == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    )
    engine.environ = {**engine.environ, variable: down}
    waiting = engine.run(request_id)
    assert RequestState.WAITING_FOR_SYSTEM == waiting.state
    assert "support" in waiting.message
    with engine.unit_of_work() as uow:
        request = uow.requests.get(request_id)
        assert RequestState.WAITING_FOR_SYSTEM.value == request.state
        assert request.last_error is not None
        assert request.next_attempt_at is not None
        # The deadline is not moved by waiting: the clock keeps running.
        deadline = request.deadline
    assert before == _counts(company)

    engine.environ = {**engine.environ, variable: working}
    done = engine.run(request_id)
    # Done in every system; the recipients still have to be told (Art. 19 tasks).
    assert RequestState.PARTIALLY_COMPLETED == done.state
    assert "tasks to do: " in done.message
    with engine.unit_of_work() as uow:
        request = uow.requests.get(request_id)
        assert deadline == request.deadline
        assert request.last_error is None
        assert 2 == request.attempts


def _store_plan_of_version(engine: RequestEngine, request_id: str, version: int) -> None:
    """Store the request's plan as another personvern version would have written it."""
    plan = engine.dry_run(request_id)
    with engine.unit_of_work() as uow:
        repo = uow.requests
        repo.save_plan(repo.get(request_id), {**plan.to_json(), "version": version})


def test_a_plan_of_an_unknown_version_with_nothing_done_is_planned_afresh(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    _customer_id, email, _phone = company.customers()[-1]
    request_id = file_request(engine, RequestType.ERASURE, [{"kind": "email", "value": email}])
    _store_plan_of_version(engine, request_id, PLAN_VERSION + 1)

    outcome = engine.run(request_id)

    assert not outcome.state.is_open
    assert RequestState.REJECTED != outcome.state
    with engine.unit_of_work() as uow:
        repo = uow.requests
        assert PLAN_VERSION == (repo.get(request_id).plan or {})["version"]
        assert any("planned afresh" in event.message for event in repo.events(request_id))


def test_a_plan_of_an_unknown_version_partly_carried_out_stops_for_review(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    _customer_id, email, _phone = company.customers()[-2]
    request_id = file_request(engine, RequestType.ERASURE, [{"kind": "email", "value": email}])
    _store_plan_of_version(engine, request_id, PLAN_VERSION + 1)
    with engine.unit_of_work() as uow:
        uow.requests.record_step(request_id, "erase:crm", {})
    before = _counts(company)

    outcome = engine.run(request_id)

    assert RequestState.NEEDS_REVIEW == outcome.state
    assert f"version {PLAN_VERSION + 1}" in outcome.message
    assert before == _counts(company)
