"""review: the records a stopped request asks a person to decide on, and the decisions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the review (none for requests that never stopped for one)."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.add_column(sa.Column("review", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the review."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.drop_column("review")
