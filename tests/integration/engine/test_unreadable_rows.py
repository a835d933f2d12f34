"""A subject's row that cannot be read stops the request for review; it is not an outage.

Before, a row the driver could not decode made the request wait as "cannot be
reached" and retry forever. Now the request ends in needs_review, and its last error
names the system, the table and the row's key (never the row's values), so a person
can fix the row and send the request back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.datamap.loader import load_datamap
from personvern.demo import schema
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.requests.review import ReviewError
from personvern.engine.runner import RequestEngine
from personvern.intake.review import resolve_review
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.company import file_request
from tests.support.undecodable import spoil, undecodable_database, unreadable_because

#: Columns the demo's customers table requires beyond these tests' concern (it grows).
REQUIRED = {"country": "NO"} if "country" in schema.customers.c else {}

KARI = "kari.nordmann@example.no"
WHEN = datetime(2026, 3, 1, 9, 30)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def crm_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The CRM with two customers, in a database that can hold undecodable text."""
    with undecodable_database(str(request.param), tmp_path) as url:
        engine = sa.create_engine(url)
        try:
            schema.crm.create_all(engine)
            with engine.begin() as conn:
                conn.execute(
                    schema.customers.insert(),
                    [
                        {
                            "id": key,
                            "company_name": f"Firma {key} AS",
                            "contact_name": name,
                            "email": email,
                            "preferred_language": "nb",
                            **REQUIRED,
                            "contract_start": WHEN.date(),
                            "created_at": WHEN,
                        }
                        for key, name, email in [
                            (7, "Kari Nordmann", KARI),
                            (8, "Ola Hansen", "ola@example.no"),
                        ]
                    ],
                )
        finally:
            engine.dispose()
        yield url


def _engine(settings: Settings, crm_url: str) -> RequestEngine:
    store = make_engine(settings)
    upgrade_to_head(store)
    return RequestEngine(
        settings=settings,
        datamap=load_datamap(EXAMPLE_DATAMAP).datamap,
        unit_of_work=unit_of_work_factory(make_session_factory(store)),
        # Only the CRM is connected; the other systems are listed as not connected.
        environ={"PERSONVERN_DEMO_CRM_URL": crm_url},
        today=lambda: date(2026, 11, 25),
    )


def test_an_unreadable_row_of_the_subject_stops_the_request_for_review(
    settings: Settings, crm_url: str
) -> None:
    spoil(crm_url, "customers", "contact_name", "id", 7, "Kari Nordm")
    engine = _engine(settings, crm_url)
    request_id = file_request(engine, RequestType.ACCESS, [{"kind": "email", "value": KARI}])

    outcome = engine.run(request_id)

    expected = (
        f"crm.customers: the record with key 7 cannot be read ({unreadable_because(crm_url)}); "
        "fix or remove the record, then run the request again"
    )
    assert (RequestState.NEEDS_REVIEW, expected) == (outcome.state, outcome.message)
    with engine.unit_of_work() as uow:
        request = uow.requests.get(request_id)
        # Stopped, not scheduled to try again: retrying would read the same bytes.
        assert ("needs_review", expected, None, 1) == (
            request.state,
            request.last_error,
            request.next_attempt_at,
            request.attempts,
        )
    assert "Kari" not in expected


def test_another_subjects_request_is_not_held_up_by_the_bad_row(
    settings: Settings, crm_url: str
) -> None:
    spoil(crm_url, "customers", "contact_name", "id", 7, "Kari Nordm")
    engine = _engine(settings, crm_url)
    request_id = file_request(
        engine, RequestType.ACCESS, [{"kind": "email", "value": "ola@example.no"}]
    )

    outcome = engine.run(request_id)

    assert RequestState.PARTIALLY_COMPLETED == outcome.state, outcome.message
    assert outcome.plan is not None
    part = outcome.plan.dataset("crm.customers")
    assert part is not None
    assert (8,) == tuple(part.export)


def test_an_unreadable_row_excluded_in_review_is_left_out_and_checked_by_hand(
    settings: Settings, crm_url: str
) -> None:
    spoil(crm_url, "customers", "contact_name", "id", 7, "Kari Nordm")
    engine = _engine(settings, crm_url)
    request_id = file_request(engine, RequestType.ACCESS, [{"kind": "email", "value": KARI}])
    assert RequestState.NEEDS_REVIEW == engine.run(request_id).state
    with engine.unit_of_work() as uow:
        with pytest.raises(ReviewError) as refused:
            resolve_review(
                uow.session,
                settings,
                request_id,
                attach=["crm.customers:7"],
                exclude=[],
                reason="it is hers",
                actor="dpo",
                now=datetime.now(UTC),
            )
        assert refused.value.message.startswith("crm.customers:7 cannot be read")
        resolve_review(
            uow.session,
            settings,
            request_id,
            attach=[],
            exclude=["crm.customers:7"],
            reason="the name column is broken; IT ticket 4411",
            actor="dpo",
            now=datetime.now(UTC),
        )

    outcome = engine.run(request_id)

    assert RequestState.PARTIALLY_COMPLETED == outcome.state, outcome.message
    with engine.unit_of_work() as uow:
        repo = uow.requests
        request = repo.get(request_id)
        left = [t for t in repo.tasks(request_id) if t.key == "crm.customers:7"]
        events = [(e.message, e.actor) for e in repo.events(request_id)]
        assert (["crm.customers:7"], "dpo", "open") == (
            request.receipt["not_covered"],
            request.receipt["review"][0]["decided_by"],
            left[0].status,
        )
    assert (
        "review: crm.customers:7 excluded: cannot be read, left out of the request "
        "(the name column is broken; IT ticket 4411)",
        "dpo",
    ) in events
    assert "could not be read and was left out of this request" in left[0].description
