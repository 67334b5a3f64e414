"""What opening a store looks for before it does anything else: the marks in local state that
say the reference data is loaded and the authorship upgrade done, and the file a rotation of
the hub's key leaves while it is unfinished.

Kept apart, free of SQLAlchemy, so that the light read path (`store/light.py`) tells a store
that needs nothing done at open exactly as `Store.open` does.
"""

REFERENCE_VERSION = "1"
"""The version of the bundled reference data (store/reference.py)."""
REFERENCE_VERSION_KEY = "reference_version"
"""The local-state key holding the reference version a store has loaded."""
UPGRADED_KEY = "authorship-upgraded:"
"""The local-state key (followed by the device id) of a store whose own revisions are signed
(store/authorship.py's `upgrade`)."""
NEXT_SUFFIX = ".next"
"""Beside the key file, the new keys of a rotation not yet put in place (store/key_rotation.py)."""
