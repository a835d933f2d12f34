"""requested_language: the language a subject asked for, apart from the one answered in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the requested language (unknown for requests filed before)."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.add_column(sa.Column("requested_language", sa.String(8), nullable=True))


def downgrade() -> None:
    """Drop the requested language."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.drop_column("requested_language")
