"""Privacy and organisations: case-insensitive unique names

Revision ID: rel3
Revises: rel2
Create Date: 2026-12-03 13:30:00
"""

from collections.abc import Sequence

revision: str = "rel3"
down_revision: str | None = "rel2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""


def downgrade() -> None:
    """Revert this migration."""
