"""The files connector on the demo company's call recordings and identity documents.

The demo is seeded once for the module; tests that change files work on a copy of a
file store in their own tmp_path, and every expectation about the seeded data comes
from the independent ground truth (personvern.demo.ground_truth).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from personvern.connectors.files import MASK, TEMP_SUFFIX, FileConnector
from personvern.connectors.port import (
    Connector,
    ConnectorError,
    ConnectorUnavailableError,
    Criteria,
    ErasureStep,
    Key,
    Redaction,
)
from personvern.datamap.loader import load_datamap
from personvern.demo import DemoTargets, ground_truth, schema, seed_demo_company, targets_from_urls
from personvern.demo.seed import sidecar_path
from personvern.domain.datamap import DataMap, ErasureStrategy, System
from tests.conftest import EXAMPLE_DATAMAP

CUSTOMERS = 60
SEED = 23
REFERENCE = date(2026, 3, 16)
RECORDINGS = "telephony.call_recordings"
DOCUMENTS = "identity_documents.identity_documents"


@dataclass(frozen=True)
class Seeded:
    """The seeded demo company and its data map."""

    targets: DemoTargets
    datamap: DataMap
    #: Every customer's phone number (None when they gave none), by customer id.
    phones: dict[int, str | None]

    def system(self, key: str) -> System:
        """The data map's system with this key."""
        system = self.datamap.system(key)
        assert system is not None
        return system


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The demo company with 60 customers in SQLite and its two file stores, seeded once."""
    targets = targets_from_urls(home=tmp_path_factory.mktemp("files-company"))
    seed_demo_company(targets, customers=CUSTOMERS, seed=SEED, reference_date=REFERENCE)
    engine = sa.create_engine(targets.url("crm"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.customers.c.id, schema.customers.c.phone))
            phones = {row.id: row.phone for row in rows}
    finally:
        engine.dispose()
    return Seeded(targets, load_datamap(EXAMPLE_DATAMAP).datamap, phones)


def pseudonymise(dataset: str, field: str, key: Key) -> str:
    """A stand-in for the engine's keyed pseudonymiser: stable per dataset, field and key."""
    return "pv-" + hashlib.sha256(f"{dataset}/{field}/{key}".encode()).hexdigest()[:24]


def sidecar_files(root: Path) -> list[Path]:
    """Every sidecar below root (not the demo's marker file at the root), sorted."""
    return sorted(p for p in root.rglob("*.json") if p.parent != root)


def sidecars(root: Path) -> list[dict[str, Any]]:
    """Every sidecar below root, parsed."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sidecar_files(root)]


def tree(root: Path) -> dict[str, str]:
    """SHA-256 of every file below root, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def customers_with(root: Path) -> list[int]:
    """Customer ids that have at least one file in the store, sorted."""
    return sorted({s["customer_id"] for s in sidecars(root) if s["customer_id"] is not None})


def copy_store(source: Path, tmp_path: Path) -> Path:
    """A private copy of a file store, for tests that change it."""
    target = tmp_path / source.name
    shutil.copytree(source, target, symlinks=True)
    return target


def keys(records: list[Any]) -> list[Key]:
    """The keys of located records, sorted."""
    return sorted(r.key for r in records)


# -- locate --------------------------------------------------------------------------


def test_locate_recordings_by_customer_and_phone_matches_ground_truth(seeded: Seeded) -> None:
    root = seeded.targets.recordings_dir
    connector: Connector = FileConnector(seeded.system("telephony"), root)
    # Customers with recordings, and a few without (they must get nothing).
    chosen = customers_with(root) + [c for c in seeded.phones if c not in customers_with(root)][:3]
    assert len(chosen) > 5
    for customer_id in chosen:
        phone = seeded.phones[customer_id]
        exact: dict[str, frozenset[Key]] = {"customer_id": frozenset({customer_id})}
        if phone:
            exact["phone_number"] = frozenset({phone})
        found = connector.locate("call_recordings", Criteria(exact=exact))
        assert ground_truth(seeded.targets, customer_id)[RECORDINGS] == keys(found)


