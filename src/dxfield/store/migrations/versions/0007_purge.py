"""an attachment's content can be purged on request: the `purge` table (bundle format 2, §4)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

On every engine: the `purge` table, the materialized winners of the new record kind (the hub's
erasure of one attachment's content and personal fields, one record per attachment, its id
derived from the attachment's), with the sync columns every synced table has. On PostgreSQL, its
`arrival` identity column, as 0002 gave every synced table.

Nothing is moved: no release ever wrote an attachment, so there is nothing to purge yet. A store
of this schema is refused, as newer, by a release before it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "purge",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rev", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hlc", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("attachment_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purge_deleted"), ["deleted"], unique=False)
        batch_op.create_index(batch_op.f("ix_purge_attachment_id"), ["attachment_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE purge ADD COLUMN arrival BIGINT GENERATED ALWAYS AS IDENTITY")


def downgrade() -> None:
    with op.batch_alter_table("purge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purge_attachment_id"))
        batch_op.drop_index(batch_op.f("ix_purge_deleted"))
    op.drop_table("purge")
