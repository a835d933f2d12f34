"""What every connector shares: use as a context manager, a statement count, no files.

The port (personvern.connectors.port.Connector) says what a connector must do; this
base gives a new connector the parts that are the same everywhere, so a connector
module holds only what is particular to its kind of store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Self

from personvern.connectors.port import ExportedFile, Key
from personvern.domain.datamap import System


class ConnectorBase:
    """Shared behaviour of connectors; subclasses implement the port's other methods."""

    system: System
    #: Questions asked of the store (SQL statements, HTTP calls, folder scans); the
    #: engine adds them up per request and the benchmarks report them.
    statements_issued: int = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def export_files(self, dataset: str, keys: Sequence[Key]) -> Iterator[ExportedFile]:
        """No files: a store that holds files overrides this."""
        return iter(())

    def close(self) -> None:
        """Nothing to release: a store with connections overrides this (idempotently)."""
