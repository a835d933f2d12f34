"""The demo mailbox answers retention instructions: the e-mail rule swept over real HTTP.

The mailbox (personvern.demo.mailbox, served by uvicorn on 127.0.0.1) holds messages
sent at known times around the example company's e-mail rule (P3Y from ``sent_at``);
the sweep runs as of a fixed moment through the real webhook connector.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.registry import ConnectorPool
from personvern.datamap.loader import load_datamap
from personvern.demo.mailbox import create_tables, messages, serve_mailbox
from personvern.domain.retention.holds import SubjectHold
from personvern.engine.retention.sweep import RetentionSweep, TableStatus
from tests.conftest import EXAMPLE_DATAMAP

SECRET = "demo-mailbox-retention-secret-0123456789"
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
#: Naive UTC, as the mailbox keeps them; due when sent on or before 14 June 2023.
SENT = {
    "m-1": datetime(2023, 6, 14, 23, 59),
    "m-2": datetime(2023, 6, 15, 0, 0),
    "m-3": datetime(2020, 1, 1, 8, 0),
    "m-4": datetime(2022, 2, 2, 8, 0),
    "m-5": datetime(2026, 1, 1, 8, 0),
}
HELD = SubjectHold("email.messages", "m-4", "legal claim", "cli:kari", date(2027, 1, 1))


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A mailbox of five messages, served on a free port."""
    path = tmp_path / "mailbox.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        create_tables(conn)
        conn.execute(
            messages.insert(),
            [
                {"message_id": key, "sender": f"{key}@x.example", "body": "hi", "sent_at": sent}
                for key, sent in SENT.items()
            ],
        )
    engine.dispose()
    with serve_mailbox(path, SECRET) as url:
        yield path, url


def _left(path: Path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.select(messages.c.message_id)).scalars())
    finally:
        engine.dispose()


def test_the_demo_mailbox_counts_then_deletes_the_due_messages(
    mailbox: tuple[Path, str],
) -> None:
    path, url = mailbox
    pool = ConnectorPool()
    sweep = RetentionSweep(
        load_datamap(EXAMPLE_DATAMAP).datamap,
        environ={"PERSONVERN_M365_WEBHOOK_URL": url, "PERSONVERN_M365_WEBHOOK_URL_SECRET": SECRET},
        pool=pool,
        now=NOW,
        staff_holds=(HELD,),
        batch_size=1,
        max_share=1.0,
    )
    try:
        (table,) = sweep.plan(system="email").tables
        assert (5, 2, 1, date(2020, 1, 1)) == (
            table.total,
            table.due,
            table.held_by_staff,
            table.oldest_due,
        )
        assert set(SENT) == _left(path)
        run = sweep.run(system="email")
    finally:
        pool.close()

    (outcome,) = run.outcomes
    assert TableStatus.COMPLETED == outcome.status
    assert outcome.progress is not None
    # One message per call: two calls changed one each, the third found nothing left.
    assert (2, 3) == (outcome.progress.deleted, outcome.progress.batches)
    assert {"m-2", "m-4", "m-5"} == _left(path)
