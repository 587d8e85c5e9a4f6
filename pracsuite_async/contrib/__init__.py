"""Integrations behind optional extras: each module imports its third-party library lazily."""
