"""Files in plans: found through their rows or paths, unattributed files, rows and files apart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pytest

from personvern.domain.datamap import DataMap
from personvern.domain.requests.file_coverage import (
    FileMismatch,
    concerned_file_datasets,
    follow_rows,
)
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.request_plan import ManualStep, RequestPlan, build_plan
from personvern.domain.requests.subject_graph import SubjectGraph, SubjectWalk
from personvern.engine.search import search_subject
from tests.unit.domain.requests.files_company import (
    CALLS_HELD,
    DOCUMENT_FILES,
    DOCUMENTS,
    KARI,
    OLA,
    PER,
    RECORDING_FILES,
    RECORDINGS,
    RECORDINGS_HELD,
    datamap,
    rows,
)
from tests.unit.domain.requests.memory_store import MemoryConnector, MemoryStore

TODAY = date(2026, 11, 25)
#: When every file was last changed, as a files connector reports it.
MODIFIED = datetime(2026, 3, 3, 12, 0)


def _records() -> dict[str, list[dict[str, Any]]]:
    """The rows, and the files as the files connector gives their records."""
    records = rows()
    records[RECORDINGS] = [{"path": path, "modified_at": MODIFIED} for path in RECORDING_FILES]
    records[DOCUMENTS] = [
        {
            "document_id": path.rsplit("/", 1)[1].removesuffix(".pdf"),
            "customer_id": path.split("/")[1],
            "modified_at": MODIFIED,
        }
        for path in DOCUMENT_FILES
    ]
    return records


def _search(company: DataMap, email: str) -> tuple[SubjectGraph, SubjectWalk]:
    store = MemoryStore(company, _records())
    graph = SubjectGraph.from_datamap(company)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    result = search_subject(graph, [parse_identity("email", email)], connectors)  # type: ignore[arg-type]
    return graph, result.walk


def _plan(
    request_type: RequestType,
    email: str,
    unattributed: Mapping[str, int] | None = None,
    retention: Iterable[Mapping[str, Any]] = (),
) -> RequestPlan:
    company = datamap(retention)
    graph, walk = _search(company, email)
    return build_plan(request_type, graph, walk, company, TODAY, unattributed=unattributed)


def _keys(plan: RequestPlan, part: str) -> dict[str, tuple[Any, ...]]:
    return {d.name: getattr(d, part) for d in plan.datasets if getattr(d, part)}


def test_an_access_hands_over_the_files_the_subjects_rows_name_and_their_path_owns() -> None:
    plan = _plan(RequestType.ACCESS, KARI, {RECORDINGS: 0, DOCUMENTS: 0})

    assert {
        "crm.customers": (1,),
        "telephony.calls": (10, 11, 13),
        RECORDINGS: ("calls/2026/01/call-10.wav", "calls/2026/02/call-11.wav"),
        DOCUMENTS: ("licence-2", "pass-1"),
    } == _keys(plan, "export")
    assert ({RECORDINGS: 0, DOCUMENTS: 0}, (), ()) == (
        dict(plan.unattributed_files),
        plan.manual_steps,
        plan.file_mismatches,
    )


def test_an_erasure_erases_each_file_with_the_row_naming_it() -> None:
    plan = _plan(RequestType.ERASURE, KARI, {RECORDINGS: 0, DOCUMENTS: 0})

    assert {
        "crm.customers": (1,),
        "telephony.calls": (10, 11, 13),
        RECORDINGS: ("calls/2026/01/call-10.wav", "calls/2026/02/call-11.wav"),
        DOCUMENTS: ("licence-2", "pass-1"),
    } == _keys(plan, "delete")
    assert () == plan.file_mismatches


def test_unattributed_files_the_request_reaches_are_manual_steps() -> None:
    plan = _plan(RequestType.ACCESS, OLA, {RECORDINGS: 2, DOCUMENTS: 1})

    assert {DOCUMENTS: 1, RECORDINGS: 2} == dict(plan.unattributed_files)
    assert (
        ManualStep(
            key=DOCUMENTS,
            reason="unattributed_files",
            description="1 file in Documents (documents), dataset id_documents, could not be "
            "attributed to anyone; check it by hand and add those that are the subject's to "
            "the answer",
            records=1,
        ),
        ManualStep(
            key=RECORDINGS,
            reason="unattributed_files",
            description="2 files in Recordings (recordings), dataset call_recordings, could "
            "not be attributed to anyone; check them by hand and add those that are the "
            "subject's to the answer",
            records=2,
        ),
    ) == plan.manual_steps


@pytest.mark.parametrize(
    ("request_type", "email", "expected"),
    [
        # Per has a customer record (documents hang off it) but no calls (recordings do).
        (RequestType.ERASURE, PER, (DOCUMENTS,)),
        (RequestType.ACCESS, KARI, (DOCUMENTS, RECORDINGS)),
        (RequestType.RESTRICTION, KARI, (DOCUMENTS, RECORDINGS)),
        # Nothing found: nothing leads to any file.
        (RequestType.ACCESS, "nobody@example.no", ()),
        # Corrections and stop marks change records' fields; these files have none.
        (RequestType.RECTIFICATION, KARI, ()),
        (RequestType.OBJECTION, KARI, ()),
    ],
)
def test_unattributed_files_concern_requests_that_reach_and_cover_files(
    request_type: RequestType, email: str, expected: tuple[str, ...]
) -> None:
    company = datamap()
    graph, walk = _search(company, email)

    assert expected == concerned_file_datasets(request_type, graph, walk, company)


def test_a_row_naming_a_missing_file_is_said() -> None:
    plan = _plan(RequestType.ACCESS, OLA, {RECORDINGS: 0, DOCUMENTS: 0})

    assert (
        FileMismatch(
            kind="file_missing",
            rows="telephony.calls",
            files=RECORDINGS,
            keys=(14,),
            description="1 record in telephony.calls names a file that "
            "recordings.call_recordings does not hold",
        ),
    ) == plan.file_mismatches
    assert () == plan.manual_steps


def test_a_row_kept_under_a_hold_whose_file_is_erased_is_said() -> None:
    plan = _plan(RequestType.ERASURE, KARI, retention=[CALLS_HELD])

    assert (10, 11, 13) == _keys(plan, "keep")["telephony.calls"]
    assert (
        FileMismatch(
            kind="row_kept_file_erased",
            rows="telephony.calls",
            files=RECORDINGS,
            keys=(10, 11),
            description="2 records kept in telephony.calls (tvisteloven § 26-6) name a file "
            "erased from recordings.call_recordings",
        ),
    ) == plan.file_mismatches


def test_a_file_kept_under_its_own_hold_whose_row_is_erased_is_said() -> None:
    plan = _plan(RequestType.ERASURE, KARI, retention=[RECORDINGS_HELD])

    kept = ("calls/2026/01/call-10.wav", "calls/2026/02/call-11.wav")
    assert kept == _keys(plan, "keep")[RECORDINGS]
    assert (
        FileMismatch(
            kind="file_kept_row_erased",
            rows="telephony.calls",
            files=RECORDINGS,
            keys=kept,
            description="2 files kept in recordings.call_recordings (opptaksforskriften § 3) "
            "belong to records erased from telephony.calls",
        ),
    ) == plan.file_mismatches


def test_a_file_named_by_another_persons_row_is_theirs_too() -> None:
    company = datamap()
    _graph, walk = _search(company, KARI)

    theirs = follow_rows(
        company,
        walk,
        RECORDINGS,
        ["calls/2026/01/call-10.wav", "calls/2026/02/call-11.wav"],
        {"telephony.calls": {11}},
    )

    assert {"calls/2026/02/call-11.wav"} == theirs


def test_a_plan_with_files_reads_back_as_it_was() -> None:
    plan = _plan(RequestType.ERASURE, OLA, {RECORDINGS: 3, DOCUMENTS: 0}, [CALLS_HELD])

    assert plan.file_mismatches
    assert plan == RequestPlan.from_json(plan.to_json())
