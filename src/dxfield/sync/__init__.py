"""Sync: device keys and trust (bundles and their merge follow; the merge core is store.merge)."""
