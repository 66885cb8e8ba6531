"""Runs: lease with an attempt number, non-reusing ids, per-organisation numbers

Revision ID: rel1
Revises: pg2
Create Date: 2026-12-03 13:30:00
"""

from collections.abc import Sequence

revision: str = "rel1"
down_revision: str | None = "pg2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""


def downgrade() -> None:
    """Revert this migration."""
