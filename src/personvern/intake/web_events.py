"""The telemetry collector: store a web or app event only with the visitor's analytics consent.

Consent is read from the ledger: the visitor (their banner cookie id, identity kind
``cookie_id``) must have a grant in force, to the current text, for every purpose of
the banner's analytics category, and no restriction or objection flag may stop it
(the same rules as every decision, personvern.domain.decisions). Without that the
event is dropped: nothing about it is written. With it, the event is reduced first
(personvern.domain.web_events) and only the reduced form is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from personvern.domain.banner import banner_of, category_purposes
from personvern.domain.consent.ledger import current_state
from personvern.domain.datamap import CookieCategory, DataMap, IdentityKind
from personvern.domain.decisions.rules import DecisionReason, decide
from personvern.domain.web_events import EventType, reduce_event
from personvern.intake import rate_limit
from personvern.intake.banner import client_address, network_limits, window
from personvern.intake.consents import facts_of, hashed
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.consents import ConsentLedger
from personvern.store.web_event_models import WebEventRow


@dataclass(frozen=True)
class Collected:
    """Whether the event was stored (it is only with analytics consent), and its id."""

    stored: bool
    id: int | None = None


def analytics_consented(
    session: Session, settings: Settings, datamap: DataMap, visitor_id: str
) -> bool:
    """Whether the visitor's consent to every analytics purpose is in force in the ledger."""
    purposes = [
        p
        for key in category_purposes(banner_of(datamap), CookieCategory.ANALYTICS)
        if (p := datamap.purpose(key)) is not None
    ]
    if not purposes:
        # No analytics purpose can be consented to: nothing may be collected.
        return False
    subject = hashed(settings, datamap, IdentityKind.COOKIE_ID.value, visitor_id)
    ledger = ConsentLedger(session)
    rows = ledger.one_subject(subject.kind, subject.hash, {p.key for p in purposes})
    if not rows.records:
        return False
    facts = facts_of(ledger, subject, rows=rows)
    return all(
        decide(p, current_state(rows.records, p), facts).reason is DecisionReason.CONSENT_GIVEN
        for p in purposes
    )


def collect(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    *,
    visitor_id: str,
    event_type: EventType | str,
    url: str,
    referrer: str | None = None,
    resource: str | None = None,
    occurred_at: datetime | None = None,
    client_ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> Collected:
    """Store one event, reduced, if the visitor consented to analytics; else store nothing.

    The event is checked and reduced before consent is looked up, so a malformed event
    is refused (WebEventError) whether or not the visitor consented. Events to be stored
    are counted per client network (RateLimitedError past ``events_per_client`` per
    window); an event without consent writes nothing, not even a count.
    """
    now = now or utcnow()
    event = reduce_event(
        cookie_id=visitor_id,
        event_type=event_type,
        url=url,
        referrer=referrer,
        resource=resource,
        occurred_at=occurred_at,
        now=now,
        ip=client_address(client_ip),
        user_agent=user_agent,
        countries=sorted({c.country for c in datamap.organization.controllers}),
    )
    if not analytics_consented(session, settings, datamap, visitor_id):
        return Collected(stored=False)
    # Counted only when something is to be written: a refused event leaves no trace.
    rate_limit.take(
        session,
        network_limits(
            settings,
            "events",
            settings.events_per_client,
            client_ip,
            "too many events were sent from your network",
        ),
        window(settings),
        now,
    )
    row = WebEventRow(
        cookie_id=event.cookie_id,
        event_type=event.event_type.value,
        url=event.url,
        referrer=event.referrer,
        resource=event.resource,
        occurred_at=event.occurred_at,
        received_at=now,
        ip_prefix=event.ip_prefix,
        user_agent_family=event.user_agent_family,
        channel=event.channel,
    )
    session.add(row)
    session.flush()
    return Collected(stored=True, id=row.id)
