"""The store: one SQLite file, its migrations, the one write path, queries and search.

Only this package, `demo/`, `sync/` and `report/` speak SQL; the CLI and the TUI call services here.
"""
