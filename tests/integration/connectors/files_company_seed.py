"""The files company (tests/unit/domain/requests/files_company.py) in a database and two folders.

Customers and calls go into one SQLite, PostgreSQL or MariaDB database (both SQL
systems' connection variables hold its URL); the recordings and the ID documents go
into two folders, with no sidecars.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.support.servers import fresh_database
from tests.unit.domain.requests.files_company import (
    CONNECTIONS,
    DOCUMENT_FILES,
    RECORDING_FILES,
    rows,
)

metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(120)),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(30)),
)
calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.Integer),
    sa.Column("phone", sa.String(30)),
    sa.Column("started_at", sa.DateTime),
    sa.Column("recording_path", sa.String(300)),
)
_TABLES = {"crm.customers": customers, "telephony.calls": calls}


@dataclass(frozen=True)
class FilesCompany:
    """Where the seeded company is."""

    url: str
    recordings: Path
    documents: Path

    def environ(self) -> dict[str, str]:
        """The connection variables the data map names."""
        return {
            CONNECTIONS["crm"]: self.url,
            CONNECTIONS["telephony"]: self.url,
            CONNECTIONS["recordings"]: str(self.recordings),
            CONNECTIONS["documents"]: str(self.documents),
        }

    def keys(self, dataset: str) -> set[int]:
        """The primary keys left in a table ("crm.customers" or "telephony.calls")."""
        table = _TABLES[dataset]
        key = next(iter(table.primary_key.columns))
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return set(conn.execute(sa.select(key)).scalars())
        finally:
            engine.dispose()

    def files(self, store: str) -> set[str]:
        """The paths of every file left in a store ("recordings" or "documents")."""
        root = self.recordings if store == "recordings" else self.documents
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@contextmanager
def files_company(kind: str, folder: Path) -> Iterator[FilesCompany]:
    """The company seeded afresh in a database of ``kind`` and two folders under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with _database(kind, folder) as url:
        engine = sa.create_engine(url)
        try:
            metadata.create_all(engine)
            with engine.begin() as conn:
                for name, table in _TABLES.items():
                    conn.execute(table.insert(), rows()[name])
        finally:
            engine.dispose()
        company = FilesCompany(url, folder / "recordings", folder / "documents")
        _write(company.recordings, RECORDING_FILES)
        _write(company.documents, DOCUMENT_FILES)
        yield company


def _write(root: Path, files: Mapping[str, bytes]) -> None:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'files-company-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    with fresh_database(kind) as url:
        yield url
