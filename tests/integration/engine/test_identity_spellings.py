"""Requests on a CRM that keeps phone numbers and national ids the way people type them.

The regression: a phone number on the subject's own record written without ``+``
(``971 55 337``) made the free-text search raise NumberParseException out of the run;
the request stayed ``in_progress`` with no error, and every retry crashed the same way.
Now the number is read with the controller's country (NO), its spellings are searched
for in records and text, and a value that cannot be read is named in the plan, the
receipt and ``request show``, never raised.

The demo stores every phone in E.164, so this CRM is written here: the demo's tables
(with room for ``DDMMYY NNNNN``), on SQLite, PostgreSQL and MariaDB, with only the CRM
in the data map.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from personvern.cli.requests import _plan_facts, _receipt_facts
from personvern.datamap.loader import load_datamap
from personvern.demo import schema
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.company import file_request
from tests.support.servers import fresh_database

KARI = "kari.nordmann@example.no"
WHEN = datetime(2026, 3, 1, 9, 30)
LOGGED = "Logget: https://nordavind.no/skjema?epost=kari.nordmann%40example.no&steg=2"
#: Room for a national id written "DDMMYY NNNNN" (the demo's column holds 11 characters).
_WIDER_NATIONAL_ID = {
    "postgresql": "ALTER TABLE customers ALTER COLUMN national_id TYPE VARCHAR(20)",
    "mariadb": "ALTER TABLE customers MODIFY national_id VARCHAR(20)",
}


def _customer(key: int, email: str, phone: str, national_id: str | None) -> dict[str, Any]:
    return {
        "id": key,
        "company_name": f"Firma {key} AS",
        "contact_name": f"Kunde {key}",
        "email": email,
        "phone": phone,
        "national_id": national_id,
        "country": "NO",
        "preferred_language": "nb",
        "contract_start": WHEN.date(),
        "created_at": WHEN,
    }


def _prospect(key: int, email: str, phone: str | None, notes: str | None) -> dict[str, Any]:
    return {
        "id": key,
        "name": f"Interessent {key}",
        "email": email,
        "phone": phone,
        "notes": notes,
        "created_at": WHEN,
    }


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def crm_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Kari's customer record with her phone grouped and a national id failing its check."""
    kind = str(request.param)
    with ExitStack() as stack:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
        else:
            url = stack.enter_context(fresh_database(kind))
        engine = sa.create_engine(url)
        try:
            schema.crm.create_all(engine)
            with engine.begin() as conn:
                if kind in _WIDER_NATIONAL_ID:
                    conn.execute(sa.text(_WIDER_NATIONAL_ID[kind]))
                conn.execute(
                    schema.customers.insert(),
                    [
                        _customer(7, KARI, "971 55 337", "010170 12345"),
                        _customer(8, "ola@example.no", "971 55 338", "010170 12343"),
                    ],
                )
                conn.execute(
                    schema.prospects.insert(),
                    [
                        # Her own prospect record: her address in capitals, her number
                        # internationally (found by either, so it is hers, not a conflict).
                        _prospect(20, KARI.upper(), "+47 971 55 337", None),
                        # Others' notes: her address in a logged URL, her number as written.
                        _prospect(21, "per@example.no", None, LOGGED),
                        _prospect(22, "eva@example.no", None, "Ring 97 15 53 37 i morgen."),
                        # Ola's number, one digit off hers.
                        _prospect(23, "ola@privat.example", "97155338", None),
                    ],
                )
        finally:
            engine.dispose()
        yield url


def _engine(settings: Settings, crm_url: str) -> RequestEngine:
    store = make_engine(settings)
    upgrade_to_head(store)
    datamap = load_datamap(EXAMPLE_DATAMAP).datamap
    # Only the CRM: the request completes with nothing left to do by hand.
    only_crm = datamap.model_copy(
        update={"systems": [s for s in datamap.systems if s.key == "crm"]}
    )
    return RequestEngine(
        settings=settings,
        datamap=only_crm,
        unit_of_work=unit_of_work_factory(make_session_factory(store)),
        environ={"PERSONVERN_DEMO_CRM_URL": crm_url},
        today=lambda: date(2026, 11, 25),
    )


