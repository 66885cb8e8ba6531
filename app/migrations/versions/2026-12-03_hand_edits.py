"""Hand edits of a run's groups: run.revision and run.proposal, group.locked and
group.edited_at, and the run_edit log

Revision ID: wb1
Revises: rel3
Create Date: 2026-12-03 18:00:00

* ``run.revision``: hand edits applied (0 = the optimiser's proposal);
  ``run.proposal``: that proposal, saved at the first edit so it stays beside the edited one.
* ``group.locked``: no edit touches the group and later runs keep it exactly;
  ``group.edited_at``: when an edit last changed its members.
* ``run_edit``: one row per verified edit (kind, request, effects before/after, who, when).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "wb1"
down_revision: str | None = "rel3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch table rebuild: rebuilding ``run`` or ``group`` on
    # SQLite with foreign keys on fires their ON DELETE CASCADE and empties group_member.
    op.add_column("run", sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("run", sa.Column("proposal", sa.JSON(), nullable=True))
    op.add_column(
        "group", sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("group", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "run_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.Column("by_key_id", sa.Integer(), nullable=True),
        sa.Column("by_holder", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_key_id"],
            ["api_key.id"],
            name=op.f("fk_run_edit_by_key_id_api_key"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_run_edit_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_edit_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_edit")),
        sa.UniqueConstraint("run_id", "revision", name=op.f("uq_run_edit_run_id_revision")),
    )
    op.create_index(op.f("ix_run_edit_run_id"), "run_edit", ["run_id"], unique=False)
    op.create_index(
        op.f("ix_run_edit_organisation_id"), "run_edit", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("run_edit")
    # DROP COLUMN (SQLite >= 3.35), again without rebuilding the tables (see upgrade)
    op.drop_column("group", "edited_at")
    op.drop_column("group", "locked")
    op.drop_column("run", "proposal")
    op.drop_column("run", "revision")
