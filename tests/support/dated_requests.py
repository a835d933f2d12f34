"""Requests at known times on a fresh store of each kind (SQLite, PostgreSQL, MariaDB).

Import the fixtures into a test module (``from tests.support.dated_requests import
engine, session``) and file requests with :class:`Requests`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import RequestState, RequestType, waiting_message
from personvern.domain.requests.tasks import PlannedTask, TaskKind
from personvern.security.subject_hash import subject_key
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from personvern.store.models import DataSubjectRequest
from personvern.store.requests import RequestRepository

SECRET = "statistics-test-secret"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb),
    ]
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh store migrated to head, on each of the three databases."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'home' / 'personvern.db'}"
    else:
        url = request.getfixturevalue(request.param)
    upgrade_to_head(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the fresh store."""
    with make_session_factory(engine)() as session:
        yield session


def at(day: date, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    """A moment of ``day`` in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


class Requests:
    """Files requests at known times through the store's own repository."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repository = RequestRepository(session)
        self.filed = 0

    def add(
        self, request_type: RequestType, received: datetime, deadline: date
    ) -> DataSubjectRequest:
        self.filed += 1
        identities = [("email", f"subject{self.filed}@example.no")]
        return self.repository.add(
            type=request_type,
            identities=[{"kind": k, "value": v} for k, v in identities],
            identity_hashes=(),
            subject_key=subject_key(SECRET, identities),
            language="nb",
            channel="public",
            created_by="subject",
            deadline=deadline,
            received_at=received,
        )

    def move(self, request: DataSubjectRequest, *states: RequestState, when: datetime) -> None:
        for state in states:
            self.repository.transition(request, state, f"now {state.value}", "agent", at=when)

    def wait(self, request: DataSubjectRequest, system: str, when: datetime) -> None:
        self.repository.transition(
            request, RequestState.WAITING_FOR_SYSTEM, waiting_message(system), "worker", at=when
        )

    def manual_step(self, request: DataSubjectRequest, key: str, created: datetime) -> None:
        task = self.repository.add_task(
            request.id, PlannedTask(TaskKind.MANUAL_STEP, key, f"do {key} by hand")
        )
        # add_task stamps the clock's time; these requests live in March 2026.
        task.created_at = created
        self.session.flush()
