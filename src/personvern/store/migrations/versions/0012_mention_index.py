"""mention index: keyed hashes of the mentions in free text, and how far each dataset is read.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the mention index's tables (empty: `personvern index build` fills them)."""
    op.create_table(
        "mention_index_states",
        sa.Column("system", sa.String(120), nullable=False),
        sa.Column("dataset", sa.String(120), nullable=False),
        sa.Column("marker", sa.String(120), nullable=False),
        sa.Column("marker_kind", sa.String(16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("rules", sa.String(16), nullable=False),
        sa.Column("key_check", sa.String(32), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("build_id", sa.String(32), nullable=False),
        sa.Column("high_water", sa.String(64), nullable=True),
        sa.Column("newest", sa.String(64), nullable=True),
        sa.Column("records_read", sa.BigInteger(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=True),
        sa.Column("refreshed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("system", "dataset", name=op.f("pk_mention_index_states")),
    )
    op.create_table(
        "mention_index_entries",
        sa.Column("system", sa.String(120), nullable=False),
        sa.Column("dataset", sa.String(120), nullable=False),
        sa.Column("field", sa.String(120), nullable=False),
        sa.Column("hash", sa.String(32), nullable=False),
        sa.Column("row_key", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint(
            "system", "dataset", "field", "hash", "row_key", name=op.f("pk_mention_index_entries")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_mention_index_entries_row",
        "mention_index_entries",
        ["system", "dataset", "row_key"],
    )


def downgrade() -> None:
    """Drop the mention index (a build makes it again)."""
    op.drop_index("ix_mention_index_entries_row", table_name="mention_index_entries")
    op.drop_table("mention_index_entries")
    op.drop_table("mention_index_states")
