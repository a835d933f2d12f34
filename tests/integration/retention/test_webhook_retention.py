"""Retention rules on a webhook system: sent as signed instructions to a real HTTP receiver.

The receiver (a server on 127.0.0.1) implements the ``retention`` operation of
docs/webhook-contract.md on an in-memory mailbox with its own signing code, not the
connector's. The example company's e-mail rule (P3Y from ``sent_at``) is swept as of
a fixed moment: the messages sent three years and more before go, in batches, a
message staff hold stays, and the counts become evidence.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import load_datamap
from personvern.domain.audit.event import AuditAction, AuditActor
from personvern.domain.datamap import DataMap
from personvern.domain.retention.holds import SubjectHold
from personvern.engine.retention.evidence import RetentionEvidence
from personvern.engine.retention.sweep import RetentionSweep, TableStatus
from personvern.engine.retention.webhook_sweep import WebhookPlan
from personvern.store.audit_events import AuditTrail
from personvern.store.db import make_session_factory
from personvern.store.retention_runs import RetentionRecords
from personvern.store.unit_of_work import unit_of_work_factory
from tests.conftest import EXAMPLE_DATAMAP

SECRET = b"retention-receiver-secret-0123456789"
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
#: P3Y in UTC days: due when sent on or before 14 June 2023.
SENT = {
    "m-1": "2023-06-14T23:59:00",
    "m-2": "2023-06-15T00:00:00",
    "m-3": "2021-01-01T08:00:00",
    "m-4": "2022-02-02T08:00:00",
    "m-5": "2022-03-03T08:00:00",
    "m-6": "2026-01-01T08:00:00",
    "m-7": "2020-05-05T08:00:00",
}
HELD = SubjectHold("email.messages", "m-5", "legal claim", "cli:kari", date(2027, 1, 1))


def _signature(direction: str, operation: str, timestamp: str, request_id: str, body: bytes) -> str:
    message = f"personvern-webhook-v1.{direction}.{operation}.{timestamp}.{request_id}.".encode()
    return "sha256=" + hmac.new(SECRET, message + body, hashlib.sha256).hexdigest()


@dataclass
class Mailbox:
    """The receiver's messages and the instructions it was sent."""

    url: str = ""
    sent: dict[str, str] = field(default_factory=lambda: dict(SENT))
    instructions: list[dict[str, Any]] = field(default_factory=list)
    #: Answer with counts that do not fit (a broken receiver).
    lie: bool = False

    def retention(self, body: dict[str, Any]) -> dict[str, Any]:
        """The contract's ``retention`` on the mailbox: count, then change up to ``limit``."""
        self.instructions.append(body)
        cutoff = date.fromisoformat(body["cutoff"])
        keep = set(body["keep"])
        past = sorted(
            (day, key)
            for key, sent in self.sent.items()
            if (day := date.fromisoformat(sent[:10])) <= cutoff
        )
        due = [(day, key) for day, key in past if key not in keep]
        changed = 0
        if not body["dry_run"]:
            for _day, key in due[: body["limit"]]:
                del self.sent[key]
                changed += 1
        return {
            "total": len(SENT) if not self.lie else 1,
            "in_scope": len(self.sent) + changed,
            "due": len(due),
            "held": len(past) - len(due),
            "oldest_due": due[0][0].isoformat() if due else None,
            "changed": changed,
        }


