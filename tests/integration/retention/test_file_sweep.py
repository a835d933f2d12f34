"""Sweeps of file stores: exactly the due files go, through the files connector.

The files were written at known ages (os.utime, and dates in their sidecars) around
each rule's boundary day (tests/integration/retention/fileco.py); the sweep runs as of
a fixed moment. Evidence goes to personvern's store on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from personvern.connectors.files import FileConnector
from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import check_datamap
from personvern.domain.audit.event import AuditAction, AuditActor
from personvern.domain.datamap import DataMap
from personvern.domain.retention.holds import SubjectHold
from personvern.domain.retention.rule import sweep_rules
from personvern.engine.retention.evidence import RetentionEvidence
from personvern.engine.retention.file_sweep import FilePlan, FileSweep
from personvern.engine.retention.sweep import RetentionSweep, TableStatus
from personvern.engine.retention.table_sweep import TableProgress
from personvern.store.audit_events import AuditTrail
from personvern.store.db import make_session_factory
from personvern.store.retention_runs import RetentionRecords
from personvern.store.unit_of_work import unit_of_work_factory
from tests.integration.retention import fileco

STAFF_HOLD = SubjectHold("telephony.recordings", "c5", "complaint", "cli:kari", date(2026, 12, 31))
DATASETS = {"recordings": "calls", "documents": "ids", "vouchers": "vouchers"}


@pytest.fixture
def company(tmp_path: Path) -> tuple[DataMap, fileco.Stores]:
    """The data map (it passes `personvern check`) and its three stores, written at NOW."""
    datamap, _source, findings = check_datamap(fileco.write_datamap(tmp_path / "map"))
    assert [] == [f.render() for f in findings if f.finding.is_error]
    assert datamap is not None
    return datamap, fileco.populate(tmp_path / "stores")


@pytest.fixture
def pool() -> Iterator[ConnectorPool]:
    """Connectors opened by the sweep, closed after the test."""
    opened = ConnectorPool()
    yield opened
    opened.close()


def _sweep(
    datamap: DataMap, stores: fileco.Stores, pool: ConnectorPool, **options: object
) -> RetentionSweep:
    options.setdefault("max_share", 1.0)
    return RetentionSweep(
        datamap,
        environ=stores.environ,
        pool=pool,
        now=fileco.NOW,
        staff_holds=(STAFF_HOLD,),
        **options,  # type: ignore[arg-type]
    )


def _keys(stores: fileco.Stores) -> dict[str, set[str]]:
    """The record keys left in each store, read from the names of its files."""
    found = {
        "recordings": stores.files(stores.recordings),
        "documents": stores.files(stores.scans),
        "vouchers": stores.files(stores.vouchers),
    }
    return {name: {Path(p).stem for p in paths} for name, paths in found.items()}


def test_the_dry_run_counts_due_and_held_files_and_changes_nothing(
    company: tuple[DataMap, fileco.Stores], pool: ConnectorPool
) -> None:
    datamap, stores = company
    before = _keys(stores)

    plan = _sweep(datamap, stores, pool).plan()

    assert [] == plan.failed
    by_rule = {t.rule: t for t in plan.tables}
    recordings = by_rule["call-recordings"]
    assert isinstance(recordings, FilePlan)
    # c1, c3 due; c5 held by staff; c6 undated; c7 a link; c2, c4 inside their period.
    assert (7, 2, 1, 1, 1) == (
        recordings.total,
        recordings.due,
        recordings.held_by_staff,
        recordings.undated,
        recordings.refused,
    )
    assert date(2025, 1, 1) == recordings.oldest_due
    assert "started_at" == recordings.trigger
    documents = by_rule["passport-copies"]
    assert isinstance(documents, FilePlan)
    assert (4, 3, 2) == (documents.total, documents.in_scope, documents.due)
    assert "modification time" == documents.trigger
    vouchers = by_rule["vouchers"]
    assert (3, 1, 1, "bokføringsloven § 13") == (
        vouchers.total,
        vouchers.due,
        vouchers.held_by_law,
        vouchers.statutory,
    )
    assert date(2020, 3, 1) == vouchers.oldest_due
    assert before == _keys(stores)


def test_the_run_deletes_exactly_the_due_files_and_a_second_run_finds_none(
    company: tuple[DataMap, fileco.Stores], pool: ConnectorPool
) -> None:
    datamap, stores = company
    outside = stores.recordings.parent / "outside.wav"

    run = _sweep(datamap, stores, pool).run()

    assert [TableStatus.COMPLETED] * 3 == [o.status for o in run.outcomes]
    left = _keys(stores)
    for dataset, kept in stores.kept.items():
        assert kept == left[dataset], dataset
        assert set() == stores.gone[dataset] & left[dataset]
    # Sidecars went with their files; the link's target outside the store is untouched.
    assert not (stores.recordings / "calls" / "c1.json").exists()
    assert outside.read_bytes() == b"someone else's file"
    deleted = {o.rule: o.progress.deleted for o in run.outcomes if o.progress}
    assert {"call-recordings": 2, "passport-copies": 2, "vouchers": 1} == deleted

    again = _sweep(datamap, stores, pool).plan()
    assert [0, 0, 0] == [t.due for t in again.tables]


def test_a_file_changed_since_the_plan_is_not_deleted(
    company: tuple[DataMap, fileco.Stores], pool: ConnectorPool
) -> None:
    datamap, stores = company
    rules, _ = sweep_rules(datamap)
    rule = next(r for r in rules if r.key == "call-recordings")
    connector = FileConnector(datamap.system("telephony"), stores.recordings, recheck_after=0)  # type: ignore[arg-type]
    sweep = FileSweep(rule, connector, today=fileco.NOW.date())
    plan = sweep.plan()
    assert 3 == plan.due  # no staff hold given here: c1, c3, c5
    # After the plan, c3's recording is re-written and c5's sidecar rectified.
    (stores.recordings / "calls" / "c3.wav").write_bytes(b"a new take")
    sidecar = stores.recordings / "calls" / "c5.json"
    data = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**data, "phone": "+4799999999"}))

    progress = sweep.run(TableProgress(rule.key, rule.target, plan.due), batch_size=10)

    assert (3, 1, "c1") == (progress.done, progress.deleted, progress.first_key)
    left = _keys(stores)["recordings"]
    assert {"c3", "c5"} <= left
    assert "c1" not in left
    # The next plan judges them afresh: both are still due by their sidecar's date.
    assert 2 == FileSweep(rule, connector, today=fileco.NOW.date()).plan().due


def test_the_safety_stop_refuses_a_rule_that_would_delete_most_of_a_store(
    company: tuple[DataMap, fileco.Stores], pool: ConnectorPool
) -> None:
    datamap, stores = company
    before = _keys(stores)

    run = _sweep(datamap, stores, pool, max_share=0.2).run(system="scans")

    (outcome,) = run.outcomes
    assert TableStatus.REFUSED == outcome.status
    assert "would delete 2 of 4 files (50%)" in str(outcome.message)
    assert before == _keys(stores)
    confirmed = _sweep(datamap, stores, pool, max_share=0.2).run(system="scans", confirm=True)
    assert [TableStatus.COMPLETED] == [o.status for o in confirmed.outcomes]
    assert stores.kept["documents"] == _keys(stores)["documents"]


class _StopError(Exception):
    """Stands for a kill between batches."""


def test_a_run_stopped_between_batches_continues_on_the_next_run(
    company: tuple[DataMap, fileco.Stores], pool: ConnectorPool
) -> None:
    datamap, stores = company
    seen: list[int] = []

    def stop_after_first(progress: TableProgress) -> None:
        seen.append(progress.deleted)
        raise _StopError

    with pytest.raises(_StopError):
        _sweep(datamap, stores, pool, batch_size=1).run(
            system="telephony", on_batch=stop_after_first
        )

    assert [1] == seen
    assert 1 == len(stores.gone["recordings"] & _keys(stores)["recordings"])
    run = _sweep(datamap, stores, pool, batch_size=1).run(system="telephony")
    assert [1] == [o.progress.deleted for o in run.outcomes if o.progress]
    assert stores.kept["recordings"] == _keys(stores)["recordings"]


def test_a_link_to_a_folder_outside_the_store_is_not_followed(
    company: tuple[DataMap, fileco.Stores], pool: ConnectorPool, tmp_path: Path
) -> None:
    datamap, stores = company
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    old = (stores.recordings / "calls" / "c3.wav").stat().st_mtime
    for name, content in (
        ("x1.wav", b"x"),
        ("x1.json", b'{"call_id": "x1", "started_at": "2020-01-01"}'),
    ):
        (elsewhere / name).write_bytes(content)
        os.utime(elsewhere / name, (old, old))
    (stores.recordings / "calls" / "linked").symlink_to(elsewhere, target_is_directory=True)

    _sweep(datamap, stores, pool).run(system="telephony")

    assert {"x1.wav", "x1.json"} == {p.name for p in elsewhere.iterdir()}


def test_each_file_rule_leaves_a_row_and_an_audit_event(
    company: tuple[DataMap, fileco.Stores], pool: ConnectorPool, store_engine: Engine
) -> None:
    datamap, stores = company
    unit_of_work = unit_of_work_factory(make_session_factory(store_engine), store_engine.url)

    run = _sweep(datamap, stores, pool).run(
        record=RetentionEvidence(unit_of_work, AuditActor("cli:kari", via="cli"))
    )

    with unit_of_work() as uow:
        rows = {r.rule: r for r in RetentionRecords(uow.session).runs(run.run_id)}
        trail = AuditTrail(uow.session)
        events = [e.event for e in trail.walk() if e.event.action == AuditAction.RETENTION_SWEPT]
        assert trail.verify().broken is None
    recordings = rows["call-recordings"]
    assert ("telephony", "recordings", "completed", 2, 1) == (
        recordings.system,
        recordings.dataset,
        recordings.status,
        recordings.deleted,
        recordings.held,
    )
    assert ("c1", "c3") == (recordings.first_key, recordings.last_key)
    assert 1 == rows["vouchers"].held
    assert {"telephony.recordings", "scans.documents", "ledger.vouchers"} == {
        e.detail["table"] for e in events if e.detail.get("run_id") == run.run_id
    }