def test_locate_identity_documents_matches_ground_truth(seeded: Seeded) -> None:
    root = seeded.targets.identity_documents_dir
    connector = FileConnector(seeded.system("identity_documents"), root)
    owners = customers_with(root)
    assert owners, "the seed holds no identity documents"
    for customer_id in [*owners, next(c for c in seeded.phones if c not in owners)]:
        found = connector.locate(
            "identity_documents", Criteria(exact={"customer_id": frozenset({customer_id})})
        )
        assert ground_truth(seeded.targets, customer_id)[DOCUMENTS] == keys(found)


def test_locate_by_phone_alone_returns_declared_fields_and_what_matched(seeded: Seeded) -> None:
    root = seeded.targets.recordings_dir
    connector = FileConnector(seeded.system("telephony"), root)
    phone = sidecars(root)[0]["phone_number"]
    expected = {s["call_id"]: s for s in sidecars(root) if s["phone_number"] == phone}

    found = connector.locate(
        "call_recordings", Criteria(exact={"phone_number": frozenset({phone, "+4700000000"})})
    )

    assert sorted(expected) == keys(found)
    declared = [f.name for f in seeded.system("telephony").datasets[0].fields]
    for record in found:
        assert expected[str(record.key)] == dict(record.values)
        assert declared == list(record.values)
        assert frozenset({"phone_number"}) == record.matched_fields


def test_locate_compares_as_strings_and_excludes_keys_found_before(seeded: Seeded) -> None:
    root = seeded.targets.recordings_dir
    connector = FileConnector(seeded.system("telephony"), root)
    customer_id = customers_with(root)[0]
    all_keys = ground_truth(seeded.targets, customer_id)[RECORDINGS]
    by_text = connector.locate(
        "call_recordings", Criteria(exact={"customer_id": frozenset({str(customer_id)})})
    )
    rest = connector.locate(
        "call_recordings",
        Criteria(exact={"customer_id": frozenset({customer_id})}, exclude=frozenset(all_keys[:1])),
    )
    assert sorted(all_keys) == keys(by_text)
    assert sorted(all_keys[1:]) == keys(rest)


def test_empty_criteria_read_nothing(seeded: Seeded) -> None:
    connector = FileConnector(seeded.system("telephony"), seeded.targets.recordings_dir)
    assert [] == connector.locate("call_recordings", Criteria())
    assert [] == connector.locate("call_recordings", Criteria(exact={"customer_id": frozenset()}))
    assert 0 == connector.statements_issued


def test_one_pass_per_call(seeded: Seeded) -> None:
    connector = FileConnector(seeded.system("telephony"), seeded.targets.recordings_dir)
    criteria = Criteria(exact={"customer_id": frozenset({1, 2, 3})})
    connector.locate("call_recordings", criteria)
    connector.locate("call_recordings", criteria)
    assert 2 == connector.statements_issued


def test_unknown_dataset_or_field_is_refused(seeded: Seeded) -> None:
    connector = FileConnector(seeded.system("telephony"), seeded.targets.recordings_dir)
    with pytest.raises(ConnectorError, match="not a dataset"):
        connector.locate("calls", Criteria(exact={"customer_id": frozenset({1})}))
    with pytest.raises(ConnectorError, match="declares no field caller"):
        connector.locate("call_recordings", Criteria(exact={"caller": frozenset({"x"})}))


# -- export --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "dataset", "media_type"),
    [
        ("telephony", "call_recordings", "audio/wav"),
        ("identity_documents", "identity_documents", "application/octet-stream"),
    ],
)
def test_export_files_hands_over_the_files_themselves(
    seeded: Seeded, system: str, dataset: str, media_type: str
) -> None:
    root = seeded.targets.file_roots[system]
    connector = FileConnector(seeded.system(system), root)
    customer_id = customers_with(root)[0]
    wanted = ground_truth(seeded.targets, customer_id)[f"{system}.{dataset}"]
    on_disk = {p.stem: p for p in root.rglob("*") if p.suffix != ".json" and p.stem in set(wanted)}

    exported = list(connector.export_files(dataset, wanted))

    assert sorted(wanted) == sorted(f.key for f in exported)
    for file in exported:
        path = on_disk[str(file.key)]
        assert (dataset, path.name, media_type) == (file.dataset, file.name, file.media_type)
        assert path.stat().st_size == file.size
        with file.open() as handle:
            assert path.read_bytes() == handle.read()


