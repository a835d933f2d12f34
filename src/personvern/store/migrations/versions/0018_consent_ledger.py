"""consent ledger: append-only consent records and the texts consented to.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from personvern.store.base import UTCDateTime

revision: str = "0018"
# NOTE: 0017 (staff accounts) is made in parallel; the lead re-chains this to "0017".
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create consent_texts and consent_records (both empty)."""
    op.create_table(
        "consent_texts",
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_consent_texts")),
    )
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("identity_kind", sa.String(32), nullable=False),
        sa.Column("identity_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(120), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("text_version", sa.String(64), nullable=True),
        sa.Column("ip_prefix", sa.String(64), nullable=True),
        sa.Column("user_agent_family", sa.String(64), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["text_version"],
            ["consent_texts.version"],
            name=op.f("fk_consent_records_text_version_consent_texts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
        sa.UniqueConstraint("public_id", name=op.f("uq_consent_records_public_id")),
    )
    op.create_index(
        "ix_consent_records_subject", "consent_records", ["identity_hash", "identity_kind"]
    )


def downgrade() -> None:
    """Drop the ledger and its texts."""
    op.drop_index("ix_consent_records_subject", table_name="consent_records")
    op.drop_table("consent_records")
    op.drop_table("consent_texts")
