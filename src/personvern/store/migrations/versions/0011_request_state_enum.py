"""request state: only the states the lifecycle knows, checked by the database.

The state column was free text, re-parsed wherever it was read. The model now reads
and writes it as ``RequestState``; the CHECK constraint keeps a bad write from any
other path out too. Batch mode, so SQLite (which rebuilds the table) works as well as
PostgreSQL and MariaDB; personvern.store.migrate turns SQLite's foreign keys off while
the table is rebuilt, else dropping the old table would fail on its history's rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: a migration keeps the states of its day whatever the code
# later calls them.
_STATES = (
    "received",
    "awaiting_verification",
    "verified",
    "in_progress",
    "waiting_for_system",
    "needs_review",
    "completed",
    "partially_completed",
    "rejected",
)
#: The name the naming convention gives the model's constraint ("request_state").
_NAME = "ck_data_subject_requests_request_state"


def upgrade() -> None:
    """Refuse any state the lifecycle does not know."""
    allowed = ", ".join(f"'{state}'" for state in _STATES)
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.create_check_constraint(op.f(_NAME), f"state IN ({allowed})")


def downgrade() -> None:
    """Drop the check."""
    with op.batch_alter_table("data_subject_requests") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
