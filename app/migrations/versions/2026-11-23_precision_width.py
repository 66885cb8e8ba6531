"""firm.precision holds "coordinates" (11 characters): widen it for PostgreSQL

SQLite ignores VARCHAR lengths, so the value fitted there; PostgreSQL enforces them.

Revision ID: pg1
Revises: 0003
Create Date: 2026-11-23 12:08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pg1"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("firm", schema=None) as batch_op:
        batch_op.alter_column(
            "precision", existing_type=sa.String(8), type_=sa.String(16), existing_nullable=False
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("firm", schema=None) as batch_op:
        batch_op.alter_column(
            "precision", existing_type=sa.String(16), type_=sa.String(8), existing_nullable=False
        )
