"""web events: page views and clicks collected with analytics consent, reduced.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0020"
# NOTE: made in parallel with 0019; the lead re-chains this after whatever comes last.
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create web_events (empty)."""
    op.create_table(
        "web_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cookie_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(16), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("referrer", sa.String(2048), nullable=True),
        sa.Column("resource", sa.String(2048), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("ip_prefix", sa.String(64), nullable=True),
        sa.Column("user_agent_family", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_events")),
    )
    op.create_index("ix_web_events_cookie_id", "web_events", ["cookie_id"])
    op.create_index("ix_web_events_occurred_at", "web_events", ["occurred_at"])


def downgrade() -> None:
    """Drop the events."""
    op.drop_index("ix_web_events_occurred_at", table_name="web_events")
    op.drop_index("ix_web_events_cookie_id", table_name="web_events")
    op.drop_table("web_events")
