"""The overview counts what real runs record: a wait for a system that is down, manual steps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.requests.statistics import SystemStrain
from personvern.intake.request_statistics import request_statistics
from personvern.settings import Settings
from personvern.store.base import utcnow
from tests.support.company import Company, _company, file_request


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    """The demo company in SQLite, of this module alone."""
    home = tmp_path_factory.mktemp("company")
    with _company("sqlite", f"sqlite:///{home / 'company.sqlite'}", home) as seeded:
        yield seeded


def test_a_wait_and_the_manual_steps_it_ends_in_are_counted_for_the_system(
    company: Company, settings: Settings
) -> None:
    engine = company.engine(settings)
    _customer_id, email, _phone = company.customers()[0]
    request_id = file_request(engine, RequestType.ERASURE, [{"kind": "email", "value": email}])
    variable = "PERSONVERN_DEMO_SUPPORT_URL"
    engine.environ = {
        **engine.environ,
        variable: f"sqlite:///{company.home / 'missing.sqlite'}",
    }
    assert RequestState.WAITING_FOR_SYSTEM == engine.run(request_id).state
    systems = [s.key for s in company.datamap.systems]
    with engine.unit_of_work() as uow:
        stats = request_statistics(uow.session, today=utcnow().date(), systems=systems)
    assert (SystemStrain("support", waited=1),) == stats.systems
    assert 1 == stats.received

    # The system's connection is taken away: the run leaves its part to people.
    engine.environ = {k: v for k, v in engine.environ.items() if k != variable}
    done = engine.run(request_id)
    assert RequestState.PARTIALLY_COMPLETED == done.state
    with engine.unit_of_work() as uow:
        stats = request_statistics(uow.session, today=utcnow().date(), systems=systems)
    assert (SystemStrain("support", waited=1, manual_steps=1),) == stats.systems
    # Partially completed is closed but not completed: no duration yet, nothing open.
    assert (0, 0) == (stats.completion.count, stats.open.total)
