"""Run progress a person can read: firms placed, the bound on them, mean affinity, phase

Revision ID: rel2
Revises: rel1
Create Date: 2026-12-03 13:30:00

Issue 18 item 6: ``run.best_objective`` (``placed * 10**6 + affinity``) is no longer
written; progress is reported in named columns instead.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rel2"
down_revision: str | None = "rel1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("progress_placed", sa.Integer()),
    ("progress_placed_bound", sa.Integer()),
    ("progress_mean_affinity", sa.Float()),
    ("progress_phase", sa.String(length=16)),
)


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("run") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("run") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
