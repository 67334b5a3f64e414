"""`python -m dxfield` runs the `dxfield` command."""

from dxfield.launch import main

main()
