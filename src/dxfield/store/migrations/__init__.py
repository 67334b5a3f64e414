"""Alembic migrations of the store, run on open by `store.engine`.

`SCHEMA_HEAD` names the newest revision so that opening a current store needs no Alembic import
(about 0.1 to 0.2 s); a test checks that it equals Alembic's own head.
"""

SCHEMA_HEAD = "0009"
