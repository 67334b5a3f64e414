"""The domain: what a field log holds and the rules its values obey. No I/O, no UI."""
