"""programme managers: profile versions, audit log, review, keep accepted, fill mode

Revision ID: 0003
Revises: sec1
Create Date: 2026-11-23 11:27:42.580416
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "sec1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_key_id"],
            ["api_key.id"],
            name=op.f("fk_audit_entry_actor_key_id_api_key"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_audit_entry_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_org_at", ["organisation_id", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_entry_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "profile_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("scheme_id", sa.String(length=64), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=True),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_key_id"],
            ["api_key.id"],
            name=op.f("fk_profile_version_created_by_key_id_api_key"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_profile_version_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profile.id"],
            name=op.f("fk_profile_version_profile_id_profile"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_version")),
        sa.UniqueConstraint(
            "profile_id", "version", name=op.f("uq_profile_version_profile_id_version")
        ),
    )
    with op.batch_alter_table("profile_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_profile_version_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_profile_version_profile_id"), ["profile_id"], unique=False
        )

    with op.batch_alter_table("group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_by_key_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decision_comment", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_group_decided_by_key_id_api_key"),
            "api_key",
            ["decided_by_key_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("scheme_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("filters", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(
            sa.Column("builtin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("mode", sa.String(length=8), server_default="full", nullable=False)
        )
        batch_op.add_column(sa.Column("keep_accepted_from", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("seed_groups", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_run_keep_accepted_from_run"),
            "run",
            ["keep_accepted_from"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("unassigned_firm", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule", sa.Text(), nullable=True))

    # every existing profile gets its first version
    op.execute(
        "INSERT INTO profile_version (profile_id, version, name, purpose, settings, "
        "organisation_id, created_at) SELECT id, 1, name, purpose, settings, organisation_id, "
        "created_at FROM profile"
    )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("unassigned_firm", schema=None) as batch_op:
        batch_op.drop_column("rule")

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_run_keep_accepted_from_run"), type_="foreignkey")
        batch_op.drop_column("seed_groups")
        batch_op.drop_column("keep_accepted_from")
        batch_op.drop_column("mode")
        batch_op.drop_column("profile_version")

    with op.batch_alter_table("profile", schema=None) as batch_op:
        batch_op.drop_column("builtin")
        batch_op.drop_column("version")
        batch_op.drop_column("filters")
        batch_op.drop_column("scheme_id")
        batch_op.drop_column("description")

    with op.batch_alter_table("group", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_group_decided_by_key_id_api_key"), type_="foreignkey"
        )
        batch_op.drop_column("decision_comment")
        batch_op.drop_column("decided_by_key_id")

    with op.batch_alter_table("profile_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profile_version_profile_id"))
        batch_op.drop_index(batch_op.f("ix_profile_version_organisation_id"))

    op.drop_table("profile_version")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_organisation_id"))
        batch_op.drop_index("ix_audit_entry_org_at")

    op.drop_table("audit_entry")
