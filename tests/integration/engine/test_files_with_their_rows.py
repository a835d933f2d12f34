"""Requests over files without sidecars, in SQLite, PostgreSQL and MariaDB.

Before, a file store without sidecars answered nothing: an access request found no
recording and no ID document, an erasure deleted the rows and left every file, and both
reported ``completed``. Now recordings follow the rows naming them and documents their
paths; files nobody owns leave the request ``partially_completed`` with a task; and the
receipt says where a row and its file end apart.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine, RunOutcome
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.integration.connectors.files_company_seed import FilesCompany, files_company
from tests.support.company import file_request
from tests.unit.domain.requests.files_company import (
    CALLS_HELD,
    DOCUMENT_FILES,
    DOCUMENTS,
    KARI,
    OLA,
    PER,
    RECORDING_FILES,
    RECORDINGS,
    datamap,
)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def company(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FilesCompany]:
    """The files company seeded afresh in a database of each kind."""
    with files_company(str(request.param), tmp_path / "company") as seeded:
        yield seeded


def _engine(
    company: FilesCompany, settings: Settings, retention: Iterable[Mapping[str, Any]] = ()
) -> RequestEngine:
    store = make_engine(settings)
    upgrade_to_head(store)
    return RequestEngine(
        settings=settings,
        datamap=datamap(retention),
        unit_of_work=unit_of_work_factory(make_session_factory(store)),
        environ=company.environ(),
        today=lambda: date(2026, 11, 25),
    )


def _run(engine: RequestEngine, request_type: RequestType, email: str) -> RunOutcome:
    request_id = file_request(engine, request_type, [{"kind": "email", "value": email}])
    return engine.run(request_id)


def _receipt(engine: RequestEngine, request_id: str) -> dict[str, Any]:
    with engine.unit_of_work() as uow:
        return dict(uow.requests.get(request_id).receipt or {})


def _exported_files(engine: RequestEngine, request_id: str) -> set[str]:
    # Opened through the engine: the file in the home is sealed under the subject's key.
    path = io.BytesIO(engine.read_answer(request_id, "export.zip"))
    with zipfile.ZipFile(path) as archive:
        return {name for name in archive.namelist() if name.startswith("files/")}


def test_an_access_hands_over_the_recordings_and_documents(
    company: FilesCompany, settings: Settings
) -> None:
    engine = _engine(company, settings)

    outcome = _run(engine, RequestType.ACCESS, KARI)

    assert RequestState.COMPLETED == outcome.state, outcome.message
    assert {
        "files/recordings/call-10.wav",
        "files/recordings/call-11.wav",
        "files/documents/licence-2.pdf",
        "files/documents/pass-1.pdf",
    } == _exported_files(engine, outcome.request_id)
    receipt = _receipt(engine, outcome.request_id)
    assert ({DOCUMENTS: 0, RECORDINGS: 0}, [], []) == (
        receipt["unattributed_files"],
        receipt["rows_and_files"],
        receipt["manual_steps"],
    )


def test_an_erasure_erases_each_file_with_its_row_files_first(
    company: FilesCompany, settings: Settings
) -> None:
    engine = _engine(company, settings)

    outcome = _run(engine, RequestType.ERASURE, KARI)

    assert RequestState.COMPLETED == outcome.state, outcome.message
    assert (
        {2, 3},
        {12, 14},
        {"calls/2026/01/call-12.wav"},
        {"ids/2/pass-3.pdf"},
    ) == (
        company.keys("crm.customers"),
        company.keys("telephony.calls"),
        company.files("recordings"),
        company.files("documents"),
    )
    receipt = _receipt(engine, outcome.request_id)
    # The files a row names go before the row: a run dying between the two leaves a
    # row naming a deleted file, never a file whose row is gone.
    assert ["recordings", "documents", "telephony", "crm"] == list(receipt["outcomes"])
    assert [] == receipt["rows_and_files"]


def test_files_nobody_owns_leave_a_request_that_reaches_them_partial(
    company: FilesCompany, settings: Settings
) -> None:
    (company.recordings / "calls/2025/12").mkdir(parents=True)
    (company.recordings / "calls/2025/12/call-9.wav").write_bytes(b"RIFF whose?")
    engine = _engine(company, settings)

    kari = _run(engine, RequestType.ERASURE, KARI)
    # Per has no calls, and recordings hang off calls: none of them can be his.
    per = _run(engine, RequestType.ERASURE, PER)

    assert (RequestState.PARTIALLY_COMPLETED, RequestState.COMPLETED) == (kari.state, per.state)
    receipt = _receipt(engine, kari.request_id)
    assert [
        (
            RECORDINGS,
            "1 file in Recordings (recordings), dataset call_recordings, could not be "
            "attributed to anyone; check it by hand and erase those that are the subject's",
            "open",
        )
    ] == [(step["key"], step["description"], step["status"]) for step in receipt["manual_steps"]]
    assert {DOCUMENTS: 0, RECORDINGS: 1} == receipt["unattributed_files"]
    assert {DOCUMENTS: 0} == _receipt(engine, per.request_id)["unattributed_files"]
    # The file nobody owns is left for the person doing the task.
    assert {"calls/2025/12/call-9.wav", "calls/2026/01/call-12.wav"} == company.files("recordings")


def test_a_row_naming_a_missing_file_is_said_in_the_receipt(
    company: FilesCompany, settings: Settings
) -> None:
    engine = _engine(company, settings)

    outcome = _run(engine, RequestType.ACCESS, OLA)

    assert RequestState.COMPLETED == outcome.state, outcome.message
    assert [
        {
            "rows": "telephony.calls",
            "files": RECORDINGS,
            "kind": "file_missing",
            "records": 1,
            "description": "1 record in telephony.calls names a file that "
            "recordings.call_recordings does not hold",
        }
    ] == _receipt(engine, outcome.request_id)["rows_and_files"]
    assert {"files/recordings/call-12.wav", "files/documents/pass-3.pdf"} == _exported_files(
        engine, outcome.request_id
    )


def test_a_row_kept_under_a_hold_whose_file_is_erased_is_said_in_the_receipt(
    company: FilesCompany, settings: Settings
) -> None:
    engine = _engine(company, settings, [CALLS_HELD])

    outcome = _run(engine, RequestType.ERASURE, KARI)

    assert RequestState.COMPLETED == outcome.state, outcome.message
    assert ({10, 11, 12, 13, 14}, {"calls/2026/01/call-12.wav"}) == (
        company.keys("telephony.calls"),
        company.files("recordings"),
    )
    assert [
        {
            "rows": "telephony.calls",
            "files": RECORDINGS,
            "kind": "row_kept_file_erased",
            "records": 2,
            "description": "2 records kept in telephony.calls (tvisteloven § 26-6) name a "
            "file erased from recordings.call_recordings",
        }
    ] == _receipt(engine, outcome.request_id)["rows_and_files"]


def test_the_seeded_company_is_as_the_tests_assume(company: FilesCompany) -> None:
    # Without this, a seeding mistake would read as a request that erased too much.
    assert (set(RECORDING_FILES), set(DOCUMENT_FILES), {10, 11, 12, 13, 14}) == (
        company.files("recordings"),
        company.files("documents"),
        company.keys("telephony.calls"),
    )
