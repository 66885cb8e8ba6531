"""firm.weight is an integer (matching.sme.firms reads it as a non-negative integer)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:12:31.518286
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("firm", schema=None) as batch_op:
        batch_op.alter_column(
            "weight",
            existing_type=sa.FLOAT(),
            type_=sa.Integer(),
            existing_nullable=True,
            postgresql_using="round(weight)::integer",
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("firm", schema=None) as batch_op:
        batch_op.alter_column(
            "weight", existing_type=sa.Integer(), type_=sa.FLOAT(), existing_nullable=True
        )
