"""Seed the demo company's databases and file stores, once.

Each SQL system is written in one transaction per database, in batches through
``executemany``, and closed with a marker row (``personvern_demo_meta``) recording the
seed and customer count; each file store gets a marker file. The e-mail system's
mailbox (personvern.demo.mailbox, served over the webhook contract) is a SQLite file of
its own and keeps its marker row in the same kind of table there. A re-run with the same
parameters finds the markers and skips those systems; different parameters, a system
whose seeding was interrupted before its marker was written, or one whose tables lack
a column the demo's schema has since gained, re-create it.
Systems re-seeded later reuse the reference date recorded by the others, and the
generator is deterministic, so every system always describes the same customers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Connection, Engine, make_url

from personvern.demo import mailbox, schema
from personvern.demo.errors import DemoError
from personvern.demo.generator import (
    MAILBOX_DATASET,
    CustomerBundle,
    DemoCompanyGenerator,
    Row,
    wav_tone,
)
from personvern.demo.targets import DemoTargets

#: Called as progress(stage, done, total) while seeding.
ProgressCallback = Callable[[str, int, int], None]

#: Suffix of the JSON sidecar beside each file, as the data map's ``files.sidecar`` says:
#: the file's own suffix is replaced (<call_id>.wav -> <call_id>.json).
SIDECAR_SUFFIX = ".json"
#: Marker file in each file store's root; not matched by the data map's globs.
MARKER_FILE = ".personvern-demo.json"
#: The folder inside each file store root that the demo owns (the data map's glob prefix).
FILE_FOLDERS = {"telephony": "recordings", "identity_documents": "identity-documents"}

BATCH_SIZE = 5000
_PROGRESS_EVERY = 100


@dataclass(frozen=True)
class DemoSummary:
    """What the demo company holds after seeding, and what this run did."""

    customers: int
    seed: int
    reference_date: date
    #: Rows (or files) per "system.dataset".
    rows: dict[str, int]
    seeded: tuple[str, ...]
    skipped: tuple[str, ...]
    seconds: float = field(compare=False)


@dataclass(frozen=True)
class _Marker:
    seed: int
    customers: int
    reference_date: date
    rows: dict[str, int]


def sidecar_path(file: Path) -> Path:
    """The JSON sidecar that describes ``file``."""
    return file.with_suffix(SIDECAR_SUFFIX)


def key_fingerprint(key: bytes) -> str:
    """A short non-secret fingerprint of a key, to notice when it was replaced."""
    return hashlib.sha256(key).hexdigest()[:16]


def load_or_create_key(key_file: Path) -> bytes:
    """The demo's Fernet key, created as a 0600 file on first use."""
    if key_file.exists():
        return key_file.read_bytes().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL with mode 0600: the key is never readable by others, not even for a moment.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    return key


def seed_demo_company(
    target: DemoTargets,
    customers: int = 10_000,
    seed: int = 42,
    progress: ProgressCallback | None = None,
    *,
    reference_date: date | None = None,
    batch_size: int = BATCH_SIZE,
) -> DemoSummary:
    """Fill the demo company's systems with ``customers`` customers, skipping seeded ones."""
    if customers < 1:
        raise DemoError("the demo needs at least one customer")
    started = time.perf_counter()
    engines = _engines(target)
    mailbox_engine = _mailbox_engine(target)
    try:
        sql_markers = {
            system: _read_sql_marker(engines[target.url(system)], system)
            for system in schema.SYSTEMS
        }
        sql_markers[mailbox.MAILBOX_SYSTEM] = _read_sql_marker(
            mailbox_engine, mailbox.MAILBOX_SYSTEM, mailbox.metadata
        )
        key = load_or_create_key(target.key_file)
        fingerprints = {"identity_documents": key_fingerprint(key)}
        file_markers = {
            system: _read_file_marker(root, fingerprints.get(system))
            for system, root in target.file_roots.items()
        }
        markers = {**sql_markers, **file_markers}
        done = {
            s: m
            for s, m in markers.items()
            if m is not None and (m.seed, m.customers) == (seed, customers)
        }
        todo = [s for s in markers if s not in done]
        if reference_date is None:
            # Reuse the date the other systems were generated for, so a system seeded
            # later holds exactly the same customers, invoices and calls.
            dates = {m.reference_date for m in done.values()}
            reference_date = dates.pop() if len(dates) == 1 else date.today()
        rows: dict[str, int] = {}
        for marker in done.values():
            rows.update(marker.rows)
        if todo:
            generator = DemoCompanyGenerator(customers, seed, reference_date)
            try:
                written = _seed_systems(
                    target, engines, mailbox_engine, todo, key, generator, batch_size, progress
                )
            except sa.exc.OperationalError as exc:
                raise DemoError(f"a demo database failed while seeding: {exc.orig}") from exc
            rows.update(written)
    finally:
        for engine in engines.values():
            engine.dispose()
        mailbox_engine.dispose()
    return DemoSummary(
        customers=customers,
        seed=seed,
        reference_date=reference_date,
        rows=dict(sorted(rows.items())),
        seeded=tuple(todo),
        skipped=tuple(s for s in markers if s not in todo),
        seconds=time.perf_counter() - started,
    )


