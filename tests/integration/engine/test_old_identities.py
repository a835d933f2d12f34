"""A request filed under older identity rules stops for review instead of failing every run.

Intake now refuses addresses over the RFC 5321 limits and identities with control
characters; a request stored before that still holds them, and the engine checks
identities again at each run.
"""

from __future__ import annotations

from datetime import date

import pytest

from personvern.datamap.loader import load_datamap
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.company import file_request


@pytest.mark.parametrize(
    ("identity", "why"),
    [
        (
            {"kind": "email", "value": "ø" * 40 + "@example.no"},
            "the part before @ is longer than 64 characters",
        ),
        (
            {"kind": "email", "value": "kari\x1b[2J@example.no"},
            "the e-mail address contains an ESC (escape) character, which is not allowed",
        ),
    ],
)
def test_an_identity_that_fails_todays_checks_stops_the_run_for_review(
    settings: Settings, identity: dict[str, str], why: str
) -> None:
    store = make_engine(settings)
    upgrade_to_head(store)
    engine = RequestEngine(
        settings=settings,
        datamap=load_datamap(EXAMPLE_DATAMAP).datamap,
        unit_of_work=unit_of_work_factory(make_session_factory(store)),
        environ={},
        today=lambda: date(2026, 11, 25),
    )
    request_id = file_request(engine, RequestType.ACCESS, [identity])

    outcome = engine.run(request_id)

    message = f"an identity of the request fails today's checks: {why}"
    assert (RequestState.NEEDS_REVIEW, message) == (outcome.state, outcome.message)
    with engine.unit_of_work() as uow:
        assert message == uow.requests.get(request_id).last_error
