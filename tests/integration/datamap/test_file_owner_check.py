"""`check_datamap` on files datasets' owner rules: accepted as documented, refused at file:line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from personvern.datamap.errors import DataMapInvalidError
from personvern.datamap.loader import check_datamap, load_datamap
from tests.unit.domain.requests.files_company import datamap_document

TODAY = date(2026, 11, 25)


def _write(folder: Path, change: Callable[[dict[str, Any]], None] = lambda _d: None) -> Path:
    """The files company's map as one YAML file, after ``change``."""
    document = datamap_document()
    change(document)
    path = folder / "personvern.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def _files(document: dict[str, Any], system: str) -> dict[str, Any]:
    found = next(s for s in document["systems"] if s["key"] == system)
    files: dict[str, Any] = found["datasets"][0]["files"]
    return files


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _errors(path: Path) -> list[tuple[int | None, str]]:
    _datamap, _source, findings = check_datamap(path, today=TODAY)
    return [
        (f.location.line if f.location else None, f.finding.message)
        for f in findings
        if f.finding.is_error
    ]


def test_files_owned_by_their_path_and_by_a_column_load(tmp_path: Path) -> None:
    loaded = load_datamap(_write(tmp_path), today=TODAY)

    documents = loaded.datamap.system("documents")
    recordings = loaded.datamap.system("recordings")
    assert documents is not None
    assert recordings is not None
    assert (
        "ids/{customer_id}/{document_id}.pdf",
        "telephony.calls.recording_path",
    ) == (
        documents.datasets[0].files.owner.path,  # type: ignore[union-attr]
        recordings.datasets[0].files.owner.column,  # type: ignore[union-attr]
    )


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (
            lambda d: _files(d, "documents")["owner"].update(
                path="ids/{customer_id}/{document_id}.wav"
            ),
            "path: ids/{customer_id}/{document_id}.wav",
            "documents.id_documents: no file the pattern 'ids/**/*.pdf' lists can match "
            "owner.path 'ids/{customer_id}/{document_id}.wav'",
        ),
        (
            lambda d: _files(d, "documents").update(sidecar=".json"),
            "sidecar: .json",
            "documents.id_documents declares both files.owner and files.sidecar: a file "
            "belongs to whom its sidecar says, or to whom its owner rule says, not both",
        ),
        (
            lambda d: _files(d, "recordings")["owner"].update(
                column="telephony.calls.recording_sti"
            ),
            "column: telephony.calls.recording_sti",
            "recordings.call_recordings: owner.column telephony.calls.recording_sti names "
            "field 'recording_sti', which telephony.calls does not have",
        ),
        (
            lambda d: _files(d, "recordings")["owner"].update(path="calls/{path}.wav"),
            # The line of "owner:", just above its first key.
            "column: telephony.calls.recording_path",
            "recordings.call_recordings: files.owner needs exactly one of path or column",
        ),
    ],
)
def test_an_owner_rule_that_cannot_work_is_refused_at_its_line(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], needle: str, message: str
) -> None:
    path = _write(tmp_path, change)

    errors = _errors(path)

    line = _line_of(path, needle) - (1 if message.endswith("path or column") else 0)
    assert [(line, message)] == errors
    with pytest.raises(DataMapInvalidError):
        load_datamap(path, today=TODAY)


def test_an_unknown_owner_key_is_refused_with_the_keys_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: _files(d, "documents")["owner"].update(pattern="x"))

    _datamap, _source, findings = check_datamap(path, today=TODAY)

    [refused] = [f for f in findings if f.finding.is_error]
    assert ("unknown key 'pattern'", "allowed: path, column") == (
        refused.finding.message,
        refused.finding.hint,
    )
