"""Privacy and organisations: case-insensitive unique names, platform flag, key holders

Revision ID: rel3
Revises: rel2
Create Date: 2026-12-03 13:30:00

* ``organisation.is_platform``: the platform operator's organisation, whose admins create
  organisations and issue keys for any organisation.  An existing organisation named
  "Platform" (any case; the README's example) becomes it; otherwise set it with
  ``kring admin create-org NAME --platform``.
* a unique index on ``lower(organisation.name)``; names that already differ only in case
  keep the oldest as it is and get `` (<id>)`` appended.
* ``api_key.holder`` (required): who holds a key, a person or a system; existing keys get
  their label, or "unnamed (issued before holder names)".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rel3"
down_revision: str | None = "rel2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNNAMED = "unnamed (issued before holder names)"
organisation = sa.table(
    "organisation",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("is_platform", sa.Boolean),
)
api_key = sa.table("api_key", sa.column("label", sa.String), sa.column("holder", sa.String))


def _rename_case_duplicates() -> None:
    """Append `` (<id>)`` to every name that differs from an older one only in case."""
    conn = op.get_bind()
    seen: set[str] = set()
    rows = conn.execute(
        sa.select(organisation.c.id, organisation.c.name).order_by(organisation.c.id)
    ).all()
    for org_id, name in rows:
        if name.casefold() in seen:
            suffix = f" ({org_id})"
            name = name[: 200 - len(suffix)] + suffix
            conn.execute(organisation.update().where(organisation.c.id == org_id).values(name=name))
        seen.add(name.casefold())


def upgrade() -> None:
    """Apply this migration.

    Only ``ADD COLUMN`` and ``CREATE INDEX``: no table is recreated, so on SQLite no
    foreign-key action fires on the rows that point at organisations and keys.
    """
    op.add_column(
        "organisation",
        sa.Column("is_platform", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(
        organisation.update()
        .where(sa.func.lower(organisation.c.name) == "platform")
        .values(is_platform=True)
    )
    _rename_case_duplicates()
    op.create_index(
        "uq_organisation_lower_name", "organisation", [sa.text("lower(name)")], unique=True
    )
    op.add_column(
        "api_key",
        sa.Column("holder", sa.String(length=200), server_default=UNNAMED, nullable=False),
    )
    op.execute(api_key.update().where(api_key.c.label.is_not(None)).values(holder=api_key.c.label))


def downgrade() -> None:
    """Revert this migration (renamed duplicate names keep their suffix).

    SQLite (3.35 or newer) drops the columns in place, again without recreating a table.
    """
    op.drop_column("api_key", "holder")
    op.drop_index("uq_organisation_lower_name", table_name="organisation")
    op.drop_column("organisation", "is_platform")
