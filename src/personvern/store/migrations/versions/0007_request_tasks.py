"""request_tasks: the work a run leaves to people (Art. 19 notifications, manual steps).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tasks table (requests finished before it have no tasks)."""
    op.create_table(
        "request_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done_by", sa.String(200), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["data_subject_requests.id"],
            name=op.f("fk_request_tasks_request_id_data_subject_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_tasks")),
        sa.UniqueConstraint("request_id", "kind", "key", name=op.f("uq_request_tasks_request_id")),
    )
    op.create_index(
        op.f("ix_request_tasks_request_id"), "request_tasks", ["request_id"], unique=False
    )


def downgrade() -> None:
    """Drop the tasks table."""
    op.drop_index(op.f("ix_request_tasks_request_id"), table_name="request_tasks")
    op.drop_table("request_tasks")