def test_export_of_no_keys_or_unknown_keys_yields_nothing(seeded: Seeded) -> None:
    connector = FileConnector(seeded.system("telephony"), seeded.targets.recordings_dir)
    assert [] == list(connector.export_files("call_recordings", []))
    assert [] == list(connector.export_files("call_recordings", ["no-such-call"]))


# -- erase ---------------------------------------------------------------------------


def test_erase_deletes_files_and_sidecars_of_the_subject_only(
    seeded: Seeded, tmp_path: Path
) -> None:
    root = copy_store(seeded.targets.recordings_dir, tmp_path)
    connector = FileConnector(seeded.system("telephony"), root)
    customer_id = customers_with(root)[0]
    doomed = ground_truth(seeded.targets, customer_id)[RECORDINGS]
    before = tree(root)

    step = ErasureStep("call_recordings", delete=tuple(doomed))
    first = connector.erase([step], pseudonymise)
    second = connector.erase([step], pseudonymise)

    gone = {
        name
        for name in before
        if Path(name).stem in set(doomed) and Path(name).suffix in {".wav", ".json"}
    }
    assert 2 * len(doomed) == len(gone)
    assert {k: v for k, v in before.items() if k not in gone} == tree(root)
    assert len(doomed) == first[0].deleted
    assert (0, 0, 0) == (second[0].deleted, second[0].updated, second[0].redacted)
    criteria = Criteria(exact={"customer_id": frozenset({customer_id})})
    assert [] == connector.locate("call_recordings", criteria)


def test_an_interrupted_deletion_is_finished_by_the_next_run(
    seeded: Seeded, tmp_path: Path
) -> None:
    root = copy_store(seeded.targets.recordings_dir, tmp_path)
    connector = FileConnector(seeded.system("telephony"), root)
    recording = next(p for p in sorted(root.rglob("*.wav")))
    call_id = recording.stem
    # The state a run killed between deleting the file and deleting its sidecar leaves.
    recording.unlink()

    found = connector.locate("call_recordings", Criteria(exact={"call_id": frozenset({call_id})}))
    exported = list(connector.export_files("call_recordings", [call_id]))
    outcome = connector.erase([ErasureStep("call_recordings", delete=(call_id,))], pseudonymise)

    assert [call_id] == keys(found)
    assert [] == exported
    assert 1 == outcome[0].deleted
    assert not sidecar_path(recording).exists()


def test_erasing_fields_rewrites_sidecars_and_keeps_the_rest(
    seeded: Seeded, tmp_path: Path
) -> None:
    root = copy_store(seeded.targets.identity_documents_dir, tmp_path)
    connector = FileConnector(seeded.system("identity_documents"), root)
    sidecar = sidecar_files(root)[0]
    document = json.loads(sidecar.read_text(encoding="utf-8"))
    # A key the data map does not declare must survive the rewrite untouched.
    sidecar.write_text(json.dumps({**document, "scanner": "desk-3"}), encoding="utf-8")
    content = sidecar.with_suffix(".bin").read_bytes()
    others = {p: p.read_bytes() for p in sidecar_files(root) if p != sidecar}
    step = ErasureStep(
        "identity_documents",
        update=(document["document_id"],),
        update_fields={
            "jurisdiction": ErasureStrategy.MASK,
            "document_type": ErasureStrategy.SET_NULL,
            "collected_at": ErasureStrategy.PSEUDONYMISE,
        },
    )

    first = connector.erase([step], pseudonymise)
    second = connector.erase([step], pseudonymise)

    expected = {
        **document,
        "scanner": "desk-3",
        "jurisdiction": MASK,
        "document_type": None,
        "collected_at": pseudonymise("identity_documents", "collected_at", document["document_id"]),
    }
    assert expected == json.loads(sidecar.read_text(encoding="utf-8"))
    assert content == sidecar.with_suffix(".bin").read_bytes()
    assert others == {p: p.read_bytes() for p in others}
    assert (0, 1, 0) == (first[0].deleted, first[0].updated, first[0].redacted)
    assert (0, 0, 0) == (second[0].deleted, second[0].updated, second[0].redacted)
    assert [] == list(root.rglob(f"*{TEMP_SUFFIX}"))


