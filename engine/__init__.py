"""Timbre's engine: recording, audio checks, text frontend, models, training and synthesis.

Nothing in this package imports Textual or the ``tui`` package (an import-linter contract enforces it),
so every feature is reachable from plain Python, the CLI and pytest.
"""

__version__ = "0.1.0"
