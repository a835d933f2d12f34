"""The consent ledger's table on SQLite, PostgreSQL and MariaDB: append, read, never rewrite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditActor
from personvern.domain.consent.ledger import (
    ConsentAction,
    ConsentChannel,
    ConsentRecord,
    ConsentSource,
    ConsentText,
    text_version,
)
from personvern.domain.datamap import IdentityKind
from personvern.store.consent_models import ConsentRecordRow, LedgerIsAppendOnlyError
from personvern.store.consents import CHUNK, LONG_LIST, ConsentLedger
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import alembic_config, head_revision, upgrade_to_head
from personvern.store.models import Base, SubjectFlag

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
TEXT = ConsentText(text_version("Yes, newsletters."), "en", "Yes, newsletters.")
ACTOR = AuditActor("api-token:1", "admin", "api_token")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb),
    ]
)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each of the three databases."""
    if request.param == "sqlite":
        (tmp_path / "home").mkdir()
        return f"sqlite:///{tmp_path / 'home' / 'personvern.db'}"
    url: str = request.getfixturevalue(request.param)
    return url


@pytest.fixture
def session(ledger_url: str) -> Iterator[Session]:
    """A session on the migrated store."""
    upgrade_to_head(ledger_url)
    engine = make_engine(ledger_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def record(
    hashed: str,
    action: ConsentAction,
    minutes: int = 0,
    channel: ConsentChannel | None = ConsentChannel.EMAIL,
    purpose: str = "news",
) -> ConsentRecord:
    return ConsentRecord(
        IdentityKind.EMAIL,
        hashed,
        purpose,
        action,
        T0 + timedelta(minutes=minutes),
        ConsentSource.API,
        channel=channel,
        text_version=TEXT.version if action is ConsentAction.GRANTED else None,
    )


def test_records_are_appended_read_back_in_order_and_audited(session: Session) -> None:
    ledger = ConsentLedger(session)
    first = ledger.add(record("a" * 64, ConsentAction.GRANTED), text=TEXT, recorded_by=ACTOR)
    # Same instant: the insert order decides which is the later word.
    second = ledger.add(record("a" * 64, ConsentAction.WITHDRAWN), text=None, recorded_by=ACTOR)
    ledger.add(record("a" * 64, ConsentAction.GRANTED, 5), text=TEXT, recorded_by=ACTOR)
    ledger.add(record("b" * 64, ConsentAction.GRANTED), text=TEXT, recorded_by=ACTOR)
    session.commit()

    history = ledger.history("email", "a" * 64)
    assert ["granted", "withdrawn", "granted"] == [row.action for row in history]
    assert [first.public_id, second.public_id] == [row.public_id for row in history[:2]]
    assert T0 == history[0].at
    stored = ledger.text(TEXT.version)
    assert stored is not None
    assert ("en", "Yes, newsletters.") == (stored.language, stored.text)
    assert ledger.get(first.public_id) is not None
    assert ledger.get("0" * 32) is None
    events = session.execute(
        sa.text("SELECT action, subject_key FROM audit_events ORDER BY sequence")
    ).all()
    assert 4 == sum(1 for action, _ in events if action == "consent.changed")
    assert {"a" * 64, "b" * 64} == {key for action, key in events if action == "consent.changed"}


def test_the_ledger_cannot_be_rewritten(session: Session) -> None:
    ledger = ConsentLedger(session)
    row = ledger.add(record("a" * 64, ConsentAction.GRANTED), text=TEXT, recorded_by=ACTOR)
    session.commit()
    row.action = "withdrawn"
    with pytest.raises(LedgerIsAppendOnlyError):
        session.flush()
    session.rollback()
    session.delete(session.get(ConsentRecordRow, row.id))
    with pytest.raises(LedgerIsAppendOnlyError):
        session.flush()
    session.rollback()
    assert not any(
        hasattr(ConsentLedger, name) for name in ("update", "delete", "remove", "change")
    )
    assert "granted" == ledger.history("email", "a" * 64)[0].action


@pytest.mark.parametrize(
    ("asked", "step", "selects_expected"),
    [
        # 3 chunks asking who has records, 1 reading theirs, and 3 chunks of flags.
        (CHUNK * 2 + 7, 97, 7),
        # A list longer than the ledger: count, read the ledger's hashes, read the records
        # of those asked about (one chunk); count and read the flags in force.
        (LONG_LIST + 5, 997, 5),
    ],
    ids=["chunked", "longer-than-the-ledger"],
)
def test_many_identities_are_read_in_few_queries(
    session: Session, asked: int, step: int, selects_expected: int
) -> None:
    ledger = ConsentLedger(session)
    hashes = [f"{n:064x}" for n in range(asked)]
    for n, hashed in enumerate(hashes[::step]):
        ledger.add(record(hashed, ConsentAction.GRANTED, n), text=TEXT, recorded_by=ACTOR)
    ledger.add(
        record(hashes[0], ConsentAction.GRANTED, purpose="other"), text=TEXT, recorded_by=ACTOR
    )
    # Someone not asked about, with a record and a flag: never in the answers.
    ledger.add(record("f" * 64, ConsentAction.GRANTED), text=TEXT, recorded_by=ACTOR)
    session.add(SubjectFlag(kind="objection", identity_kind="email", identity_hash="e" * 64))
    session.add(SubjectFlag(kind="objection", identity_kind="email", identity_hash=hashes[1]))
    session.add(
        SubjectFlag(
            kind="restriction", identity_kind="email", identity_hash=hashes[2], lifted_at=T0
        )
    )
    session.commit()

    statements: list[str] = []
    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    found = ledger.records_of("email", hashes, {"news"})
    flags = ledger.flags_of("email", hashes)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects_expected == len(selects), selects
    assert set(hashes[::step]) == set(found)
    assert all(r.purpose == "news" for records in found.values() for r in records)
    assert {hashes[1]: [("objection", None)]} == flags


def test_migration_matches_the_models_and_undoes(ledger_url: str) -> None:
    upgrade_to_head(ledger_url)
    engine = make_engine(ledger_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                d for d in compare_metadata(context, Base.metadata) if "consent" in repr(d)
            ]
        assert [] == differences
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0018-1")
            assert "consent_records" not in sa.inspect(connection).get_table_names()
        assert head_revision() == upgrade_to_head(engine)
    finally:
        engine.dispose()
