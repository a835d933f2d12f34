"""Evidence of sweeps in personvern's store (SQLite and PostgreSQL) and its audit trail."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import load_datamap
from personvern.domain.audit.event import AuditAction, AuditActor, AuditOutcome
from personvern.domain.retention.holds import SubjectHold
from personvern.engine.retention.evidence import RetentionEvidence
from personvern.engine.retention.sweep import RetentionSweep
from personvern.store.audit_events import AuditTrail
from personvern.store.db import make_session_factory
from personvern.store.retention_runs import RetentionRecords
from personvern.store.unit_of_work import unit_of_work_factory
from tests.integration.retention import sweepco

ACTOR = AuditActor("cli:kari", via="cli")


def test_each_table_leaves_a_row_and_an_audit_event(store_engine: Engine, tmp_path: Path) -> None:
    shop = f"sqlite:///{tmp_path / 'shop.db'}"
    sweepco.populate(shop, extra_events=6)
    datamap = load_datamap(sweepco.write_datamap(tmp_path / "map", "sqlite")).datamap
    unit_of_work = unit_of_work_factory(make_session_factory(store_engine), store_engine.url)
    pool = ConnectorPool()
    try:
        run = RetentionSweep(
            datamap,
            environ={"SWEEPCO_SHOP_URL": shop},
            pool=pool,
            now=sweepco.NOW,
            max_share=0.6,
        ).run(record=RetentionEvidence(unit_of_work, ACTOR))
    finally:
        pool.close()

    with unit_of_work() as uow:
        rows = RetentionRecords(uow.session).runs(run.run_id)
        trail = AuditTrail(uow.session)
        events = [e for e in trail.walk() if e.event.action == AuditAction.RETENTION_SWEPT]
        assert trail.verify().broken is None
    assert [o.rule for o in run.outcomes] == [r.rule for r in rows]
    by_rule = {r.rule: r for r in rows}
    payments = by_rule["payments"]
    assert ("completed", 2, 0, "100", "101", "cli:kari") == (
        payments.status,
        payments.deleted,
        payments.anonymised,
        payments.first_key,
        payments.last_key,
        payments.started_by,
    )
    assert payments.started_at <= payments.finished_at
    invoices = by_rule["invoices"]
    # 10, 11 and 15 (no staff hold here) go; 12 and 13 are held by bokføringsloven.
    assert (3, 2) == (invoices.deleted, invoices.held)
    refused = by_rule["web-events"]
    assert ("refused", 0) == (refused.status, refused.deleted)
    assert "more than the 60% allowed without confirmation" in str(refused.message)
    assert len(rows) == len(events)
    outcomes = {e.event.detail["rule"]: e.event.outcome for e in events}
    assert AuditOutcome.DENIED == outcomes["web-events"]
    assert AuditOutcome.SUCCESS == outcomes["payments"]
    assert {"cli:kari"} == {e.event.actor.subject for e in events}


def test_holds_are_kept_until_they_expire(store_engine: Engine) -> None:
    unit_of_work = unit_of_work_factory(make_session_factory(store_engine), store_engine.url)
    today = date(2026, 6, 15)
    with unit_of_work() as uow:
        records = RetentionRecords(uow.session)
        records.place_hold(
            SubjectHold("shop.invoices", "15", "dispute", "cli:kari", today),
            at=sweepco.NOW,
        )
        records.place_hold(
            SubjectHold("shop.invoices", "16", "claim", "cli:kari", None), at=sweepco.NOW
        )
    with unit_of_work() as uow:
        records = RetentionRecords(uow.session)
        assert {"15", "16"} == {h.record_key for h in records.holds(today)}
        assert ["16"] == [h.record_key for h in records.holds(today + timedelta(days=1))]
