"""Widgets of the Timbre app (level meter, prompt view, take list)."""