def _handler(mailbox: Mailbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            operation = self.path.rsplit("/", 1)[-1]
            timestamp = self.headers.get("X-Personvern-Timestamp", "")
            request_id = self.headers.get("X-Personvern-Request-Id", "")
            expected = _signature("request", operation, timestamp, request_id, body)
            if operation != "retention" or not hmac.compare_digest(
                expected, self.headers.get("X-Personvern-Signature", "")
            ):
                self.send_error(401)
                return
            answer = json.dumps(mailbox.retention(json.loads(body))).encode()
            now = str(int(time.time()))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.send_header("X-Personvern-Timestamp", now)
            self.send_header(
                "X-Personvern-Signature", _signature("response", operation, now, request_id, answer)
            )
            self.end_headers()
            self.wfile.write(answer)

    return Handler


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """The receiver, serving on a free port of 127.0.0.1 for one test."""
    state = Mailbox()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/pv"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def datamap() -> DataMap:
    """The example company's data map, whose e-mail is a webhook system."""
    return load_datamap(EXAMPLE_DATAMAP).datamap


def _sweep(
    datamap: DataMap, mailbox: Mailbox, pool: ConnectorPool, **options: Any
) -> RetentionSweep:
    options.setdefault("max_share", 1.0)
    return RetentionSweep(
        datamap,
        environ={
            "PERSONVERN_M365_WEBHOOK_URL": mailbox.url,
            "PERSONVERN_M365_WEBHOOK_URL_SECRET": SECRET.decode(),
        },
        pool=pool,
        now=NOW,
        staff_holds=(HELD,),
        **options,
    )


@pytest.fixture
def pool() -> Iterator[ConnectorPool]:
    """Connectors opened by the sweep, closed after the test."""
    opened = ConnectorPool()
    yield opened
    opened.close()


def test_the_dry_run_sends_the_rule_and_reports_the_systems_counts(
    datamap: DataMap, mailbox: Mailbox, pool: ConnectorPool
) -> None:
    plan = _sweep(datamap, mailbox, pool).plan(system="email")

    assert [] == plan.failed
    (table,) = plan.tables
    assert isinstance(table, WebhookPlan)
    # m-1, m-3, m-4, m-7 due; m-5 held by staff; m-2 (the boundary) and m-6 kept.
    assert (7, 4, 1, date(2020, 5, 5)) == (
        table.total,
        table.due,
        table.held_by_staff,
        table.oldest_due,
    )
    (sent,) = mailbox.instructions
    assert {
        "rule": "email",
        "dataset": "messages",
        "trigger_field": "sent_at",
        "trigger_format": None,
        "timezone": "UTC",
        "cutoff": "2023-06-14",
        "condition": None,
        "action": "delete",
        "anonymise": {},
        "keep": ["m-5"],
        "dry_run": True,
        "limit": 0,
    } == sent
    assert SENT == mailbox.sent


def test_the_run_deletes_the_due_records_in_batches_and_keeps_evidence(
    datamap: DataMap, mailbox: Mailbox, pool: ConnectorPool, store_engine: Engine
) -> None:
    unit_of_work = unit_of_work_factory(make_session_factory(store_engine), store_engine.url)

    run = _sweep(datamap, mailbox, pool, batch_size=3).run(
        system="email", record=RetentionEvidence(unit_of_work, AuditActor("cli:kari", via="cli"))
    )

    (outcome,) = run.outcomes
    assert TableStatus.COMPLETED == outcome.status
    assert {"m-2", "m-5", "m-6"} == set(mailbox.sent)
    # The plan, then a full batch of three, then the last one.
    assert [True, False, False] == [i["dry_run"] for i in mailbox.instructions]
    assert outcome.progress is not None
    assert (4, 2) == (outcome.progress.deleted, outcome.progress.batches)
    with unit_of_work() as uow:
        (row,) = RetentionRecords(uow.session).runs(run.run_id)
        events = [
            e.event
            for e in AuditTrail(uow.session).walk()
            if e.event.action == AuditAction.RETENTION_SWEPT
        ]
    assert ("email", "messages", "completed", 4, 1) == (
        row.system,
        row.dataset,
        row.status,
        row.deleted,
        row.held,
    )
    assert ["email.messages"] == [e.detail["table"] for e in events]

    again = _sweep(datamap, mailbox, pool).plan(system="email")
    assert [0] == [t.due for t in again.tables]


def test_the_safety_stop_sends_no_change(
    datamap: DataMap, mailbox: Mailbox, pool: ConnectorPool
) -> None:
    run = _sweep(datamap, mailbox, pool, max_share=0.2).run(system="email")

    (outcome,) = run.outcomes
    assert TableStatus.REFUSED == outcome.status
    assert "would delete 4 of 7 records" in str(outcome.message)
    assert [True] == [i["dry_run"] for i in mailbox.instructions]
    assert SENT == mailbox.sent


def test_counts_that_do_not_fit_fail_the_rule(
    datamap: DataMap, mailbox: Mailbox, pool: ConnectorPool
) -> None:
    mailbox.lie = True

    plan = _sweep(datamap, mailbox, pool).plan(system="email")

    assert [] == plan.tables
    (failed,) = plan.failed
    assert "retention counts that do not fit" in str(failed.message)


def test_a_system_without_its_connection_is_not_swept_in_the_plan_and_fails_the_run(
    datamap: DataMap, pool: ConnectorPool
) -> None:
    sweep = RetentionSweep(datamap, environ={}, pool=pool, now=NOW)

    plan = sweep.plan(system="email")
    run = sweep.run(system="email")

    assert ([], []) == (plan.tables, plan.failed)
    (unswept,) = plan.unswept
    assert ("email", "email.messages") == (unswept.key, unswept.dataset)
    assert "PERSONVERN_M365_WEBHOOK_URL is not set" in unswept.reason
    (outcome,) = run.outcomes
    assert TableStatus.FAILED == outcome.status
    assert "PERSONVERN_M365_WEBHOOK_URL is not set" in str(outcome.message)
