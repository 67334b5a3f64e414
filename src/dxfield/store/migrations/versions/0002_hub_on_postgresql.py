"""one search order on both engines; the hub's PostgreSQL objects

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

On every engine: `search_text.sort_date` (the record's date, an action's due date), so that search
results come in one defined order (date descending, then kind, then id) whatever order records
arrived in; filled here from the records.

On PostgreSQL only (a prefecture's hub): the pg_trgm extension and a trigram GIN index over
`search_text.body` (SQLite's FTS5 index came in 0001), and an `arrival` identity column on the
revision log and on every synced table: the order rows arrived in, which SQLite keeps as its
rowid. Export watermarks count in the revisions'; findings and actions "in the order they were
recorded" break ties of one stamp by it (the demo's and reference data's share one stamp).
Every writing unit on PostgreSQL holds the hub's write lock, so it is assigned in commit order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Which column of each searched table is its date.
SORT_DATES = {"activity": "date", "finding": "date", "action": "due"}
# Tables that keep the order their rows arrived in on PostgreSQL (SQLite's rowid).
ARRIVAL_TABLES = (
    "revision",
    "organization",
    "initiative",
    "activity",
    "finding",
    "action",
    "stage_model",
    "engagement_track",
    "stage_move",
    "attachment",
)


def upgrade() -> None:
    with op.batch_alter_table("search_text", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_date", sa.String(), nullable=True))
    for entity, column in SORT_DATES.items():
        op.execute(
            f"UPDATE search_text SET sort_date = (SELECT CAST({entity}.{column} AS VARCHAR) "
            f"FROM {entity} WHERE {entity}.id = search_text.entity_id) "
            f"WHERE search_text.entity = '{entity}'"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_search_text_body_trgm ON search_text USING gin (body gin_trgm_ops)"
        )
        for table in ARRIVAL_TABLES:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN arrival BIGINT GENERATED ALWAYS AS IDENTITY"
            )
        op.execute("CREATE UNIQUE INDEX ix_revision_arrival ON revision (arrival)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_revision_arrival")
        for table in ARRIVAL_TABLES:
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS arrival")
        op.execute("DROP INDEX IF EXISTS ix_search_text_body_trgm")
    with op.batch_alter_table("search_text", schema=None) as batch_op:
        batch_op.drop_column("sort_date")
