"""staff preferences: settings a member of staff keeps across browsers (the console language).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create staff_preferences (one row per staff principal's subject)."""
    op.create_table(
        "staff_preferences",
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_staff_preferences")),
    )


def downgrade() -> None:
    """Drop staff_preferences (every saved console language goes with it)."""
    op.drop_table("staff_preferences")
