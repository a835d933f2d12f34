"""The demo company for the worker tests: a data map without e-mail, requests, snapshots."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from personvern.datamap.loader import load_datamap
from personvern.demo import schema
from personvern.demo.seed import FILE_FOLDERS, SIDECAR_SUFFIX
from personvern.demo.targets import DemoTargets
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.store.db import SessionFactory, session_scope
from personvern.store.models import RequestEvent, RequestStep
from personvern.store.requests import RequestRepository
from tests.conftest import EXAMPLE_DATAMAP

#: The sidecar field holding each file dataset's key (as the data map declares it).
FILE_KEYS = {"telephony": "call_id", "identity_documents": "document_id"}


def datamap_without_email(folder: Path) -> Path:
    """A copy of the example data map without the e-mail system and without recipients.

    E-mail is a webhook system the demo runs no server for; with it in the map every
    erasure ends partially completed ("not connected: email"), and so it would with
    recipients to tell (Art. 19 tasks stay open until people have told them). These
    tests are about a worker completing a request, not about the work left to people.
    """
    target = folder / "datamap"
    shutil.copytree(EXAMPLE_DATAMAP, target)
    (target / "systems" / "email.yaml").unlink()
    retention_file = target / "retention.yaml"
    retention = yaml.safe_load(retention_file.read_text(encoding="utf-8"))
    retention["retention"] = [
        rule for rule in retention["retention"] if not rule["dataset"].startswith("email.")
    ]
    retention_file.write_text(yaml.safe_dump(retention, allow_unicode=True), encoding="utf-8")
    (target / "recipients.yaml").write_text("recipients: []\n", encoding="utf-8")
    load_datamap(target)  # fails the test here if the copy is no longer a valid map
    return target


def verified_erasure(session_factory: SessionFactory, email: str) -> str:
    """Store an erasure request for ``email``, already verified by staff; return its id."""
    with session_scope(session_factory) as session:
        repo = RequestRepository(session)
        request = repo.add(
            type=RequestType.ERASURE,
            identities=[{"kind": "email", "value": email}],
            identity_hashes=(),
            subject_key=hashlib.sha256(email.encode()).hexdigest(),
            language="nb",
            channel="staff",
            created_by="test",
            deadline=date.today() + timedelta(days=30),
            details={},
        )
        repo.transition(request, RequestState.VERIFIED, "identity checked by staff", "test")
        return request.id


@dataclass(frozen=True)
class StoredRequest:
    """What the store holds about a request after (part of) a run."""

    state: str
    attempts: int
    plan: dict[str, Any] | None
    receipt: dict[str, Any] | None
    steps: list[str]
    events: list[tuple[str, str]]
    last_error: str | None
    next_attempt_at: object


def stored(session_factory: SessionFactory, request_id: str) -> StoredRequest:
    """Read the request, its steps (in the order done) and its history."""
    with session_scope(session_factory) as session:
        request = RequestRepository(session).get(request_id)
        steps = session.scalars(
            sa.select(RequestStep.step)
            .where(RequestStep.request_id == request_id)
            .order_by(RequestStep.id)
        ).all()
        events = session.execute(
            sa.select(RequestEvent.state, RequestEvent.message)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.id)
        ).all()
        return StoredRequest(
            state=request.state,
            attempts=request.attempts,
            plan=request.plan,
            receipt=request.receipt,
            steps=list(steps),
            events=[(e.state, e.message) for e in events],
            last_error=request.last_error,
            next_attempt_at=request.next_attempt_at,
        )


def customers(targets: DemoTargets, limit: int) -> list[tuple[int, str]]:
    """The first ``limit`` customers, (id, email), by id."""
    engine = sa.create_engine(targets.url("crm"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(schema.customers.c.id, schema.customers.c.email)
                .order_by(schema.customers.c.id)
                .limit(limit)
            )
            return [(row.id, row.email) for row in rows]
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Snapshot:
    """Every row of every demo table by key, and every stored file's SHA-256 by path."""

    #: "system.dataset" -> str(primary key) -> the row's values
    rows: dict[str, dict[str, tuple[Any, ...]]]
    #: "system.dataset" -> str(key) -> relative paths of the record's files
    file_records: dict[str, dict[str, set[str]]]
    #: file store -> relative path -> SHA-256
    files: dict[str, dict[str, str]]


def snapshot(targets: DemoTargets) -> Snapshot:
    """Read everything the demo company holds."""
    rows: dict[str, dict[str, tuple[Any, ...]]] = {}
    engines: dict[str, sa.Engine] = {}
    try:
        for name, table in schema.TABLES.items():
            url = targets.url(name.split(".", 1)[0])
            engine = engines.setdefault(url, sa.create_engine(url))
            pk = next(iter(table.primary_key.columns))
            with engine.connect() as conn:
                rows[name] = {
                    str(row._mapping[pk.name]): tuple(row) for row in conn.execute(table.select())
                }
    finally:
        for engine in engines.values():
            engine.dispose()
    file_records: dict[str, dict[str, set[str]]] = {}
    files: dict[str, dict[str, str]] = {}
    for system, root in targets.file_roots.items():
        files[system] = {
            str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }
        records: dict[str, set[str]] = {}
        for sidecar in (root / FILE_FOLDERS[system]).rglob(f"*{SIDECAR_SUFFIX}"):
            key = str(json.loads(sidecar.read_text(encoding="utf-8"))[FILE_KEYS[system]])
            records[key] = {
                str(path.relative_to(root)) for path in sidecar.parent.glob(f"{sidecar.stem}.*")
            }
        file_records[f"{system}.{schema.FILE_DATASETS[system]}"] = records
    return Snapshot(rows, file_records, files)


def subject_paths(snap: Snapshot, subject: dict[str, set[str]]) -> set[str]:
    """The stored files of the subject's file records (``subject``: dataset -> keys)."""
    return {
        path
        for name, records in snap.file_records.items()
        for key, paths in records.items()
        if key in subject.get(name, set())
        for path in paths
    }


def without(snap: Snapshot, subject: dict[str, set[str]], paths: set[str]) -> Snapshot:
    """The snapshot less the subject's rows (dataset -> keys) and files (``paths``)."""
    rows = {
        name: {k: v for k, v in table.items() if k not in subject.get(name, set())}
        for name, table in snap.rows.items()
    }
    files = {
        system: {p: h for p, h in hashes.items() if p not in paths}
        for system, hashes in snap.files.items()
    }
    return Snapshot(rows, {}, files)
