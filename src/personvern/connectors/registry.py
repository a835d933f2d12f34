"""Which connector serves which system: chosen by the system's kind in the data map."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from personvern.connectors.port import Connector, ConnectorNotConfiguredError
from personvern.domain.datamap import System, SystemKind

_SQL_KINDS = frozenset({SystemKind.POSTGRESQL, SystemKind.MYSQL, SystemKind.SQLITE})


def connector_for(system: System, environ: Mapping[str, str]) -> Connector:
    """A connector for ``system``, configured from the variable its connection_env names."""
    variable = system.connection_env
    target = environ.get(variable, "").strip() if variable else ""
    if not variable or not target:
        raise ConnectorNotConfiguredError(
            f"{system.name} is not connected: {variable or 'connection_env'} is not set",
            hint=f"set {variable} to the system's address, or handle its part by hand",
        )
    if system.kind in _SQL_KINDS:
        from personvern.connectors.sql import SqlConnector

        return SqlConnector(system, target)
    if system.kind is SystemKind.FILES:
        from personvern.connectors.files import FileConnector

        return FileConnector(system, Path(target))
    if system.kind is SystemKind.WEBHOOK:
        from personvern.connectors.webhook import WebhookConnector

        secret = environ.get(f"{variable}_SECRET", "")
        if not secret:
            raise ConnectorNotConfiguredError(
                f"{system.name} has no signing secret: {variable}_SECRET is not set",
                hint="the webhook contract signs every call; share a secret with the system",
            )
        return WebhookConnector(system, target, secret.encode())
    raise ConnectorNotConfiguredError(f"{system.name} ({system.kind.value}) holds no records")


class ConnectorPool:
    """Connectors kept open between requests, one per system and address.

    Opening a connector costs a connection and reading the tables' structure, which is
    most of the work of a small request; a server keeps them for its lifetime.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], Connector] = {}

    def get(self, system: System, environ: Mapping[str, str]) -> Connector:
        """The pooled connector for ``system`` at the address ``environ`` gives it now."""
        address = environ.get(system.connection_env or "", "")
        key = (system.key, address)
        with self._lock:
            connector = self._open.get(key)
            if connector is None:
                connector = connector_for(system, environ)
                self._open[key] = connector
            return connector

    def close(self) -> None:
        """Close every pooled connector."""
        with self._lock:
            for connector in self._open.values():
                connector.close()
            self._open.clear()
