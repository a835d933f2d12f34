"""personvern's own records swept by `retention run` (SQLite, PostgreSQL, MariaDB store).

Records are made at known ages, far from every boundary: requests closed four and two
years ago, unproven requests of 40 and 10 days, links expired or revoked days ago,
consent proofs superseded four and one year ago (with channels), web events of 14 and
12 months, audit events of six and four years. The dry run counts exactly the due ones,
the safety stop refuses a rule taking most of its table, the confirmed run deletes
exactly them, keeps the consent in force, and `audit verify` still holds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import load_datamap
from personvern.domain.audit.event import AuditAction, AuditActor
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.retention.own_records import own_record_rules
from personvern.engine.retention.evidence import RetentionEvidence
from personvern.engine.retention.own_records import own_table_sweeps
from personvern.engine.retention.sweep import RetentionSweep, TableStatus
from personvern.store.audit_events import AuditTrail
from personvern.store.consent_models import ConsentRecordRow
from personvern.store.db import make_session_factory
from personvern.store.models import (
    DataSubjectRequest,
    DownloadLink,
    RequestArtifact,
    RequestEvent,
    SubjectFlag,
)
from personvern.store.retention_runs import RetentionRecords
from personvern.store.unit_of_work import unit_of_work_factory
from personvern.store.web_event_models import WebEventRow
from tests.integration.retention import sweepco
from tests.support.dated_requests import Requests, engine, session

__all__ = ["engine", "session"]

NOW = datetime.now(UTC)
ACTOR = AuditActor("cli:kari", via="cli")


def _ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def _years(n: float) -> datetime:
    return NOW - timedelta(days=365.25 * n)


def _populate(session: Session, home: Path) -> dict[str, str]:
    """Every kind of own record at a known age; returns the requests' ids by name."""
    trail = AuditTrail(session)
    # The oldest events first: four of six years, one of four, then one of six again,
    # which lies after a kept event and so must stay (only a prefix of the chain goes).
    for at in (_years(6), _years(6), _years(6), _years(6), _years(4), _years(6)):
        trail.record(AuditAction.RETENTION_HOLD_PLACED, ACTOR, detail={"seed": True}, at=at)
    # Enough recent events that four old ones stay under the safety stop's 20 %.
    for _ in range(20):
        trail.record(AuditAction.RETENTION_HOLD_LIFTED, ACTOR, detail={"seed": True}, at=NOW)
    requests = Requests(session)
    deadline = date(2030, 1, 1)
    made = {
        name: requests.add(RequestType.ACCESS, received, deadline)
        for name, received in (
            ("old_closed", _years(4.2)),
            ("recent_closed", _years(2.2)),
            ("open_old", _years(5)),
            ("unproven_old", _ago(days=40)),
            ("unproven_new", _ago(days=10)),
            ("linked", _ago(days=5)),
        )
    }
    for name, closed in (("old_closed", _years(4)), ("recent_closed", _years(2))):
        request = made[name]
        request.state = RequestState.COMPLETED
        request.verified_at = request.received_at
        request.completed_at = closed
    made["open_old"].state = RequestState.IN_PROGRESS
    made["open_old"].verified_at = made["open_old"].received_at
    made["linked"].verified_at = made["linked"].received_at
    made["linked"].state = RequestState.IN_PROGRESS
    made["linked"].linked_request_id = made["old_closed"].id
    old = made["old_closed"].id
    session.add(
        RequestArtifact(
            request_id=old,
            name="report.pdf",
            media_type="application/pdf",
            sha256="0" * 64,
            size=1,
            path="report.pdf",
        )
    )
    folder = home / "requests" / old
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_bytes(b"%PDF")
    # A restriction the old request raised stays in force without it.
    session.add(
        SubjectFlag(
            kind="restriction", identity_kind="email", identity_hash="h" * 64, request_id=old
        )
    )
    recent = made["recent_closed"].id
    for link_id, request_id, expires, revoked in (
        ("l-old", old, _years(4), None),
        ("l-expired", recent, _ago(days=3), None),
        ("l-revoked", recent, _ago(days=-20), _ago(days=2)),
        ("l-live", recent, _ago(days=-5), None),
    ):
        session.add(
            DownloadLink(
                id=link_id,
                request_id=request_id,
                name="report.pdf",
                created_by="t",
                expires_at=expires,
                revoked_at=revoked,
            )
        )
    # (person, purpose, channel, action, at): X's grant superseded by a withdrawal four
    # years ago goes; V's e-mail grant superseded by an all-channel grant goes; the rest
    # stay (in force, superseded too recently, or not covered by the later record).
    for number, (person, channel, action, at) in enumerate(
        (
            ("x", None, "granted", _years(5)),
            ("x", None, "withdrawn", _years(4)),
            ("y", "email", "granted", _years(5)),
            ("y", "sms", "granted", _years(4)),
            ("z", None, "granted", _years(5)),
            ("z", "email", "withdrawn", _years(4)),
            ("w", "email", "granted", _years(5)),
            ("w", None, "withdrawn", _years(1)),
            ("v", "email", "granted", _years(5)),
            ("v", None, "granted", _years(4)),
        )
    ):
        session.add(
            ConsentRecordRow(
                public_id=f"c{number}",
                identity_kind="email",
                identity_hash=person * 64,
                purpose="newsletter",
                action=action,
                at=at,
                source="api",
                channel=channel,
                recorded_by="test",
            )
        )
    for number, months in enumerate((14, 14, 14, 12, 12)):
        session.add(
            WebEventRow(
                cookie_id=f"v{number}",
                event_type="page_view",
                url="https://x.test/",
                occurred_at=_ago(days=30.5 * months),
                channel="web",
            )
        )
    session.commit()
    return {name: request.id for name, request in made.items()}