def test_erasure_refuses_to_erase_the_key_or_unknown_fields(seeded: Seeded) -> None:
    connector = FileConnector(seeded.system("telephony"), seeded.targets.recordings_dir)
    for fields in (
        {"call_id": ErasureStrategy.MASK},
        {"caller": ErasureStrategy.SET_NULL},
        {"agent": ErasureStrategy.DELETE_ROW},
    ):
        with pytest.raises(ConnectorError):
            connector.erase(
                [ErasureStep("call_recordings", update=("x",), update_fields=fields)],
                pseudonymise,
            )


def test_rectify_changes_sidecar_fields_once(seeded: Seeded, tmp_path: Path) -> None:
    root = copy_store(seeded.targets.recordings_dir, tmp_path)
    connector = FileConnector(seeded.system("telephony"), root)
    sidecar = sidecar_files(root)[0]
    call = json.loads(sidecar.read_text(encoding="utf-8"))

    first = connector.rectify("call_recordings", [call["call_id"]], {"agent": "agent-999"})
    second = connector.rectify("call_recordings", [call["call_id"]], {"agent": "agent-999"})

    assert (1, 0) == (first, second)
    assert {**call, "agent": "agent-999"} == json.loads(sidecar.read_text(encoding="utf-8"))
    # A date (objection stamps one) is written as ISO text and compares equal next time.
    when = datetime(2026, 3, 16, 12, 0)
    stamped = [connector.rectify("call_recordings", [call["call_id"]], {"started_at": when})]
    stamped.append(connector.rectify("call_recordings", [call["call_id"]], {"started_at": when}))
    assert [1, 0] == stamped
    assert when.isoformat() == json.loads(sidecar.read_text(encoding="utf-8"))["started_at"]
    with pytest.raises(ConnectorError, match="primary key"):
        connector.rectify("call_recordings", [call["call_id"]], {"call_id": "other"})
    with pytest.raises(ConnectorError, match="declares no field"):
        connector.rectify("call_recordings", [call["call_id"]], {"caller": "x"})


# -- free text -------------------------------------------------------------------------


def notes_system() -> System:
    """A file store of scanned letters whose sidecars hold free text about people."""
    return System.model_validate(
        {
            "key": "letters",
            "name": "Scanned letters",
            "kind": "files",
            "connection_env": "LETTERS_DIR",
            "description": {"en": "Letters.", "nb": "Brev."},
            "datasets": [
                {
                    "name": "letters",
                    "subjects": ["customer"],
                    "files": {
                        "pattern": "letters/*.pdf",
                        "content_category": "user.content",
                        "media_type": "application/pdf",
                    },
                    "fields": [
                        {"name": "letter_id", "primary_key": True},
                        {"name": "sender", "identity": "email"},
                        {"name": "summary", "free_text": True},
                    ],
                }
            ],
        }
    )


def write_letter(root: Path, letter_id: Any, sender: str, summary: str) -> Path:
    """One scanned letter and its sidecar."""
    folder = root / "letters"
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / f"{letter_id}.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + str(letter_id).encode())
    payload = {"letter_id": letter_id, "sender": sender, "summary": summary}
    sidecar_path(pdf).write_text(json.dumps(payload), encoding="utf-8")
    return pdf


def test_mentions_and_e_mail_match_without_regard_to_case(tmp_path: Path) -> None:
    write_letter(tmp_path, 1, "Kari.Nordmann@Example.NO", "Complaint about an invoice.")
    write_letter(tmp_path, 2, "ola@example.no", "Asks us to call KARI.NORDMANN@example.no back.")
    write_letter(tmp_path, 3, "per@example.no", "Phone 912 34 567 noted.")
    write_letter(tmp_path, "four", "liv@example.no", "Nothing about anyone.")
    connector = FileConnector(notes_system(), tmp_path)

    found = connector.locate(
        "letters",
        Criteria(
            exact={"sender": frozenset({"kari.nordmann@example.no"})},
            mentions={"summary": frozenset({"kari.nordmann@example.no", "912 34 567"})},
        ),
    )

    assert {1: {"sender"}, 2: {"summary"}, 3: {"summary"}} == {
        r.key: set(r.matched_fields) for r in found
    }


