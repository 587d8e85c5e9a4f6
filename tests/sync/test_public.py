"""The public surface of pracsuite_async.sync: exports, docstrings, and the public-API-only rule."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pracsuite_async.sync as sync_module
from pracsuite_async.sync import Sink, SqliteSink

SYNC = Path(sync_module.__file__).parent


def test_all_is_sorted_complete_and_documented() -> None:
    """__all__ is sorted as ruff sorts it and every exported class and function has a docstring."""
    names = sync_module.__all__
    assert sorted(names, key=lambda n: (not n.isupper(), n)) == list(names)
    for name in names:
        obj = getattr(sync_module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name


def test_sync_uses_only_the_public_api() -> None:
    """The sync package imports nothing private from the rest of the library."""
    for path in SYNC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pracsuite_async"):
                parts = node.module.split(".")
                inside = parts[:2] == ["pracsuite_async", "sync"]
                assert inside or not any(p.startswith("_") for p in parts), (path.name, node.module)


def test_bundled_sinks_satisfy_the_protocol(tmp_path: Path) -> None:
    """SqliteSink, JsonlSink and PostgresSink are Sinks (runtime-checkable protocol)."""
    from pracsuite_async.sync import JsonlSink, PostgresSink

    for sink in (SqliteSink(tmp_path / "m.sqlite"), JsonlSink(tmp_path), PostgresSink("postgresql://u:SECRETPW@h/db")):
        assert isinstance(sink, Sink)
        assert "SECRETPW" not in repr(sink)
