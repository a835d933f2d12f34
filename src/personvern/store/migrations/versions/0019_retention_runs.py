"""retention runs and holds: evidence of each sweep, and holds staff place on records.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create retention_runs (evidence per rule and table) and retention_holds."""
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("rule", sa.String(120), nullable=False),
        sa.Column("system", sa.String(120), nullable=False),
        sa.Column("dataset", sa.String(120), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("anonymised", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("first_key", sa.String(200), nullable=True),
        sa.Column("last_key", sa.String(200), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("message", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    op.create_index(op.f("ix_retention_runs_run_id"), "retention_runs", ["run_id"])
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(250), nullable=False),
        sa.Column("record_key", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_holds")),
    )
    op.create_index(op.f("ix_retention_holds_dataset"), "retention_holds", ["dataset"])


def downgrade() -> None:
    """Drop retention_holds and retention_runs (the evidence of past sweeps goes with them)."""
    op.drop_index(op.f("ix_retention_holds_dataset"), table_name="retention_holds")
    op.drop_table("retention_holds")
    op.drop_index(op.f("ix_retention_runs_run_id"), table_name="retention_runs")
    op.drop_table("retention_runs")
