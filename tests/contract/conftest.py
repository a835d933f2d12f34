"""One system, the same records, in every kind of store a connector serves.

Each parameter of ``store`` puts the records of :data:`CUSTOMERS` into one kind of
store (SQLite, PostgreSQL, MariaDB, a folder of sidecars, a webhook receiver, memory)
and opens the connector for it, so the contract tests ask every connector the same
questions and expect the same answers. A new connector adds its kind here.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from personvern.connectors.port import Connector
from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import System, SystemKind
from personvern.testing.memory import InMemoryConnector
from tests.support.servers import fresh_database
from tests.support.small_company import company_preamble

#: The records every store holds, by key. Kari's address is stored in two letter cases
#: (the same person), 3's address has hers as a suffix and 6's phone is one digit off
#: hers (other people), and 2's and 4's notes mention her.
CUSTOMERS: dict[int, dict[str, Any]] = {
    1: {
        "email": "kari@example.no",
        "phone": "+47 912 34 567",
        "name": "Kari Nordmann",
        "notes": "Ringte om faktura",
    },
    2: {
        "email": "ola.nordmann@example.no",
        "phone": "+4798765432",
        "name": "Ola Nordmann",
        "notes": "Kona heter Kari (kari@example.no); ring 912 34 567",
    },
    3: {
        "email": "ola.kari@example.no",
        "phone": None,
        "name": "Ola Kari",
        "notes": "Skriv til ola.kari@example.no",
    },
    4: {
        "email": None,
        "phone": None,
        "name": "Per Hansen",
        "notes": "Fikk brev fra KARI@EXAMPLE.NO i går",
    },
    5: {"email": "Kari@Example.NO", "phone": None, "name": "Kari N.", "notes": None},
    6: {"email": "nils@example.no", "phone": "91234568", "name": "Nils Berg", "notes": None},
}

KINDS = ("sqlite", "postgresql", "mariadb", "files", "webhook", "memory")

_MAP = (
    company_preamble("Kontrakt AS", "service")
    + """\
systems:
  - key: store
    name: The store
    description: {{en: Where customers are kept}}
    kind: {kind}
    connection_env: CONTRACT_STORE
    datasets:
      - name: customers
        subjects: [customer]
{files}        fields:
          - {{name: id, primary_key: true}}
          - {{name: email, identity: email, category: user.contact.email, purposes: [service]}}
          - {{name: phone, identity: phone_number, category: user.contact.phone_number,
              purposes: [service], erasure: mask}}
          - {{name: name, category: user.name, purposes: [service], erasure: pseudonymise}}
          - {{name: notes, category: user.content, purposes: [service], free_text: true}}
"""
)

_FILES = (
    '        files: {pattern: "customers/*.txt", sidecar: ".json", '
    "content_category: user.content, media_type: text/plain}\n"
)


@dataclass
class Store:
    """A kind of store holding CUSTOMERS, and the connector the contract asks."""

    kind: str
    system: System
    connector: Connector
    #: The file each record carries (files datasets only), by key.
    contents: dict[int, bytes]


def system_of(kind: SystemKind, tmp_path: Path) -> System:
    """The contract's system, declared as ``kind``, loaded through the data map loader."""
    folder = tmp_path / f"map-{kind.value}"
    folder.mkdir()
    files = _FILES if kind is SystemKind.FILES else ""
    (folder / "map.yaml").write_text(_MAP.format(kind=kind.value, files=files), encoding="utf-8")
    system = load_datamap(folder).datamap.system("store")
    assert system is not None
    return system


def _rows() -> list[dict[str, Any]]:
    return [{"id": key, **values} for key, values in CUSTOMERS.items()]


def _sql(url: str) -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "customers",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(40)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text),
    )
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(table.insert(), _rows())
    finally:
        engine.dispose()


def _folder(root: Path) -> dict[int, bytes]:
    contents: dict[int, bytes] = {}
    (root / "customers").mkdir(parents=True)
    for row in _rows():
        content = f"Samtalenotat for kunde {row['id']}\n".encode()
        (root / "customers" / f"{row['id']}.txt").write_bytes(content)
        (root / "customers" / f"{row['id']}.json").write_text(json.dumps(row), encoding="utf-8")
        contents[row["id"]] = content
    return contents


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """CUSTOMERS in one kind of store, and its connector (closed after the test)."""
    from personvern.connectors.registry import connector_for

    kind = str(request.param)
    with ExitStack() as stack:
        contents: dict[int, bytes] = {}
        if kind in ("sqlite", "postgresql", "mariadb"):
            url = (
                f"sqlite:///{tmp_path / 'store.sqlite'}"
                if kind == "sqlite"
                else stack.enter_context(fresh_database(kind))
            )
            _sql(url)
            system_kind = (
                SystemKind.SQLITE
                if kind == "sqlite"
                else SystemKind("postgresql" if kind == "postgresql" else "mysql")
            )
            system = system_of(system_kind, tmp_path)
            connector = connector_for(system, {"CONTRACT_STORE": url})
        elif kind == "files":
            contents = _folder(tmp_path / "files")
            system = system_of(SystemKind.FILES, tmp_path)
            connector = connector_for(system, {"CONTRACT_STORE": str(tmp_path / "files")})
        elif kind == "webhook":
            from personvern.testing.webhook_receiver import serve_webhook_receiver

            system = system_of(SystemKind.WEBHOOK, tmp_path)
            behind = InMemoryConnector(system, {"customers": _rows()})
            secret = secrets.token_hex(32)
            url, _ = stack.enter_context(serve_webhook_receiver(behind, secret.encode()))
            connector = connector_for(
                system, {"CONTRACT_STORE": url, "CONTRACT_STORE_SECRET": secret}
            )
        else:
            system = system_of(SystemKind.SQLITE, tmp_path)
            connector = InMemoryConnector(system, {"customers": _rows()})
        stack.callback(connector.close)
        yield Store(kind, system, connector, contents)