def test_redaction_blanks_mentions_in_sidecars_once(tmp_path: Path) -> None:
    write_letter(tmp_path, 2, "ola@example.no", "Call KARI@example.no or +47 912 34 567 today.")
    untouched = write_letter(tmp_path, 3, "per@example.no", "Kari@example.no wrote too.")
    before = sidecar_path(untouched).read_bytes()
    connector = FileConnector(notes_system(), tmp_path)
    step = ErasureStep(
        "letters",
        redactions=(
            Redaction("summary", (2,), ("kari@example.no", "912 34 567", "+47 912 34 567")),
        ),
    )

    first = connector.erase([step], pseudonymise)
    second = connector.erase([step], pseudonymise)

    letter = json.loads((tmp_path / "letters" / "2.json").read_text(encoding="utf-8"))
    assert "Call […] or […] today." == letter["summary"]
    assert (0, 0, 1) == (first[0].deleted, first[0].updated, first[0].redacted)
    assert (0, 0, 0) == (second[0].deleted, second[0].updated, second[0].redacted)
    assert before == sidecar_path(untouched).read_bytes()


# -- hostile folders -------------------------------------------------------------------


def test_malformed_sidecars_are_skipped_and_counted(seeded: Seeded, tmp_path: Path) -> None:
    root = copy_store(seeded.targets.recordings_dir, tmp_path)
    connector = FileConnector(seeded.system("telephony"), root)
    customer_id = customers_with(root)[0]
    folder = root / "recordings" / "2099" / "01"
    folder.mkdir(parents=True)
    hostile: dict[str, bytes] = {
        "bad-json": b'{"call_id": "bad-json", "customer_id": ',
        "array": json.dumps([{"call_id": "array", "customer_id": customer_id}]).encode(),
        "no-key": json.dumps({"customer_id": customer_id}).encode(),
        "bool-key": json.dumps({"call_id": True, "customer_id": customer_id}).encode(),
        "nan": b'{"call_id": "nan", "customer_id": NaN}',
        "latin-1": '{"call_id": "latin-1", "agent": "Bjørn"}'.encode("latin-1"),
        "huge": json.dumps({"call_id": "huge", "agent": "x" * (2 * 1024 * 1024)}).encode(),
        "deep": b"[" * 100_000 + b"]" * 100_000,
    }
    for name, content in hostile.items():
        (folder / f"{name}.wav").write_bytes(b"RIFF")
        (folder / f"{name}.json").write_bytes(content)

    found = connector.locate(
        "call_recordings", Criteria(exact={"customer_id": frozenset({customer_id})})
    )
    outcome = connector.erase([ErasureStep("call_recordings", delete=tuple(hostile))], pseudonymise)

    assert ground_truth(seeded.targets, customer_id)[RECORDINGS] == keys(found)
    assert 2 * len(hostile) == connector.skipped_sidecars
    assert 0 == outcome[0].deleted
    assert len(hostile) == len(list(folder.glob("*.json")))


def test_a_file_without_sidecar_is_counted_not_guessed(seeded: Seeded, tmp_path: Path) -> None:
    root = copy_store(seeded.targets.recordings_dir, tmp_path)
    (root / "recordings" / "stray.wav").write_bytes(b"RIFF")
    connector = FileConnector(seeded.system("telephony"), root)
    connector.locate("call_recordings", Criteria(exact={"customer_id": frozenset({1})}))
    assert 1 == connector.files_without_sidecar


