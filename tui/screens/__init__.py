"""Screens of the Timbre app, looked up by name through ``tui.screens.registry``."""
