"""Which connector serves which system: one entry per kind of system in the data map.

Each entry says which settings its connector reads (so a missing one is named before
anything is opened) and how to open it. The connector modules are imported only when
a system of their kind is opened: the SQL one pulls in SQLAlchemy and its drivers.
A new kind of store is a connector module (see docs/connectors.md) and one entry here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from personvern.connectors.port import Connector, ConnectorNotConfiguredError
from personvern.domain.datamap import System, SystemKind

if TYPE_CHECKING:
    # Only a type: importing the module pulls in SQLAlchemy.
    from personvern.connectors.table_layouts import TableLayoutCache


@dataclass(frozen=True)
class ConnectorSetting:
    """One environment variable a connector reads, named after the system's connection_env."""

    #: Appended to connection_env ("" for the variable itself, "_SECRET" for its secret).
    suffix: str
    #: What the variable holds, for the message when it is missing.
    holds: str
    #: What to do when it is missing.
    hint: str


@dataclass(frozen=True)
class ConnectorKind:
    """How systems of some kinds are reached."""

    kinds: frozenset[SystemKind]
    settings: tuple[ConnectorSetting, ...]
    #: Opens the connector from the system, its settings' values in order, and where
    #: table layouts are kept between processes (None: nowhere; only SQL uses it).
    open: Callable[[System, tuple[str, ...], TableLayoutCache | None], Connector]


def _open_sql(
    system: System, values: tuple[str, ...], layouts: TableLayoutCache | None
) -> Connector:
    from personvern.connectors.sql import SqlConnector

    return SqlConnector(system, values[0], layouts=layouts)


def _open_files(
    system: System, values: tuple[str, ...], _layouts: TableLayoutCache | None
) -> Connector:
    from personvern.connectors.files import FileConnector

    return FileConnector(system, Path(values[0]))


def _open_webhook(
    system: System, values: tuple[str, ...], _layouts: TableLayoutCache | None
) -> Connector:
    from personvern.connectors.webhook import WebhookConnector

    return WebhookConnector(system, values[0], values[1].encode())


#: Every kind of connector personvern ships, by the system kinds it serves.
CONNECTOR_KINDS: tuple[ConnectorKind, ...] = (
    ConnectorKind(
        frozenset({SystemKind.POSTGRESQL, SystemKind.MYSQL, SystemKind.SQLITE}),
        (ConnectorSetting("", "the database URL", "set it to the database's SQLAlchemy URL"),),
        _open_sql,
    ),
    ConnectorKind(
        frozenset({SystemKind.FILES}),
        (ConnectorSetting("", "the folder", "set it to the folder the files are under"),),
        _open_files,
    ),
    ConnectorKind(
        frozenset({SystemKind.WEBHOOK}),
        (
            ConnectorSetting("", "the receiver's base URL", "set it to the receiver's https URL"),
            ConnectorSetting(
                "_SECRET",
                "signing secret",
                "the webhook contract signs every call; share a secret with the system",
            ),
        ),
        _open_webhook,
    ),
)


def connector_kind(kind: SystemKind) -> ConnectorKind | None:
    """The connector kind serving systems of ``kind`` (None: such systems hold no records)."""
    return next((entry for entry in CONNECTOR_KINDS if kind in entry.kinds), None)


def connector_for(
    system: System,
    environ: Mapping[str, str],
    *,
    layouts: TableLayoutCache | None = None,
) -> Connector:
    """A connector for ``system``, configured from the variables its connection_env names.

    ``layouts`` keeps SQL systems' table layouts between processes, so a new process
    need not reflect the tables again while their schema is unchanged.
    """
    variable = system.connection_env
    entry = connector_kind(system.kind)
    if entry is None:
        raise ConnectorNotConfiguredError(f"{system.name} ({system.kind.value}) holds no records")
    if not variable:
        raise ConnectorNotConfiguredError(
            f"{system.name} is not connected: connection_env is not set",
            hint="name the variable that holds the system's address, or handle it by hand",
        )
    values: list[str] = []
    for setting in entry.settings:
        name = f"{variable}{setting.suffix}"
        value = environ.get(name, "").strip()
        if not value:
            what = "is not connected" if not setting.suffix else f"has no {setting.holds}"
            raise ConnectorNotConfiguredError(
                f"{system.name} {what}: {name} is not set",
                hint=f"{setting.hint}, or handle its part by hand",
            )
        values.append(value)
    return entry.open(system, tuple(values), layouts)


class ConnectorPool:
    """Connectors kept open between requests, one per system and address.

    Opening a connector costs a connection and reading the tables' structure, which is
    most of the work of a small request; a server keeps them for its lifetime. With
    ``layouts``, a new process reads the tables' structure from there while it is
    unchanged (personvern.connectors.table_layouts).
    """

    def __init__(self, layouts: TableLayoutCache | None = None) -> None:
        self.layouts = layouts
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], Connector] = {}

    def get(self, system: System, environ: Mapping[str, str]) -> Connector:
        """The pooled connector for ``system`` at the address ``environ`` gives it now."""
        address = environ.get(system.connection_env or "", "")
        key = (system.key, address)
        with self._lock:
            connector = self._open.get(key)
            if connector is None:
                connector = connector_for(system, environ, layouts=self.layouts)
                self._open[key] = connector
            return connector

    def close(self) -> None:
        """Close every pooled connector."""
        with self._lock:
            for connector in self._open.values():
                connector.close()
            self._open.clear()
