"""Spec-driven code generation for pracsuite_async (run ``python tests/codegen/generate.py``)."""
