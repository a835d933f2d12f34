"""Owner rules of files datasets: the owner path's matcher, and what ``check`` refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personvern.domain.datamap import DataMap
from personvern.domain.file_ownership import (
    InvalidOwnerPathError,
    OwnerPath,
    OwnerRule,
    file_owner_findings,
    file_owner_references,
    owner_rule,
)
from tests.unit.domain.requests.files_company import datamap, datamap_document

# -- the owner path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        (
            "ids/{customer_id}/{document_id}.pdf",
            "ids/17/pass-3.pdf",
            {"customer_id": "17", "document_id": "pass-3"},
        ),
        # A value may hold the suffix's own text: the name ends at the last ".pdf".
        (
            "ids/{customer_id}/{document_id}.pdf",
            "ids/17/a.pdf.pdf",
            {"customer_id": "17", "document_id": "a.pdf"},
        ),
        # Two placeholders in one name: the first takes the shortest text that fits.
        ("calls/{year}-{number}.wav", "calls/2026-17-b.wav", {"year": "2026", "number": "17-b"}),
        ("{customer_id}.pdf", "Ø-7.pdf", {"customer_id": "Ø-7"}),
        ("ids/{customer_id}/{document_id}.pdf", "ids/17/x/pass.pdf", None),
        ("ids/{customer_id}/{document_id}.pdf", "ids/17/pass.PDF", None),
        ("ids/{customer_id}/{document_id}.pdf", "IDS/17/pass.pdf", None),
        ("ids/{customer_id}/{document_id}.pdf", "ids//pass.pdf", None),
        ("ids/{customer_id}/{document_id}.pdf", "ids/17/.pdf", None),
        ("ids/{customer_id}/{document_id}.pdf", "", None),
    ],
)
def test_an_owner_path_gives_the_fields_of_the_paths_it_matches(
    template: str, path: str, expected: dict[str, str] | None
) -> None:
    assert expected == OwnerPath.parse(template).match(path)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "owner.path is empty"),
        ("/ids/{customer_id}.pdf", "owner.path '/ids/{customer_id}.pdf' must be relative"),
        ("ids//{customer_id}.pdf", "has an empty, '.' or '..' folder"),
        ("ids/../{customer_id}.pdf", "has an empty, '.' or '..' folder"),
        ("ids/{customer_id}{document_id}.pdf", "puts {customer_id} and {document_id} side by side"),
        ("ids/{customer_id}/{customer_id}.pdf", "names {customer_id} twice"),
        ("ids/{customer id}.pdf", "has a '{' that does not open a {field}"),
        ("ids/{customer_id.pdf", "has a '{' that does not open a {field}"),
        ("ids/customer_id}.pdf", "has a '}' that closes no {field}"),
        ("ids/*/{document_id}.pdf", "has the wildcard '*'"),
        ("ids/scan.pdf", "names no field"),
    ],
)
def test_an_unreadable_owner_path_is_refused_saying_why(template: str, message: str) -> None:
    with pytest.raises(InvalidOwnerPathError) as refused:
        OwnerPath.parse(template)
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("template", "pattern", "expected"),
    [
        ("ids/{customer_id}/{document_id}.pdf", "ids/*/*.pdf", True),
        ("ids/{customer_id}/{document_id}.pdf", "ids/**/*.pdf", True),
        ("ids/{customer_id}/{document_id}", "ids/*/*.pdf", True),
        ("ids/{customer_id}/{document_id}.pdf", "ids/*/*.wav", False),
        ("ids/{customer_id}/{document_id}.pdf", "docs/*/*.pdf", False),
        ("ids/{customer_id}/{document_id}.pdf", "ids/*.pdf", False),
        ("ids/{customer_id}/x{document_id}.pdf", "ids/*/x*.pdf", True),
        ("ids/{customer_id}/{document_id}.tar.gz", "ids/*/*.gz", True),
    ],
)
def test_an_owner_path_the_pattern_never_lists_is_told_apart(
    template: str, pattern: str, expected: bool
) -> None:
    assert expected == OwnerPath.parse(template).may_match(pattern)


_TEMPLATES = st.sampled_from(
    [
        "ids/{customer_id}/{document_id}.pdf",
        "calls/{year}/{month}/call-{call_id}.wav",
        "{a}-{b}_{c}.x",
        "scan {customer_id}.tiff",
        "{only}",
    ]
)
#: Values never holding "/", "-", "_", "." or " ": the text between placeholders above.
_VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/-_. \x00"),
    min_size=1,
    max_size=12,
).filter(lambda v: v not in {".", ".."})


@given(st.text(max_size=200), _TEMPLATES)
def test_matching_arbitrary_paths_never_raises(path: str, template: str) -> None:
    found = OwnerPath.parse(template).match(path)
    assert found is None or set(found) == set(OwnerPath.parse(template).fields)


@given(_TEMPLATES, st.data())
def test_a_formatted_path_matches_back_to_its_values(template: str, data: st.DataObject) -> None:
    owner = OwnerPath.parse(template)
    values = {name: data.draw(_VALUES, label=name) for name in owner.fields}

    path = owner.format(values)

    assert values == owner.match(path)


@pytest.mark.parametrize("value", ["", "a/b", ".."])
def test_a_value_that_cannot_be_in_a_path_is_not_formatted(value: str) -> None:
    with pytest.raises(ValueError, match="cannot be"):
        OwnerPath.parse("{customer_id}/{document_id}.pdf").format(
            {"customer_id": value, "document_id": "x"}
        )


# -- the data map -----------------------------------------------------------------------


def test_the_three_owner_rules_are_told_apart() -> None:
    company = datamap()
    sets = {f"{s.key}.{d.name}": d.files for s in company.systems for d in s.datasets if d.files}
    assert {
        "recordings.call_recordings": OwnerRule.COLUMN,
        "documents.id_documents": OwnerRule.PATH,
    } == {name: owner_rule(files) for name, files in sets.items() if files is not None}


def test_files_owned_by_a_column_hang_off_the_rows_naming_them() -> None:
    recordings = datamap().system("recordings")
    assert recordings is not None
    assert {"path": "telephony.calls.recording_path"} == file_owner_references(
        recordings.datasets[0]
    )


def _findings(change: Any) -> list[tuple[tuple[str | int, ...], str]]:
    document = copy.deepcopy(datamap_document())
    change(document)
    return [(f.path, f.message) for f in file_owner_findings(DataMap.model_validate(document))]


def _dataset(document: dict[str, Any], system: str) -> dict[str, Any]:
    found = next(s for s in document["systems"] if s["key"] == system)
    dataset: dict[str, Any] = found["datasets"][0]
    return dataset


def test_the_company_declares_its_owners_correctly() -> None:
    assert [] == _findings(lambda _document: None)


_DOCS = ("systems", 3, "datasets", 0)
_RECS = ("systems", 2, "datasets", 0)


@pytest.mark.parametrize(
    ("system", "change", "expected"),
    [
        (
            "documents",
            lambda d: d["files"].update(sidecar=".json"),
            [
                (
                    (*_DOCS, "files", "sidecar"),
                    "documents.id_documents declares both files.owner and files.sidecar: a "
                    "file belongs to whom its sidecar says, or to whom its owner rule says, "
                    "not both",
                )
            ],
        ),
        (
            "documents",
            lambda d: d["files"]["owner"].update(column="telephony.calls.recording_path"),
            [
                (
                    (*_DOCS, "files", "owner"),
                    "documents.id_documents: files.owner needs exactly one of path or column",
                )
            ],
        ),
        (
            "documents",
            lambda d: d["files"]["owner"].update(path="ids/{kunde}/{document_id}.pdf"),
            [
                (
                    (*_DOCS, "files", "owner", "path"),
                    "documents.id_documents: owner.path names {kunde}, which is not a field "
                    "of documents.id_documents",
                ),
                (
                    (*_DOCS, "fields", 1, "name"),
                    "documents.id_documents.customer_id is not in owner.path: a file owned by "
                    "its path has no values but those in its path (and modified_at)",
                ),
            ],
        ),
        (
            "documents",
            lambda d: d["files"]["owner"].update(path="ids/{customer_id}/{document_id}.wav"),
            [
                (
                    (*_DOCS, "files", "owner", "path"),
                    "documents.id_documents: no file the pattern 'ids/**/*.pdf' lists can "
                    "match owner.path 'ids/{customer_id}/{document_id}.wav'",
                )
            ],
        ),
        (
            "documents",
            lambda d: d["files"]["owner"].update(path="ids/{customer_id}{document_id}.pdf"),
            [
                (
                    (*_DOCS, "files", "owner", "path"),
                    "documents.id_documents: owner.path 'ids/{customer_id}{document_id}.pdf' "
                    "puts {customer_id} and {document_id} side by side, so nothing says where "
                    "one ends",
                )
            ],
        ),
        (
            "documents",
            lambda d: d["files"]["owner"].update(path="ids/{customer_id}/{modified_at}.pdf"),
            [
                (
                    (*_DOCS, "files", "owner", "path"),
                    "documents.id_documents: {modified_at} is the file's modification time, "
                    "not part of its path",
                ),
                (
                    (*_DOCS, "fields", 0, "name"),
                    "documents.id_documents.document_id is not in owner.path: a file owned by "
                    "its path has no values but those in its path (and modified_at)",
                ),
                (
                    (*_DOCS, "files", "owner", "path"),
                    "documents.id_documents: owner.path must hold the primary key "
                    "{document_id}: it is each file's key",
                ),
            ],
        ),
        (
            "recordings",
            lambda d: d["files"]["owner"].update(column="recordings.call_recordings.path"),
            [
                (
                    (*_RECS, "files", "owner", "column"),
                    "recordings.call_recordings: owner.column recordings.call_recordings.path "
                    "is in recordings itself; it must name the dataset of another system whose "
                    "rows name the files",
                )
            ],
        ),
        (
            "recordings",
            lambda d: d["files"]["owner"].update(column="telephony.calls.recording"),
            [
                (
                    (*_RECS, "files", "owner", "column"),
                    "recordings.call_recordings: owner.column telephony.calls.recording names "
                    "field 'recording', which telephony.calls does not have",
                )
            ],
        ),
        (
            "recordings",
            lambda d: d["files"]["owner"].update(column="telefoni.calls.recording_path"),
            [
                (
                    (*_RECS, "files", "owner", "column"),
                    "recordings.call_recordings: owner.column telefoni.calls.recording_path "
                    "names system 'telefoni', which does not exist",
                )
            ],
        ),
        (
            "recordings",
            lambda d: d["files"]["owner"].update(column="calls.recording_path"),
            [
                (
                    (*_RECS, "files", "owner", "column"),
                    "recordings.call_recordings: owner.column 'calls.recording_path' must be "
                    "system.dataset.field",
                )
            ],
        ),
        (
            "recordings",
            lambda d: d["fields"].append({"name": "agent", "free_text": True}),
            [
                (
                    (*_RECS, "fields", 2, "free_text"),
                    "recordings.call_recordings.agent cannot be free_text: a file owned by its "
                    "path or a row stores no text of its own to search or redact",
                ),
                (
                    (*_RECS, "fields", 2, "name"),
                    "recordings.call_recordings.agent: a file owned by a column has no values "
                    "but its path (the primary key) and modified_at",
                ),
            ],
        ),
        (
            "recordings",
            lambda d: d["fields"][0].update(references="crm.customers.customer_id"),
            [
                (
                    (*_RECS, "fields", 0, "references"),
                    "recordings.call_recordings.path is the file's path, named by "
                    "telephony.calls.recording_path; it cannot reference "
                    "crm.customers.customer_id",
                )
            ],
        ),
    ],
)
def test_check_refuses_owner_declarations_that_cannot_work(
    system: str, change: Any, expected: list[tuple[tuple[str | int, ...], str]]
) -> None:
    assert expected == _findings(lambda document: change(_dataset(document, system)))


def test_an_owner_rule_is_for_files_systems_only() -> None:
    def webhook(document: dict[str, Any]) -> None:
        system = next(s for s in document["systems"] if s["key"] == "documents")
        system["kind"] = "webhook"

    assert [
        (
            (*_DOCS, "files", "owner"),
            "documents.id_documents: files.owner is for files systems; documents is a "
            "webhook system, which answers for its own files",
        )
    ] == _findings(webhook)