def _sweep(engine: Engine, tmp_path: Path, home: Path, **options: float) -> RetentionSweep:
    datamap = load_datamap(sweepco.write_datamap(tmp_path / "map", "sqlite")).datamap
    return RetentionSweep(
        datamap,
        environ={},
        pool=ConnectorPool(),
        now=NOW,
        own_records=own_table_sweeps(own_record_rules(), engine, now=NOW, home=home),
        **options,  # type: ignore[arg-type]
    )


def test_own_records_are_swept_with_evidence(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ids = _populate(session, home)
    unit_of_work = unit_of_work_factory(make_session_factory(engine), engine.url)

    plan = _sweep(engine, tmp_path, home).plan("personvern")
    due = {t.rule: (t.due, t.total) for t in plan.tables}
    assert {
        "own-download-links": (3, 4),
        "own-unverified-requests": (1, 6),
        "own-requests": (1, 6),
        "own-consent-proofs": (2, 10),
        "own-web-events": (3, 5),
        "own-audit-events": (4, due["own-audit-events"][1]),
    } == due
    assert [] == plan.failed

    evidence = RetentionEvidence(unit_of_work, ACTOR)
    stopped = _sweep(engine, tmp_path, home).run("personvern", record=evidence)
    refused = {o.rule for o in stopped.stopped}
    # Three of four links and three of five events: more than 20 % without --confirm.
    assert {"own-download-links", "own-web-events"} == refused
    assert 5 == session.scalar(sa.select(sa.func.count()).select_from(WebEventRow))
    session.rollback()  # SQLite: one writer at a time, and the session's read is one

    run = _sweep(engine, tmp_path, home).run("personvern", confirm=True, record=evidence)
    assert {TableStatus.COMPLETED} == {o.status for o in run.outcomes}
    session.expire_all()
    remaining = set(session.scalars(sa.select(DataSubjectRequest.id)))
    assert {ids[n] for n in ("recent_closed", "open_old", "unproven_new", "linked")} == remaining
    assert not (home / "requests" / ids["old_closed"]).exists()
    assert 0 == session.scalar(
        sa.select(sa.func.count()).where(RequestEvent.request_id == ids["old_closed"])
    )
    flag = session.scalars(sa.select(SubjectFlag)).one()
    assert (None, None) == (flag.request_id, flag.lifted_at)
    linked = session.get(DataSubjectRequest, ids["linked"])
    assert linked is not None
    assert linked.linked_request_id is None
    assert ["l-live"] == list(session.scalars(sa.select(DownloadLink.id)))
    kept = set(session.scalars(sa.select(ConsentRecordRow.public_id)))
    assert {f"c{n}" for n in range(10)} - {"c0", "c8"} == kept
    assert 2 == session.scalar(sa.select(sa.func.count()).select_from(WebEventRow))

    trail = AuditTrail(session)
    verdict = trail.verify()
    assert verdict.intact, verdict.broken
    assert 4 == trail.pruned()[0]
    # An anchor of the last deleted event still checks against its kept hash.
    assert trail.pruned()[1] == trail.hash_at(4)
    assert trail.hash_at(3) is None
    first = next(trail.walk())
    assert 5 == first.sequence
    session.rollback()
    # The second run finds nothing more to delete (the sweep's own evidence is new).
    again = _sweep(engine, tmp_path, home).plan("personvern")
    assert {0} == {t.due for t in again.tables}

    with unit_of_work() as uow:
        rows = RetentionRecords(uow.session).runs()
    deleted: dict[tuple[str, str], int] = {}
    for row in rows:
        deleted[row.rule, row.dataset] = deleted.get((row.rule, row.dataset), 0) + row.deleted
    # Both runs: the first refused links and events; the old request took its own link.
    assert {
        ("own-download-links", "download_links", 2),
        ("own-unverified-requests", "data_subject_requests", 1),
        ("own-requests", "data_subject_requests", 1),
        ("own-consent-proofs", "consent_records", 2),
        ("own-web-events", "web_events", 3),
        ("own-audit-events", "audit_events", 4),
    } == {(rule, dataset, count) for (rule, dataset), count in deleted.items()}
    assert {"personvern"} == {r.system for r in rows}


class _KilledError(Exception):
    """Stands for the process dying after a committed batch."""


def test_a_run_killed_mid_table_continues_on_the_next(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    for number in range(7):
        session.add(
            WebEventRow(
                cookie_id=f"v{number}",
                event_type="page_view",
                url="https://x.test/",
                occurred_at=_ago(days=500 + number),
                channel="web",
            )
        )
    session.add(
        WebEventRow(
            cookie_id="kept",
            event_type="click",
            url="https://x.test/",
            occurred_at=_ago(days=10),
            channel="web",
        )
    )
    session.commit()
    unit_of_work = unit_of_work_factory(make_session_factory(engine), engine.url)
    evidence = RetentionEvidence(unit_of_work, ACTOR)

    def die(progress: object) -> None:
        raise _KilledError

    with pytest.raises(_KilledError):
        _sweep(engine, tmp_path, tmp_path / "home", batch_size=3).run(
            "personvern", confirm=True, on_batch=die, record=evidence
        )
    assert 5 == session.scalar(sa.select(sa.func.count()).select_from(WebEventRow))
    session.rollback()

    run = _sweep(engine, tmp_path, tmp_path / "home", batch_size=3).run(
        "personvern", confirm=True, record=evidence
    )
    events = next(o for o in run.outcomes if o.rule == "own-web-events")
    assert (TableStatus.COMPLETED, 4) == (
        events.status,
        events.progress and events.progress.deleted,
    )
    assert ["kept"] == list(session.scalars(sa.select(WebEventRow.cookie_id)))
    session.rollback()
    with unit_of_work() as uow:
        statuses = [
            (r.status, r.deleted)
            for r in RetentionRecords(uow.session).runs()
            if r.rule == "own-web-events"
        ]
    assert [("interrupted", 3), ("completed", 4)] == statuses
