"""Widgets of the app, by the area of the screen they serve."""
