"""`python -m dxfield` runs the command line."""

from dxfield.cli import main

main()
