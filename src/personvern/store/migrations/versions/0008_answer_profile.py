"""answer_profile: who answers a request, in which language, decided from the records.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the answer profile (unknown for requests answered before)."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.add_column(sa.Column("answer_profile", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the answer profile."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.drop_column("answer_profile")
