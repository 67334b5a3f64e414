"""attachments get a caption and the time a photo was taken (issue 19)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

On every engine: `attachment.caption` (text, empty for none) and `attachment.taken_at` (a photo's
local time as its camera said, `YYYY-MM-DDTHH:MM:SS`, or NULL). No release ever wrote an
attachment record (the table stood empty until issue 19), so nothing is moved: an existing row,
should a store hold one, gets an empty caption and no time. A store of this schema is refused, as
newer, by a release before it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "caption", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )
        batch_op.add_column(sa.Column("taken_at", sqlmodel.sql.sqltypes.AutoString()))


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("taken_at")
        batch_op.drop_column("caption")
