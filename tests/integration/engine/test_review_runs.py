"""Runs after a review: the decisions apply, and records nobody decided on stop it again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from personvern.demo import schema
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.intake.review import resolve_review
from personvern.settings import Settings
from tests.support.company import Company, _company, file_request

#: Columns the demo's customers table requires beyond these tests' concern.
REQUIRED = {"country": "NO"} if "country" in schema.customers.c else {}


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    """The demo company in SQLite, of this module alone (a test adds a customer)."""
    home = tmp_path_factory.mktemp("company")
    with _company("sqlite", f"sqlite:///{home / 'company.sqlite'}", home) as seeded:
        yield seeded


def test_a_run_after_review_uses_the_decisions_and_stops_again_for_new_records(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    (first, email, _), (second, _, _) = company.customers()[:2]
    request_id = file_request(
        engine,
        RequestType.ACCESS,
        [{"kind": "email", "value": email}, {"kind": "customer_id", "value": str(second)}],
    )
    stopped = engine.run(request_id)
    assert RequestState.NEEDS_REVIEW == stopped.state
    assert stopped.plan is not None
    candidates = [f"{d}:{k}" for d, keys in stopped.plan.candidates.items() for k in keys]
    mine = f"crm.customers:{first}"
    with engine.unit_of_work() as uow:
        resolve_review(
            uow.session,
            settings,
            request_id,
            attach=[mine],
            exclude=[c for c in candidates if c != mine],
            reason="the customer number was a typo",
            actor="dpo",
            now=datetime.now(UTC),
        )
    # Before the run, someone registers another customer with the same address.
    crm = sa.create_engine(company.targets.url("crm"))
    try:
        with crm.begin() as conn:
            newcomer = conn.execute(sa.select(sa.func.max(schema.customers.c.id))).scalar_one() + 1
            conn.execute(
                schema.customers.insert().values(
                    id=newcomer,
                    company_name="Nabo AS",
                    contact_name="Someone Else",
                    # The same address in capitals (the column is unique as written).
                    email=email.upper(),
                    preferred_language="nb",
                    contract_start=datetime(2026, 11, 1).date(),
                    created_at=datetime(2026, 11, 1, 9, 0),
                    **REQUIRED,
                )
            )
    finally:
        crm.dispose()

    again = engine.run(request_id)

    assert RequestState.NEEDS_REVIEW == again.state, again.message
    assert again.plan is not None
    assert {"crm.customers": (str(newcomer),)} == {
        d: k for d, k in again.plan.candidates.items() if d == "crm.customers"
    }
    with engine.unit_of_work() as uow:
        events = [e.message for e in uow.requests.events(request_id)]
    assert f"review: {mine} attached to the subject (the customer number was a typo)" in events
