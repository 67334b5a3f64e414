"""a hub keeps its attachments' content in its database: the `blob` and `blob_chunk` tables

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

On every engine: `blob` (one row per SHA-256 kept: its size, when it was kept) and `blob_chunk`
(its bytes, 1 MiB a row, in order). A hub on PostgreSQL keeps every attachment's content there,
in the transaction that writes the records naming it (store/blobs.py, `TableBlobs`), so that all
its accounts see the same files. A laptop's SQLite store gets the tables too and leaves them
empty (its content stays in `blobs/` of its data folder): one migration for both engines.

Nothing is moved: a hub's blobs kept in an account's data folder before this schema are taken
into the tables by `dxfield prune` on the hub (docs/architecture.md). A store of this schema is
refused, as newer, by a release before it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blob",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "blob_chunk",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["blob.sha256"]),
        sa.PrimaryKeyConstraint("sha256", "seq"),
    )


def downgrade() -> None:
    op.drop_table("blob_chunk")
    op.drop_table("blob")
