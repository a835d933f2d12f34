"""table_layouts: connected systems' table layouts, by the fingerprint of their schema.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table of kept table layouts."""
    op.create_table(
        "table_layouts",
        sa.Column("system", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("layout", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("system", "fingerprint", name=op.f("pk_table_layouts")),
    )


def downgrade() -> None:
    """Drop the table of kept table layouts."""
    op.drop_table("table_layouts")
