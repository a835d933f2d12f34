"""A request's state is a RequestState in Python and one of its values in the database.

The model refuses an unknown state before it is written; the CHECK constraint of
migration 0012 refuses one written any other way. On SQLite the migration rebuilds the
table, which must keep every request and its history.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.store.db import make_engine
from personvern.store.migrate import alembic_config, upgrade_to_head
from personvern.store.models import DataSubjectRequest
from personvern.store.requests import RequestRepository


def _filed(session: Session) -> DataSubjectRequest:
    return RequestRepository(session).add(
        type=RequestType.ACCESS,
        identities=[{"kind": "email", "value": "kari@example.no"}],
        identity_hashes=(),
        subject_key="0" * 64,
        language="nb",
        channel="staff",
        created_by="test",
        deadline=date(2026, 12, 28),
    )


def test_the_state_reads_back_as_a_request_state(session: Session) -> None:
    request_id = _filed(session).id
    session.commit()
    session.expire_all()

    state = session.get(DataSubjectRequest, request_id)
    assert state is not None
    assert state.state is RequestState.RECEIVED


def test_the_model_refuses_a_state_the_lifecycle_does_not_know(session: Session) -> None:
    request = _filed(session)

    with pytest.raises(ValueError, match="finished"):
        request.state = "finished"  # type: ignore[assignment]
    request.state = "verified"  # type: ignore[assignment]
    assert request.state is RequestState.VERIFIED


def test_the_database_refuses_a_state_written_around_the_model(session: Session) -> None:
    request_id = _filed(session).id
    session.commit()

    update = sa.text("UPDATE data_subject_requests SET state = 'finished' WHERE id = :id")
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(update, {"id": request_id})


def test_upgrading_sqlite_keeps_every_request_and_its_history(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/personvern.db"
    engine: Engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0010")
            connection.execute(
                sa.text(
                    "INSERT INTO data_subject_requests (id, type, state, received_at, "
                    "deadline, language, identities, subject_key, channel, created_by, "
                    "details, attempts, updated_at) VALUES ('r1', 'access', 'completed', "
                    "'2026-12-01 10:00:00', '2026-12-31', 'nb', '[]', :key, 'staff', 'test', "
                    "'{}', 1, '2026-12-01 10:00:00')"
                ),
                {"key": "0" * 64},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO request_events (request_id, at, state, actor, message) "
                    "VALUES ('r1', '2026-12-01 10:00:00', 'received', 'test', 'received')"
                )
            )
        upgrade_to_head(engine)
        with engine.connect() as connection:
            assert [("r1", "completed")] == connection.execute(
                sa.text("SELECT id, state FROM data_subject_requests")
            ).all()
            assert 1 == connection.execute(sa.text("SELECT count(*) FROM request_events")).scalar()
            assert [] == connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            assert 1 == connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.text("UPDATE data_subject_requests SET state = 'finished'"))
    finally:
        engine.dispose()