def _receipt(engine: RequestEngine, request_id: str) -> dict[str, Any]:
    with engine.unit_of_work() as uow:
        return dict(uow.requests.get(request_id).receipt or {})


def test_a_request_whose_subject_has_a_phone_without_plus_runs_to_its_end(
    settings: Settings, crm_url: str
) -> None:
    engine = _engine(settings, crm_url)
    request_id = file_request(engine, RequestType.ACCESS, [{"kind": "email", "value": KARI}])

    outcome = engine.run(request_id)

    # Not completed: her national id fails its check, so a person must search for it.
    assert RequestState.PARTIALLY_COMPLETED == outcome.state, outcome.message
    assert outcome.plan is not None
    assert {"crm.customers": (7,), "crm.prospects": (20, 21, 22)} == {
        part.name: tuple(part.export) for part in outcome.plan.datasets
    }


def test_a_phone_given_in_e164_finds_her_records_in_every_spelling(
    settings: Settings, crm_url: str
) -> None:
    engine = _engine(settings, crm_url)
    request_id = file_request(
        engine, RequestType.ACCESS, [{"kind": "phone_number", "value": "+4797155337"}]
    )

    plan = engine.dry_run(request_id)

    assert {"crm.customers": (7,), "crm.prospects": (20, 21, 22)} == {
        part.name: tuple(part.export) for part in plan.datasets
    }


def test_a_value_that_cannot_be_read_is_named_in_the_plan_the_receipt_and_request_show(
    settings: Settings, crm_url: str
) -> None:
    engine = _engine(settings, crm_url)
    request_id = file_request(engine, RequestType.ACCESS, [{"kind": "email", "value": KARI}])

    plan = engine.dry_run(request_id)
    outcome = engine.run(request_id)
    receipt = _receipt(engine, request_id)

    where = "crm.customers 7 national_id"
    shown = (
        "could not read",
        f"some identity values could not be read and were not searched for; check {where}",
    )
    assert ((where,), [where]) == (plan.unreadable, receipt["unreadable"])
    assert shown in _receipt_facts(receipt)
    assert shown in _plan_facts(plan.to_json())
    # What was not searched for is a task: the request is not complete without it.
    assert RequestState.PARTIALLY_COMPLETED == outcome.state
    assert [("crm.customers", "unreadable_identity")] == [
        (step.key, step.reason) for step in plan.manual_steps
    ]
    assert "national_id of record 7 in crm.customers cannot be read" in outcome.message


def test_erasure_redacts_her_address_url_encoded_and_her_number_as_written(
    settings: Settings, crm_url: str
) -> None:
    engine = _engine(settings, crm_url)
    request_id = file_request(engine, RequestType.ERASURE, [{"kind": "email", "value": KARI}])

    outcome = engine.run(request_id)

    # Done but for telling the recipients of the erasure (Art. 19), which people do.
    assert RequestState.PARTIALLY_COMPLETED == outcome.state, outcome.message
    db = sa.create_engine(crm_url)
    try:
        with db.connect() as conn:
            prospects = dict(
                conn.execute(sa.select(schema.prospects.c.id, schema.prospects.c.notes)).all()
            )
            phones = dict(
                conn.execute(sa.select(schema.customers.c.id, schema.customers.c.phone)).all()
            )
    finally:
        db.dispose()
    assert {
        21: "Logget: https://nordavind.no/skjema?epost=[…]&steg=2",
        22: "Ring […] i morgen.",
        23: None,
    } == prospects
    # Her customer record is kept for the company name with her fields erased; Ola's stays.
    assert {7: None, 8: "971 55 338"} == phones
