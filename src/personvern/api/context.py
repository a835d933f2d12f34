"""Everything one running app holds: settings, store, data map and authenticators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import LoadedDataMap
from personvern.errors import PersonvernError
from personvern.jobs.queue import JobQueue
from personvern.security.auth import Authenticator
from personvern.settings import Settings
from personvern.store.db import SessionFactory


@dataclass
class AppContext:
    """The app's wiring, built once by create_app and read by the dependencies in deps."""

    settings: Settings
    engine: Engine
    session_factory: SessionFactory
    authenticators: Sequence[Authenticator]
    #: Where the data map was looked for (None if no location could be resolved).
    datamap_path: Path | None = None
    datamap: LoadedDataMap | None = None
    #: Why the data map is missing, when it is; the server runs on without it.
    datamap_error: PersonvernError | None = None
    #: The migration revision applied at start-up, when the app migrated the store itself.
    migrated_to: str | None = field(default=None)
    #: Where request runs go: in-process by default, Celery when a broker is configured.
    jobs: JobQueue | None = field(default=None)
    #: Connectors to the company's systems, kept open between request runs.
    connectors: ConnectorPool = field(default_factory=ConnectorPool)
