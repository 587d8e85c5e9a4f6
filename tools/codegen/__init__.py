"""Spec-driven code generation for pracsuite_async (run ``python tools/codegen/generate.py``)."""
