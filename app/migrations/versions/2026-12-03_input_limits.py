"""Input hardening: column limits and upsert support

Revision ID: rel2
Revises: rel1
Create Date: 2026-12-03 13:30:00
"""

from collections.abc import Sequence

revision: str = "rel2"
down_revision: str | None = "rel1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""


def downgrade() -> None:
    """Revert this migration."""
