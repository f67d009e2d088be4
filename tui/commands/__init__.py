"""Subcommands of the ``timbre`` CLI, one module each (see tui/cli.py)."""
