"""The demo files example requests once, so the console's inbox has work at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from personvern.datamap.loader import load_datamap
from personvern.demo.inbox import FILINGS, demo_addresses, seed_inbox
from personvern.domain.requests.urgency import Urgency, WaitingFor
from personvern.intake.inbox import InboxFilter, inbox
from personvern.settings import Settings
from personvern.store.db import make_engine, make_session_factory
from personvern.store.migrate import upgrade_to_head
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.company import Company, _company

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_the_demo_inbox_holds_an_overdue_and_an_urgent_request_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, datamap=None)
    upgrade_to_head(settings)
    sessions = make_session_factory(make_engine(settings))
    datamap = load_datamap(EXAMPLE_DATAMAP).datamap
    seeded: Company
    with _company("sqlite", f"sqlite:///{tmp_path / 'company.sqlite'}", tmp_path) as seeded:
        addresses = demo_addresses(seeded.targets, len(FILINGS))
    with sessions() as session:
        filed = seed_inbox(session, settings, datamap, addresses, now=NOW)
        session.commit()
        rows = inbox(session, settings, InboxFilter(), today=NOW.date())
        again = seed_inbox(session, settings, datamap, addresses, now=NOW)
    assert len(FILINGS) == len(filed)
    assert [] == again, "a store that holds requests is left alone"
    assert [("objection", Urgency.OVERDUE), ("erasure", Urgency.AT_RISK)] == [
        (row.type.value, row.urgency) for row in rows[:2]
    ]
    assert WaitingFor.APPROVAL is rows[1].waiting_for, "the erasure waits for a second person"
