"""Firm contacts for invitations: firm.contact_person, firm.email, firm.phone

Revision ID: wb2
Revises: wb1
Create Date: 2026-12-03 18:30:00

Optional, validated on import (``contactpersoon``, ``email``, ``telefoon``), shown only to
members and managers of the firm's organisation and only with ``consent_to_share``; the
GDPR erasure deletes them with the firm and redacts them from comments and audit entries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "wb2"
down_revision: str | None = "wb1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of ``firm`` on SQLite would fire ON DELETE SET NULL
    # on every group member and unassigned firm that points at it.
    op.add_column("firm", sa.Column("contact_person", sa.String(length=200), nullable=True))
    op.add_column("firm", sa.Column("email", sa.String(length=254), nullable=True))
    op.add_column("firm", sa.Column("phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("firm", "phone")
    op.drop_column("firm", "email")
    op.drop_column("firm", "contact_person")
