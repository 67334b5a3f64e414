"""dxfield: a local-first field log for regional DX work.

Kept free of imports so that `dxfield --help` and the TUI start fast.
"""

__version__ = "0.1.0"
