"""note templates are synced records: the `note_template` table (bundle format 2, §4)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

On every engine: the `note_template` table, the materialized winners of the new record kind (an
activity kind's note template, one record per kind, its id derived from the kind), with the sync
columns every synced table has. On PostgreSQL, its `arrival` identity column, as 0002 gave every
synced table.

Nothing is moved here: the templates the unreleased code before this kept as a local setting
(`note-templates` in `local_state`) are left where they are and no longer read (they were never
released; see store/note_templates.py). A store of this schema is refused, as newer, by a release
before it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "note_template",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rev", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hlc", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("note_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_template_deleted"), ["deleted"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE note_template ADD COLUMN arrival BIGINT GENERATED ALWAYS AS IDENTITY"
        )


def downgrade() -> None:
    with op.batch_alter_table("note_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_template_deleted"))
    op.drop_table("note_template")
