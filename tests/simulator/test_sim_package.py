"""The simulator package surface: exports, docstrings, independence from the client, test hygiene."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pracsuite_async.simulator as simulator

PACKAGE = Path(simulator.__file__).parent
TESTS = Path(__file__).parent


def test_all_is_sorted_and_documented() -> None:
    """__all__ is sorted (constants first) and every exported class and function has a docstring."""
    names = simulator.__all__
    assert sorted(names, key=lambda n: (not n.isupper(), n)) == list(names)
    for name in names:
        obj = getattr(simulator, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (inspect.isfunction(member) or isinstance(member, property)):
                    assert inspect.getdoc(member), f"{name}.{attr}"


def test_imports_nothing_from_the_client() -> None:
    """No simulator module imports pracsuite_async outside pracsuite_async.simulator."""
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            for module in modules:
                if module.startswith("pracsuite_async"):
                    assert module.startswith("pracsuite_async.simulator"), (path.name, module)


def test_every_test_has_a_docstring() -> None:
    """Each test function in this folder says in a sentence what it checks."""
    for path in TESTS.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                assert ast.get_docstring(node), f"{path.name}::{node.name}"


def test_modules_stay_small() -> None:
    """Every simulator module stays under about 500 lines."""
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 520, path.name