def _engines(target: DemoTargets) -> dict[str, Engine]:
    engines: dict[str, Engine] = {}
    for url in dict.fromkeys(target.sql_urls.values()):
        try:
            parsed = make_url(url)
            engines[url] = sa.create_engine(parsed)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
            shown = url.split("://", 1)[0] + "://..."
            raise DemoError(
                f"not a usable database URL ({shown}): {exc}",
                hint="use e.g. postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db",
            ) from exc
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return engines


def _mailbox_engine(target: DemoTargets) -> Engine:
    path = target.mailbox_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(f"sqlite:///{path}")


def _read_sql_marker(
    engine: Engine, system: str, metadata: sa.MetaData | None = None
) -> _Marker | None:
    tables = (metadata or schema.SYSTEMS[system]).sorted_tables
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table(schema.demo_meta.name):
                return None
            row = conn.execute(
                sa.select(schema.demo_meta).where(schema.demo_meta.c.system == system)
            ).one_or_none()
            current = row is not None and all(_has_columns(inspector, t) for t in tables)
    except sa.exc.OperationalError as exc:
        raise DemoError(f"cannot reach the demo database for {system}: {exc.orig}") from exc
    if row is None or not current:
        return None
    reference = row.reference_date
    if isinstance(reference, datetime):
        reference = reference.date()
    return _Marker(row.seed, row.customers, reference, json.loads(row.row_counts))


def _has_columns(inspector: sa.Inspector, table: sa.Table) -> bool:
    """Whether ``table`` exists with every column the demo's schema now gives it.

    A demo seeded by an older personvern lacks the columns added since (such as
    ``crm.customers.country``); such a system is seeded again rather than queried for
    columns it does not have.
    """
    if not inspector.has_table(table.name):
        return False
    present = {column["name"] for column in inspector.get_columns(table.name)}
    return set(table.columns.keys()) <= present


def _read_file_marker(root: Path, fingerprint: str | None) -> _Marker | None:
    path = root / MARKER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not data.get("complete") or data.get("key") != fingerprint:
        return None
    return _Marker(
        int(data["seed"]),
        int(data["customers"]),
        date.fromisoformat(data["reference_date"]),
        {k: int(v) for k, v in data["rows"].items()},
    )


def _prepare_file_store(system: str, root: Path) -> None:
    folder = root / FILE_FOLDERS[system]
    marker = root / MARKER_FILE
    if folder.exists() and not marker.exists() and any(folder.iterdir()):
        # Never delete files the demo did not put there.
        raise DemoError(
            f"{folder} holds files that personvern demo did not create",
            hint="choose another folder or empty this one",
        )
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    marker.write_text(json.dumps({"complete": False}), encoding="utf-8")


def _write_file_marker(
    root: Path, seed: int, customers: int, reference: date, rows: dict[str, int], key: str | None
) -> None:
    data = {
        "complete": True,
        "seed": seed,
        "customers": customers,
        "reference_date": reference.isoformat(),
        "rows": rows,
        "key": key,
    }
    (root / MARKER_FILE).write_text(json.dumps(data, indent=2), encoding="utf-8")


def _recreate_tables(engine: Engine, system: str) -> None:
    metadata = schema.SYSTEMS[system]
    with engine.begin() as conn:
        metadata.drop_all(conn, checkfirst=True)
        metadata.create_all(conn)
        schema.demo_meta_metadata.create_all(conn, checkfirst=True)
        conn.execute(sa.delete(schema.demo_meta).where(schema.demo_meta.c.system == system))


