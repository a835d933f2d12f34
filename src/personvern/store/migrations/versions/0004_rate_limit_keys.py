"""rate_limit_keys: one row per counted key, locked so that limits are taken atomically.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table of rate-limit keys."""
    op.create_table(
        "rate_limit_keys",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key_hash", name=op.f("pk_rate_limit_keys")),
    )


def downgrade() -> None:
    """Drop the table of rate-limit keys."""
    op.drop_table("rate_limit_keys")
