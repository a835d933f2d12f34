"""The table of web and app events personvern collects (POST /api/v1/events).

Only events of visitors whose analytics consent is in the ledger are written, and only
after they are reduced (personvern.domain.web_events): a network, not an IP address; a
browser family, not a user agent; URLs without personal data in their queries. The
visitor is kept by their banner cookie id, as given, so that a request naming that id
(identity kind ``cookie_id``) finds and erases their events like any other dataset's.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from personvern.store.base import Base, UTCDateTime, utcnow


class WebEventRow(Base):
    """One page view or click, reduced before it was written."""

    __tablename__ = "web_events"
    __table_args__ = (
        sa.Index("ix_web_events_cookie_id", "cookie_id"),
        sa.Index("ix_web_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The banner's random first-party visitor id (identity kind cookie_id).
    cookie_id: Mapped[str] = mapped_column(sa.String(64))
    #: page_view or click.
    event_type: Mapped[str] = mapped_column(sa.String(16))
    url: Mapped[str] = mapped_column(sa.String(2048))
    referrer: Mapped[str | None] = mapped_column(sa.String(2048))
    #: What was clicked: a scrubbed link, or an element's id or label.
    resource: Mapped[str | None] = mapped_column(sa.String(2048))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The network the event came from (IPv4 /24, IPv6 /48), never the address.
    ip_prefix: Mapped[str | None] = mapped_column(sa.String(64))
    #: Browser family and major version ("Firefox 133"), never the user-agent string.
    user_agent_family: Mapped[str | None] = mapped_column(sa.String(64))
    #: web or app.
    channel: Mapped[str] = mapped_column(sa.String(8))
