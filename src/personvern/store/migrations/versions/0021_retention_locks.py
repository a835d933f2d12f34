"""retention locks and runs: one run per system at a time, and each run's status.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create retention_locks (a lease per system) and retention_jobs (a row per run)."""
    op.create_table(
        "retention_locks",
        sa.Column("system", sa.String(120), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("taken_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_started_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("system", name=op.f("pk_retention_locks")),
    )
    op.create_table(
        "retention_jobs",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("system", sa.String(120), nullable=True),
        sa.Column("rules", sa.String(2000), nullable=True),
        sa.Column("confirm", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("current_rule", sa.String(120), nullable=True),
        sa.Column("current_table", sa.String(250), nullable=True),
        sa.Column("current_done", sa.Integer(), nullable=True),
        sa.Column("current_due", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_retention_jobs")),
    )
    op.create_index(op.f("ix_retention_jobs_status"), "retention_jobs", ["status"])


def downgrade() -> None:
    """Drop retention_jobs and retention_locks."""
    op.drop_index(op.f("ix_retention_jobs_status"), table_name="retention_jobs")
    op.drop_table("retention_jobs")
    op.drop_table("retention_locks")
