"""personvern deletes its own copies once it no longer needs them, and records that it did.

Before, delivered answer files were never deleted and unverified requests were kept
for ever; the store file and the answers were readable by every user (0644).
"""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.housekeeping import sweep
from personvern.responses.handover import issue_links
from personvern.settings import Settings
from personvern.store.db import make_session_factory, session_scope
from personvern.store.models import (
    DataSubjectRequest,
    IntakeAttempt,
    RequestArtifact,
    RequestEvent,
    VerificationChallenge,
)
from personvern.store.requests import RequestRepository
from tests.support.store import session, store_engine, store_url

__all__ = ["session", "store_engine", "store_url"]

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose home holds the answers' files (the store is the fixture's)."""
    return Settings(home=tmp_path / "home", secret_key="housekeeping-secret-0123456789abcdef")  # type: ignore[arg-type]


def add_request(
    session: Session,
    *,
    state: RequestState,
    received: datetime,
    closed: datetime | None = None,
) -> DataSubjectRequest:
    """A stored request in ``state``; closed ones with ``closed`` as completion time."""
    repository = RequestRepository(session)
    request = repository.add(
        type=RequestType.ACCESS,
        identities=[{"kind": "email", "value": "kari@example.no"}],
        identity_hashes=(),
        subject_key="0" * 64,
        language="nb",
        channel="public",
        created_by="subject",
        deadline=date(2027, 1, 4),
        received_at=received,
    )
    if state is not RequestState.RECEIVED:
        request.state = state.value
    if state is not RequestState.RECEIVED and state is not RequestState.AWAITING_VERIFICATION:
        request.verified_at = received
    request.completed_at = closed
    session.flush()
    return request


def add_answer(session: Session, settings: Settings, request_id: str) -> Path:
    """An answer file of the request in the home, as the engine writes it."""
    folder = settings.home / "requests" / request_id
    folder.mkdir(parents=True)
    path = folder / "export.zip"
    path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    artifact = RequestRepository(session).add_artifact(
        request_id, "export.zip", "application/zip", "a" * 64, path.stat().st_size, "export.zip"
    )
    # Written when its request closed, on the test's clock, not the machine's.
    request = session.get(DataSubjectRequest, request_id)
    assert request is not None
    artifact.created_at = request.completed_at or NOW
    return path


def test_answers_go_after_their_retention_unless_a_link_still_works(
    session: Session, settings: Settings
) -> None:
    old = add_request(
        session,
        state=RequestState.COMPLETED,
        received=NOW - timedelta(days=40),
        closed=NOW - timedelta(days=31),
    )
    linked = add_request(
        session,
        state=RequestState.COMPLETED,
        received=NOW - timedelta(days=40),
        closed=NOW - timedelta(days=31),
    )
    recent = add_request(
        session,
        state=RequestState.COMPLETED,
        received=NOW - timedelta(days=10),
        closed=NOW - timedelta(days=5),
    )
    files = {r.id: add_answer(session, settings, r.id) for r in (old, linked, recent)}
    issue_links(
        session,
        "housekeeping-secret-0123456789abcdef",
        linked.id,
        created_by="api-token:1",
        token_id=None,
        now=NOW - timedelta(days=1),
    )
    session.commit()

    dry = sweep(session, settings, NOW, dry_run=True)
    assert ([old.id], 1) == (dry.answered_requests, dry.answer_files)
    assert all(path.exists() for path in files.values())

    report = sweep(session, settings, NOW)
    session.commit()
    assert [old.id] == report.answered_requests
    assert (False, True, True) == tuple(files[r.id].exists() for r in (old, linked, recent))
    artifact = session.scalars(
        sa.select(RequestArtifact).where(RequestArtifact.request_id == old.id)
    ).one()
    assert NOW == artifact.deleted_at
    assert "a" * 64 == artifact.sha256  # the receipt's proof stays
    last = RequestRepository(session).events(old.id)[-1]
    assert (
        "1 answer file(s) deleted: their retention ended, or the subject's data has since "
        "been erased (their SHA-256 stay in the receipt)",
        "personvern",
    ) == (last.message, last.actor)
    # Nothing left to do the second time.
    assert 0 == sweep(session, settings, NOW).answer_files


def test_unverified_requests_are_purged_with_their_codes_and_history(
    session: Session, settings: Settings
) -> None:
    stale = add_request(
        session, state=RequestState.AWAITING_VERIFICATION, received=NOW - timedelta(days=31)
    )
    session.add(
        VerificationChallenge(
            request_id=stale.id,
            address_hash="h",
            code_hash="c",
            expires_at=NOW - timedelta(days=31),
            attempts=0,
            created_at=NOW - timedelta(days=31),
        )
    )
    fresh = add_request(
        session, state=RequestState.AWAITING_VERIFICATION, received=NOW - timedelta(days=2)
    )
    proven = add_request(session, state=RequestState.VERIFIED, received=NOW - timedelta(days=60))
    session.add(IntakeAttempt(kind="address", key_hash="k", at=NOW - timedelta(hours=25)))
    session.add(IntakeAttempt(kind="address", key_hash="k", at=NOW - timedelta(minutes=5)))
    session.commit()

    report = sweep(session, settings, NOW)
    session.commit()
    assert ([stale.id], 1) == (report.unverified_requests, report.counters)
    remaining = set(session.scalars(sa.select(DataSubjectRequest.id)))
    assert {fresh.id, proven.id} == remaining
    for table in (RequestEvent, VerificationChallenge):
        left = session.scalars(sa.select(table.request_id).where(table.request_id == stale.id))
        assert [] == list(left)
    assert 1 == session.execute(sa.select(sa.func.count()).select_from(IntakeAttempt)).scalar()


def test_the_store_and_the_answers_are_private_to_personvern_s_user(
    tmp_path: Path, personvern_cli: list[str]
) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSONVERN_")}
    env["PERSONVERN_HOME"] = str(home)
    result = subprocess.run(
        [*personvern_cli, "housekeeping", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (
        0,
        "would delete 0 answer file(s) of 0 request(s), 0 unverified request(s), "
        "0 rate-limit counter(s)\n",
    ) == (result.returncode, result.stdout)
    modes = {
        path.name: stat.S_IMODE(path.stat().st_mode) for path in (home, home / "personvern.db")
    }
    assert {"home": 0o700, "personvern.db": 0o600} == modes


def test_a_store_engine_for_sqlite_creates_a_private_file(tmp_path: Path) -> None:
    from personvern.store.db import make_engine

    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'store.db'}")
    with session_scope(make_session_factory(engine)) as s:
        s.execute(sa.text("SELECT 1"))
    engine.dispose()
    assert 0o600 == stat.S_IMODE((tmp_path / "new" / "store.db").stat().st_mode)


def test_a_link_from_a_revoked_token_keeps_nothing_alive(
    session: Session, settings: Settings
) -> None:
    from personvern.domain.roles import Role
    from personvern.security.tokens import issue_token, revoke_token

    old = add_request(
        session,
        state=RequestState.COMPLETED,
        received=NOW - timedelta(days=40),
        closed=NOW - timedelta(days=31),
    )
    path = add_answer(session, settings, old.id)
    token = issue_token(session, name="leaver", role=Role.AGENT, now=NOW - timedelta(days=2))
    issue_links(
        session,
        "housekeeping-secret-0123456789abcdef",
        old.id,
        created_by=f"api-token:{token.info.id}",
        token_id=token.info.id,
        now=NOW - timedelta(days=1),
    )
    session.commit()
    assert 0 == sweep(session, settings, NOW, dry_run=True).answer_files
    revoke_token(session, token.info.id, now=NOW - timedelta(hours=1))
    session.commit()
    assert 1 == sweep(session, settings, NOW).answer_files
    assert not path.exists()


def test_an_erasure_takes_the_subjects_earlier_answers_with_it(
    session: Session, settings: Settings
) -> None:
    answered = add_request(
        session,
        state=RequestState.COMPLETED,
        received=NOW - timedelta(days=3),
        closed=NOW - timedelta(days=2),
    )
    path = add_answer(session, settings, answered.id)
    session.commit()
    assert 0 == sweep(session, settings, NOW, dry_run=True).answer_files
    erasure = add_request(
        session, state=RequestState.COMPLETED, received=NOW - timedelta(days=1), closed=NOW
    )
    erasure.type = RequestType.ERASURE.value
    session.commit()
    report = sweep(session, settings, NOW + timedelta(minutes=1))
    assert ([answered.id], False) == (report.answered_requests, path.exists())