def test_links_leading_outside_the_root_are_refused(seeded: Seeded, tmp_path: Path) -> None:
    root = copy_store(seeded.targets.recordings_dir, tmp_path)
    customer_id = customers_with(root)[0]
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.wav"
    secret.write_bytes(b"not yours")
    (outside / "secret.json").write_text(
        json.dumps({"call_id": "leak", "customer_id": customer_id}), encoding="utf-8"
    )
    folder = root / "recordings" / "2026"
    # A recording that is a link to a file elsewhere, with an honest sidecar.
    (folder / "lure.wav").symlink_to(secret)
    (folder / "lure.json").write_text(
        json.dumps({"call_id": "lure", "customer_id": customer_id}), encoding="utf-8"
    )
    # A sidecar that is a link to a file elsewhere, and a linked folder.
    (folder / "leak.json").symlink_to(outside / "secret.json")
    (root / "recordings" / "linked").symlink_to(outside, target_is_directory=True)
    connector = FileConnector(seeded.system("telephony"), root)

    found = connector.locate(
        "call_recordings", Criteria(exact={"customer_id": frozenset({customer_id})})
    )
    exported = list(connector.export_files("call_recordings", ["lure", "leak"]))
    outcome = connector.erase([ErasureStep("call_recordings", delete=("lure",))], pseudonymise)

    truth = ground_truth(seeded.targets, customer_id)[RECORDINGS]
    assert sorted([*truth, "lure"]) == keys(found)
    assert [] == exported
    assert 1 == outcome[0].deleted
    assert b"not yours" == secret.read_bytes()
    assert (outside / "secret.json").exists()
    assert connector.refused_links >= 2


def test_a_missing_root_is_unavailable(seeded: Seeded, tmp_path: Path) -> None:
    connector = FileConnector(seeded.system("telephony"), tmp_path / "unmounted")
    criteria = Criteria(exact={"customer_id": frozenset({1})})
    with pytest.raises(ConnectorUnavailableError) as caught:
        connector.check()
    assert "telephony" == caught.value.system
    with pytest.raises(ConnectorUnavailableError):
        connector.locate("call_recordings", criteria)
    with pytest.raises(ConnectorUnavailableError):
        list(connector.export_files("call_recordings", ["x"]))
    with pytest.raises(ConnectorUnavailableError):
        connector.erase([ErasureStep("call_recordings", delete=("x",))], pseudonymise)


def test_a_root_that_is_a_file_is_unavailable(seeded: Seeded, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x", encoding="utf-8")
    with pytest.raises(ConnectorUnavailableError):
        FileConnector(seeded.system("telephony"), not_a_folder).check()


def test_only_files_systems_are_accepted(seeded: Seeded, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not files"):
        FileConnector(seeded.system("crm"), tmp_path)


def test_an_unreadable_folder_is_unavailable_not_skipped(
    seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_store(seeded.targets.recordings_dir, tmp_path)
    blocked = sorted((root / "recordings").iterdir())[-1]
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        # Root bypasses permission bits, so the refusal is simulated where os.walk asks.
        if Path(path) == blocked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    connector = FileConnector(seeded.system("telephony"), root)
    with pytest.raises(ConnectorUnavailableError, match="Permission denied"):
        connector.locate("call_recordings", Criteria(exact={"customer_id": frozenset({1})}))


def test_a_file_that_cannot_be_deleted_is_unavailable(
    seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_store(seeded.targets.recordings_dir, tmp_path)
    call_id = sorted(root.rglob("*.wav"))[0].stem

    def unlink(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(30, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "unlink", unlink)
    connector = FileConnector(seeded.system("telephony"), root)
    with pytest.raises(ConnectorUnavailableError, match="Read-only file system"):
        connector.erase([ErasureStep("call_recordings", delete=(call_id,))], pseudonymise)


@pytest.mark.parametrize("pattern", ["../elsewhere/*.pdf", "/etc/*.pdf"])
def test_patterns_reaching_outside_the_root_are_refused(tmp_path: Path, pattern: str) -> None:
    system = notes_system()
    dataset = system.datasets[0]
    assert dataset.files is not None
    files = dataset.files.model_copy(update={"pattern": pattern})
    system = system.model_copy(update={"datasets": [dataset.model_copy(update={"files": files})]})
    connector = FileConnector(system, tmp_path)
    with pytest.raises(ConnectorError, match="relative glob inside the root"):
        connector.locate("letters", Criteria(exact={"letter_id": frozenset({1})}))
