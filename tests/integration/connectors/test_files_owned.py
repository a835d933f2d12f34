"""Files without sidecars: owned by their path, or by the SQL rows naming them.

ID documents lie at ``ids/{customer_id}/{document_id}.pdf``; call recordings are named
by ``telephony.calls.recording_path`` in SQLite, PostgreSQL or MariaDB. The company is
tests/unit/domain/requests/files_company.py, seeded afresh for each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from personvern.connectors.files import FileConnector
from personvern.connectors.files_attribution import unattributed_files
from personvern.connectors.port import (
    Connector,
    ConnectorDataError,
    ConnectorError,
    Criteria,
    ErasureStep,
    ExportedFile,
    Key,
    Record,
)
from personvern.connectors.sql import SqlConnector
from personvern.domain.datamap import DataMap, ErasureStrategy, System
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.subject_graph import SubjectGraph
from personvern.engine.search import search_subject
from tests.integration.connectors.files_company_seed import FilesCompany, files_company
from tests.unit.domain.requests.files_company import DOCUMENTS, KARI, RECORDINGS, datamap

COMPANY = datamap()


def _system(key: str) -> System:
    system = COMPANY.system(key)
    assert system is not None
    return system


def _keys(records: list[Record]) -> list[Key]:
    return [record.key for record in records]


def _pseudonymise(dataset: str, field: str, key: Key) -> str:
    return f"pv-{dataset}-{field}-{key}"


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FilesCompany]:
    """The company in a database of each kind, and its two folders."""
    with files_company(str(request.param), tmp_path) as company:
        yield company


@pytest.fixture
def documents(tmp_path: Path) -> Iterator[FilesCompany]:
    """The company with its files; the database is SQLite (the documents need none)."""
    with files_company("sqlite", tmp_path) as company:
        yield company


def _connector(root: Path, system: str = "documents") -> FileConnector:
    # recheck_after=0: every call sees every change at once.
    return FileConnector(_system(system), root, recheck_after=0)


# -- owned by their path ---------------------------------------------------------------


def test_documents_are_found_by_the_values_in_their_paths(documents: FilesCompany) -> None:
    connector = _connector(documents.documents)
    stamp = (documents.documents / "ids/1/pass-1.pdf").stat().st_mtime_ns

    found = connector.locate("id_documents", Criteria(exact={"customer_id": frozenset({1})}))

    assert ["licence-2", "pass-1"] == _keys(found)
    assert {
        "document_id": "pass-1",
        "customer_id": "1",
        "modified_at": datetime.fromtimestamp(stamp / 1e9, UTC),
    } == dict(found[1].values)
    assert frozenset({"customer_id"}) == found[1].matched_fields


def test_a_document_is_found_by_its_key_and_handed_over_as_it_is(
    documents: FilesCompany,
) -> None:
    connector = _connector(documents.documents)

    found = connector.locate("id_documents", Criteria(exact={"document_id": frozenset({"pass-3"})}))
    files = list(connector.export_files("id_documents", _keys(found)))

    assert [("pass-3.pdf", "application/pdf", b"%PDF pass of Ola")] == [
        (f.name, f.media_type, _content(f)) for f in files
    ]


def _content(file: ExportedFile) -> bytes:
    with file.open() as handle:
        return handle.read()


def test_an_erasure_deletes_the_documents_once_and_nothing_else(documents: FilesCompany) -> None:
    connector = _connector(documents.documents)
    step = ErasureStep("id_documents", delete=("pass-1", "licence-2"))

    first = connector.erase([step], _pseudonymise)
    second = connector.erase([step], _pseudonymise)

    assert (2, 0) == (first[0].deleted, second[0].deleted)
    assert {"ids/2/pass-3.pdf"} == documents.files("documents")


def test_documents_no_owner_path_matches_are_counted_not_guessed(
    documents: FilesCompany,
) -> None:
    (documents.documents / "ids/inbox/2026").mkdir(parents=True)
    (documents.documents / "ids/inbox/2026/scan.pdf").write_bytes(b"%PDF whose?")
    (documents.documents / "ids/scan.pdf").write_bytes(b"%PDF whose?")
    (documents.documents / "ids/1/notes.txt").write_bytes(b"not listed at all")
    connector = _connector(documents.documents)

    assert 2 == connector.unattributed("id_documents")
    assert ["licence-2", "pass-1", "pass-3"] == connector.keys("id_documents")
    assert ["licence-2", "pass-1"] == _keys(
        connector.locate("id_documents", Criteria(exact={"customer_id": frozenset({1})}))
    )


def test_a_renamed_document_moves_to_its_new_owner(documents: FilesCompany) -> None:
    connector = _connector(documents.documents)
    connector.locate("id_documents", Criteria(exact={"customer_id": frozenset({1})}))
    (documents.documents / "ids/3").mkdir()
    (documents.documents / "ids/1/pass-1.pdf").rename(documents.documents / "ids/3/pass-1.pdf")

    found = connector.locate("id_documents", Criteria(exact={"customer_id": frozenset({3})}))

    assert ["pass-1"] == _keys(found)
    assert 0 == connector.unattributed("id_documents")


def test_a_changed_modification_time_is_seen(documents: FilesCompany) -> None:
    connector = _connector(documents.documents)
    path = documents.documents / "ids/2/pass-3.pdf"
    connector.locate("id_documents", Criteria(exact={"customer_id": frozenset({2})}))
    os.utime(path, (1_600_000_000, 1_600_000_000))

    found = connector.locate("id_documents", Criteria(exact={"customer_id": frozenset({2})}))

    assert datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC) == found[0].values["modified_at"]


def test_one_key_on_two_owners_paths_stops_the_request(documents: FilesCompany) -> None:
    (documents.documents / "ids/2/pass-1.pdf").write_bytes(b"%PDF another pass-1")
    connector = _connector(documents.documents)

    with pytest.raises(ConnectorDataError) as stopped:
        connector.locate("id_documents", Criteria(exact={"customer_id": frozenset({1})}))
    with pytest.raises(ConnectorDataError):
        connector.erase([ErasureStep("id_documents", delete=("pass-1",))], _pseudonymise)

    assert (
        "documents.id_documents: the record with key pass-1 cannot be read (2 files carry this "
        "key on paths naming different owners; rename them so that each key is one file's); "
        "fix or remove the record, then run the request again"
    ) == stopped.value.message
    assert 4 == len(documents.files("documents"))


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.rectify("id_documents", ["pass-1"], {"customer_id": "2"}),
        lambda c: c.erase(
            [
                ErasureStep(
                    "id_documents",
                    update=("pass-1",),
                    update_fields={"customer_id": ErasureStrategy.SET_NULL},
                )
            ],
            _pseudonymise,
        ),
    ],
)
def test_values_read_from_a_path_cannot_be_changed(documents: FilesCompany, change: Any) -> None:
    connector = _connector(documents.documents)

    with pytest.raises(ConnectorError) as refused:
        change(connector)

    assert "documents.id_documents: " in refused.value.message
    assert 3 == len(documents.files("documents"))


# -- owned by a column, in each database -----------------------------------------------


def test_recordings_are_keyed_and_found_by_their_paths(documents: FilesCompany) -> None:
    connector = _connector(documents.recordings, "recordings")
    wanted = frozenset({"calls/2026/02/call-11.wav", "calls/2026/03/call-14.wav", "call-10.wav"})

    found = connector.locate("call_recordings", Criteria(exact={"path": wanted}))

    assert [
        "calls/2026/01/call-10.wav",
        "calls/2026/01/call-12.wav",
        "calls/2026/02/call-11.wav",
    ] == connector.keys("call_recordings")
    assert ["calls/2026/02/call-11.wav"] == _keys(found)


def _connectors(company: FilesCompany) -> dict[str, Connector]:
    environ = company.environ()
    return {
        "crm": SqlConnector(_system("crm"), environ["PV_FILES_CRM_URL"]),
        "telephony": SqlConnector(_system("telephony"), environ["PV_FILES_TELEPHONY_URL"]),
        "recordings": _connector(company.recordings, "recordings"),
        "documents": _connector(company.documents),
    }


def test_a_search_finds_recordings_through_the_rows_naming_them(seeded: FilesCompany) -> None:
    connectors = _connectors(seeded)
    graph = SubjectGraph.from_datamap(COMPANY)
    try:
        result = search_subject(graph, [parse_identity("email", KARI)], connectors)
    finally:
        for connector in connectors.values():
            connector.close()

    assert {
        RECORDINGS: {"calls/2026/01/call-10.wav", "calls/2026/02/call-11.wav"},
        DOCUMENTS: {"licence-2", "pass-1"},
    } == {name: set(result.walk.records(name)) for name in (RECORDINGS, DOCUMENTS)}


def test_files_no_row_names_are_counted_per_dataset(seeded: FilesCompany) -> None:
    before = _unattributed(seeded, COMPANY)
    (seeded.recordings / "calls/2025/12").mkdir(parents=True)
    (seeded.recordings / "calls/2025/12/call-9.wav").write_bytes(b"RIFF whose?")
    (seeded.recordings / "calls/2026/01/call-12.wav").rename(
        seeded.recordings / "calls/2026/01/call-12-copy.wav"
    )
    (seeded.documents / "ids/scan.pdf").write_bytes(b"%PDF whose?")

    after = _unattributed(seeded, COMPANY)

    assert {RECORDINGS: 0, DOCUMENTS: 0} == before
    assert {RECORDINGS: 2, DOCUMENTS: 1} == after


def test_unattributed_files_are_not_counted_where_they_cannot_be(seeded: FilesCompany) -> None:
    connectors = _connectors(seeded)
    del connectors["telephony"]
    try:
        counted = unattributed_files(COMPANY, connectors, [RECORDINGS, DOCUMENTS])
        only = unattributed_files(COMPANY, connectors, [DOCUMENTS])
    finally:
        for connector in connectors.values():
            connector.close()

    # Without the rows' system nobody can say which recordings no row names.
    assert ({DOCUMENTS: 0}, {DOCUMENTS: 0}) == (counted, only)


def _unattributed(company: FilesCompany, datamap: DataMap) -> dict[str, int]:
    connectors = _connectors(company)
    try:
        return unattributed_files(datamap, connectors)
    finally:
        for connector in connectors.values():
            connector.close()
