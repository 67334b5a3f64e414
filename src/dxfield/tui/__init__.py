"""The Textual app. The only package that imports textual; it calls the store's services."""
