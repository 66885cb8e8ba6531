"""Celery executor: run.heartbeat_at (lease) and run_window (plan, lease, result per window)

Revision ID: pg2
Revises: pg1
Create Date: 2026-11-23 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pg2"
down_revision: str | None = "pg1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "run_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_window_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_window")),
        sa.UniqueConstraint("run_id", "number", name=op.f("uq_run_window_run_id_number")),
    )
    with op.batch_alter_table("run_window", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_window_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("run_window", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_window_run_id"))
    op.drop_table("run_window")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
