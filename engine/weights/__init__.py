"""Pretrained files (registry, location, download) and checkpoint formats (official and our own)."""