class _FileWriter:
    """Writes recordings and identity documents with their sidecars, creating folders once."""

    def __init__(self, roots: dict[str, Path], key: bytes) -> None:
        self.roots = roots
        self.fernet = Fernet(key)
        self.tones: dict[int, bytes] = {}
        self.folders: set[Path] = set()
        self.counts = dict.fromkeys(roots, 0)

    def _write(self, root: Path, relative: str, content: bytes, metadata: dict[str, Any]) -> None:
        path = root / relative
        if path.parent not in self.folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)
        path.write_bytes(content)
        sidecar = sidecar_path(path)
        sidecar.write_text(json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8")
        # The files carry the time of the call or the scan, as a real store's would, so a
        # retention rule counting from the modification time sees the same age.
        moment = metadata.get("started_at") or metadata.get("collected_at")
        if isinstance(moment, str):
            when = datetime.fromisoformat(moment)
            # The generator's times are naive UTC, as the demo's databases keep them.
            stamp = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
            os.utime(path, (stamp, stamp))
            os.utime(sidecar, (stamp, stamp))

    def write(self, bundle: CustomerBundle) -> None:
        if "telephony" in self.roots:
            for call in bundle.recordings:
                if call.tone_hz not in self.tones:
                    self.tones[call.tone_hz] = wav_tone(call.tone_hz)
                self._write(
                    self.roots["telephony"],
                    call.relative_path,
                    self.tones[call.tone_hz],
                    call.metadata,
                )
                self.counts["telephony"] += 1
        if "identity_documents" in self.roots:
            for document in bundle.documents:
                self._write(
                    self.roots["identity_documents"],
                    document.relative_path,
                    self.fernet.encrypt(document.content),
                    document.metadata,
                )
                self.counts["identity_documents"] += 1


def _recreate_mailbox(engine: Engine) -> None:
    with engine.begin() as conn:
        mailbox.create_tables(conn)
        schema.demo_meta_metadata.create_all(conn, checkfirst=True)
        conn.execute(
            sa.delete(schema.demo_meta).where(schema.demo_meta.c.system == mailbox.MAILBOX_SYSTEM)
        )


def _seed_systems(
    target: DemoTargets,
    engines: dict[str, Engine],
    mailbox_engine: Engine,
    systems: Iterable[str],
    key: bytes,
    generator: DemoCompanyGenerator,
    batch_size: int,
    progress: ProgressCallback | None,
) -> dict[str, int]:
    systems = list(systems)
    sql_systems = [s for s in systems if s in schema.SYSTEMS]
    file_roots = {s: target.file_roots[s] for s in systems if s in target.file_roots}
    # File stores first: refusing a folder of someone else's files must happen before
    # any table is dropped.
    for system, root in file_roots.items():
        _prepare_file_store(system, root)
    for system in sql_systems:
        _recreate_tables(engines[target.url(system)], system)

    # Per database (by URL), its engine; per dataset, its database and table. The
    # mailbox is one more database with one table.
    databases = {target.url(system): engines[target.url(system)] for system in sql_systems}
    datasets = {
        name: (target.url(system), table)
        for name, table in schema.TABLES.items()
        if (system := name.split(".", 1)[0]) in sql_systems
    }
    markers = {system: target.url(system) for system in sql_systems}
    if mailbox.MAILBOX_SYSTEM in systems:
        _recreate_mailbox(mailbox_engine)
        where = f"sqlite:///{target.mailbox_path}"
        databases.setdefault(where, mailbox_engine)
        datasets[MAILBOX_DATASET] = (where, mailbox.messages)
        markers[mailbox.MAILBOX_SYSTEM] = where
    seed, customers, reference = generator.seed, generator.customers, generator.today
    files = _FileWriter(file_roots, key)
    buffers: dict[str, list[Row]] = {name: [] for name in datasets}
    counts = dict.fromkeys(datasets, 0)
    total = generator.total_subjects

    with ExitStack() as stack:
        # One connection and one transaction per database: systems sharing a database
        # (one URL for all) share it, which SQLite needs, as it allows a single writer.
        connections: dict[str, Connection] = {
            url: stack.enter_context(engine.begin()) for url, engine in databases.items()
        }

        def flush() -> None:
            # All tables at once, parents before children, so that foreign keys hold
            # at every batch boundary (invoice lines fill up faster than invoices).
            for name, rows in buffers.items():
                if rows:
                    url, table = datasets[name]
                    connections[url].execute(table.insert(), rows)
                    counts[name] += len(rows)
                    buffers[name] = []

        for done, bundle in enumerate(generator.bundles(), start=1):
            full = False
            for name, rows in bundle.rows.items():
                if name in buffers:
                    buffers[name].extend(rows)
                    full = full or len(buffers[name]) >= batch_size
            if full:
                flush()
            files.write(bundle)
            if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
                progress("seeding", done, total)
        flush()
        now = datetime.now()
        for system, url in markers.items():
            system_rows = {n: c for n, c in counts.items() if n.startswith(f"{system}.")}
            connections[url].execute(
                schema.demo_meta.insert(),
                {
                    "system": system,
                    "seed": seed,
                    "customers": customers,
                    "reference_date": reference,
                    "row_counts": json.dumps(system_rows),
                    "seeded_at": now,
                },
            )

    written = dict(counts)
    fingerprint = key_fingerprint(key)
    for system, root in file_roots.items():
        dataset = f"{system}.{schema.FILE_DATASETS[system]}"
        written[dataset] = files.counts[system]
        _write_file_marker(
            root,
            seed,
            customers,
            reference,
            {dataset: files.counts[system]},
            fingerprint if system == "identity_documents" else None,
        )
    return written
