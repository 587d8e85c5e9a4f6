"""Runnable examples (not shipped in the wheel)."""
