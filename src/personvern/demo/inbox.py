"""Requests already in the demo's inbox, so the console has something to show at once.

A privacy officer trying the demo should find work waiting: an erasure due in a few
days that needs their approval, an overdue objection, fresh access and portability
requests. They are filed as customer service would file them after checking identity in
person, at dates in the past, for the demo's own (synthetic) customers. Filed once: a
store that holds any request is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.demo.schema import customers
from personvern.demo.targets import DemoTargets
from personvern.domain.datamap import DataMap
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.intake.service import Channel, file_request
from personvern.settings import Settings
from personvern.store.models import DataSubjectRequest

#: Who filed them, as the requests' history shows it.
DEMO_AGENT = "demo:customer-service"


@dataclass(frozen=True)
class DemoFiling:
    """One request the demo files: its type and how many days ago it came in."""

    type: str
    days_ago: int


#: Received 27 days ago: due in about four days. 33 days ago: overdue.
FILINGS: tuple[DemoFiling, ...] = (
    DemoFiling("erasure", 27),
    DemoFiling("objection", 33),
    DemoFiling("access", 6),
    DemoFiling("portability", 2),
)


def demo_addresses(targets: DemoTargets, count: int) -> list[str]:
    """E-mail addresses of the last demo customers (synthetic people).

    The last, not the first: the walkthrough and `/demo/subject` use the first customers,
    whose own requests must not be refused as duplicates of these.
    """
    engine = sa.create_engine(targets.url("crm"))
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.select(customers.c.email)
                .where(customers.c.email.is_not(None))
                .order_by(customers.c.id.desc())
                .limit(count * 4)
            ).scalars()
            return [str(address) for address in found]
    finally:
        engine.dispose()


def seed_inbox(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    addresses: Sequence[str],
    *,
    now: datetime,
) -> list[str]:
    """File :data:`FILINGS` for the first usable addresses; the ids, or [] if any request exists."""
    if session.scalar(sa.select(sa.func.count()).select_from(DataSubjectRequest)):
        return []
    filed: list[str] = []
    usable = iter(addresses)
    for filing in FILINGS:
        for address in usable:
            try:
                made = file_request(
                    session,
                    settings,
                    datamap,
                    type=filing.type,
                    identities=[("email", address)],
                    language=None,
                    channel=Channel.STAFF,
                    actor=DEMO_AGENT,
                    verification_method="staff_in_person",
                    verification_note="identity checked at the front desk (demo)",
                    now=now - timedelta(days=filing.days_ago),
                )
            except InvalidIdentityError:
                # The demo keeps some broken addresses on purpose; skip to the next.
                continue
            filed.append(made.request.id)
            break
    return filed
