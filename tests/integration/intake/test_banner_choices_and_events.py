"""Banner choices into the ledger; events stored only with analytics consent. SQLite and PG."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session

from personvern.datamap.loader import load_datamap
from personvern.domain.banner import banner_of
from personvern.domain.consent.ledger import ConsentTextChangedError
from personvern.domain.datamap import DataMap
from personvern.intake import consents
from personvern.intake.banner import record_choice
from personvern.intake.errors import RateLimitedError
from personvern.intake.web_events import collect
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.db import make_engine
from personvern.store.migrate import alembic_config, head_revision, upgrade_to_head
from personvern.store.models import Base, IntakeAttempt
from personvern.store.web_event_models import WebEventRow
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.banner_map import MARKETING_PURPOSE, map_with_marketing

VISITOR = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.85 Safari/537.36"
)


def choose(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    choices: dict[str, bool],
    *,
    visitor: str = VISITOR,
    gpc: bool = False,
    ip: str = "203.0.113.77",
) -> tuple[str, ...]:
    recorded = record_choice(
        session,
        settings,
        datamap,
        visitor_id=visitor,
        version=banner_of(datamap).version,
        language="nb",
        choices=choices,
        gpc=gpc,
        client_ip=ip,
        user_agent=CHROME,
    )
    session.commit()
    return recorded.record_ids


def page_view(
    session: Session, settings: Settings, datamap: DataMap, visitor: str = VISITOR
) -> bool:
    collected = collect(
        session,
        settings,
        datamap,
        visitor_id=visitor,
        event_type="page_view",
        url="https://www.nordicworkspace.example/booking?room=3&email=kari%40example.no",
        referrer="https://search.example/?q=91234567",
        client_ip="2001:db8:abcd:12::1",
        user_agent=CHROME,
    )
    session.commit()
    return collected.stored


def events(session: Session) -> list[WebEventRow]:
    return list(session.scalars(sa.select(WebEventRow)))


def counted(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(IntakeAttempt)) or 0


def test_accepting_records_grants_and_events_are_then_stored_reduced(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    ids = choose(session, settings, datamap, {"analytics": True})
    assert 1 == len(ids)
    found = consents.history(session, settings, datamap, ("cookie_id", VISITOR))
    assert [
        ("service_improvement", "granted", "banner", "web", "203.0.113.0/24", "Chrome 131")
    ] == [
        (r.purpose, r.action, r.source, r.channel, r.ip_prefix, r.user_agent_family)
        for r in found.records
    ]
    assert found.records[0].text_version is not None
    assert found.records[0].language == "nb"
    # The visitor id itself is nowhere in the ledger: only its keyed hash.
    assert VISITOR not in found.records[0].identity_hash

    assert page_view(session, settings, datamap)
    [stored] = events(session)
    assert (
        VISITOR,
        "page_view",
        "https://www.nordicworkspace.example/booking?room=3",
        "https://search.example/",
        "2001:db8:abcd::/48",
        "Chrome 131",
        "web",
    ) == (
        stored.cookie_id,
        stored.event_type,
        stored.url,
        stored.referrer,
        stored.ip_prefix,
        stored.user_agent_family,
        stored.channel,
    )


def test_without_consent_nothing_is_written_at_all(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    choose(session, settings, datamap, {"analytics": True}, visitor=OTHER)
    before = counted(session)
    assert not page_view(session, settings, datamap)
    assert [] == events(session)
    # Not even the rate limit's count: an event without consent leaves no trace.
    assert before == counted(session)


def test_rejecting_records_withdrawals_and_stops_the_collector(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    choose(session, settings, datamap, {"analytics": True})
    assert page_view(session, settings, datamap)
    choose(session, settings, datamap, {"analytics": False})
    history = consents.history(session, settings, datamap, ("cookie_id", VISITOR))
    assert ["granted", "withdrawn"] == [r.action for r in history.records]
    assert not page_view(session, settings, datamap)
    assert 1 == len(events(session))


def test_a_stale_consent_stores_nothing(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    choose(session, settings, datamap, {"analytics": True})
    data = datamap.model_dump()
    purpose = next(p for p in data["purposes"] if p["key"] == "service_improvement")
    purpose["consent"] = {"nb": "Ny tekst.", "en": "New text."}
    reworded = DataMap.model_validate(data)
    assert not page_view(session, settings, reworded)
    # The visitor shown the old banner is asked again.
    with pytest.raises(ConsentTextChangedError):
        record_choice(
            session,
            settings,
            reworded,
            visitor_id=VISITOR,
            version=banner_of(datamap).version,
            language="nb",
            choices={"analytics": True},
            gpc=False,
            client_ip=None,
            user_agent=None,
        )


def test_global_privacy_control_records_a_refusal_of_marketing(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    with_pixel = load_datamap(map_with_marketing(EXAMPLE_DATAMAP, tmp_path / "map")).datamap
    choose(session, settings, with_pixel, {"analytics": True, "marketing": True}, gpc=True)
    history = consents.history(session, settings, with_pixel, ("cookie_id", VISITOR))
    assert {"service_improvement": "granted", MARKETING_PURPOSE: "withdrawn"} == {
        r.purpose: r.action for r in history.records
    }


def test_choices_are_limited_per_client_network(
    session: Session, tmp_path: Path, datamap: DataMap
) -> None:
    from tests.integration.intake.conftest import make_settings

    limited = make_settings(tmp_path / "limited", None, banner_choices_per_client=2)
    choose(session, limited, datamap, {"analytics": True}, ip="198.51.100.1")
    choose(session, limited, datamap, {"analytics": False}, ip="198.51.100.1")
    with pytest.raises(RateLimitedError):
        choose(session, limited, datamap, {"analytics": True}, ip="198.51.100.1")
    session.rollback()
    history = consents.history(session, limited, datamap, ("cookie_id", VISITOR))
    assert 2 == len(history.records)
    # Another network is not held back.
    choose(session, limited, datamap, {"analytics": True}, ip="192.0.2.1")


def test_an_event_too_old_is_refused_before_consent_is_looked_up(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    from personvern.domain.web_events import WebEventError

    with pytest.raises(WebEventError):
        collect(
            session,
            settings,
            datamap,
            visitor_id=VISITOR,
            event_type="click",
            url="/",
            occurred_at=utcnow() - timedelta(days=3),
            client_ip=None,
            user_agent=None,
        )


def test_the_events_migration_matches_the_model_and_undoes(store_url: str) -> None:
    upgrade_to_head(store_url)
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                d for d in compare_metadata(context, Base.metadata) if "web_events" in repr(d)
            ]
        assert [] == differences
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0020-1")
            assert "web_events" not in sa.inspect(connection).get_table_names()
        assert head_revision() == upgrade_to_head(engine)
    finally:
        engine.dispose()
