"""every revision signed by its author (bundle format 2, §1 and §4)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

On every engine: `revision.signature`, the author's Ed25519 signature over the revision's digest
(base64), and `revision.attestation`, the hub's signature over a revision from before format 2
whose author never signed it (base64). Both nullable: reference data and the demo's records are
never signed, and what a store held before this migration is signed (by its own device) or
attested (by the hub) when the store is first opened with this code (`store/authorship.py`),
not here: a migration has no keys.

Columns added, never a table rebuilt: SQLite's rowid (the arrival order) stays as it is.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "revision",
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    )
    op.add_column(
        "revision",
        sa.Column("attestation", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_column("attestation")
        batch_op.drop_column("signature")
