"""The public surface: exports, docstrings, typed one-line resource methods."""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

import pracsuite_async
from pracsuite_async import OPERATIONS, PracSuiteClient, models
from pracsuite_async.resources import NAMESPACES, Namespace

PACKAGE = Path(pracsuite_async.__file__).parent


#: The public surface of ``pracsuite_async``, pinned (issue 10).
PUBLIC = frozenset(
    {
        "F",
        "OPERATIONS",
        "UNSET",
        "APIStatusError",
        "AdaptiveRateLimiter",
        "AiolimiterAdapter",
        "AuthenticationError",
        "BadRequestError",
        "CallFinished",
        "CallStarted",
        "CapturedResponse",
        "Captures",
        "ClientClosedError",
        "ClientStats",
        "Clock",
        "ConfigurationError",
        "ConflictError",
        "ConnectError",
        "ConnectionLostError",
        "DeadlineExceededError",
        "Endpoint",
        "Event",
        "EventHook",
        "EventLoopMismatchError",
        "Filter",
        "LoggingHook",
        "NoAvailabilityError",
        "NotFoundError",
        "Page",
        "Pager",
        "PaginationError",
        "PermissionDeniedError",
        "PracSuiteClient",
        "PracSuiteError",
        "Priority",
        "QuotaExceededError",
        "RateLimitError",
        "RateLimitWait",
        "RateLimited",
        "RateLimiter",
        "RawFilter",
        "RequestSent",
        "RequestTimeoutError",
        "RequestTypeError",
        "RequestValidationError",
        "ResponseDecodeError",
        "ResponseReceived",
        "ResponseTooLargeError",
        "RetryPolicy",
        "RetryScheduled",
        "ServerError",
        "TransportError",
        "UnprocessableEntityError",
        "UnsetType",
        "ValidationProblem",
        "__version__",
        "capture_responses",
        "from_dict",
        "to_dict",
    }
)


class TestExports:
    def test_all_is_sorted_and_complete(self) -> None:
        """__all__ is sorted (constants first, as ruff sorts) and every name resolves."""
        names = pracsuite_async.__all__
        assert sorted(names, key=lambda n: (not n.isupper(), n)) == list(names)
        for name in names:
            assert hasattr(pracsuite_async, name), name

    def test_all_is_exactly_the_public_surface(self) -> None:
        """__all__ is pinned: adding or removing a public name is a deliberate, reviewed change."""
        assert set(pracsuite_async.__all__) == PUBLIC

    def test_internals_are_not_exported(self) -> None:
        """Pipeline parts (rows, pages, transports, headers, deadlines, feedback) stay private."""
        # Endpoint and Page stay public: they are the types of public values (OPERATIONS
        # rows, the pages Pager.pages() yields), which users annotate.
        internals = {"FilterField", "RawResponse", "Deadline", "RateFeedback", "SystemClock",
                     "SecretHeaders", "Transport", "ClientNamespaces"}
        assert not internals & set(pracsuite_async.__all__)
        for name in internals:
            assert not hasattr(pracsuite_async, name), name

    def test_every_public_name_has_a_docstring(self) -> None:
        """Every exported class and function, and every model, is documented."""
        for module in (pracsuite_async, models):
            for name in module.__all__:
                obj = getattr(module, name)
                if inspect.isclass(obj) or inspect.isfunction(obj):
                    assert inspect.getdoc(obj), f"{module.__name__}.{name}"

    def test_version_is_a_string(self) -> None:
        """__version__ comes from the package metadata."""
        assert isinstance(pracsuite_async.__version__, str)
        assert pracsuite_async.__version__.count(".") >= 2

    def test_client_does_not_import_the_simulator(self) -> None:
        """No client module imports the simulator, the CLI or the test kit."""
        forbidden = ("pracsuite_async.simulator", "pracsuite_async.cli", "pracsuite_async.testing")
        paths = [*PACKAGE.glob("*.py"), *(PACKAGE / "models").glob("*.py"), *(PACKAGE / "resources").glob("*.py")]
        for path in paths:
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert not node.module.startswith(forbidden), (path.name, node.module)
                elif isinstance(node, ast.Import):
                    assert not any(a.name.startswith(forbidden) for a in node.names), path.name


class TestResources:
    def test_every_operation_is_reachable_from_the_client(self) -> None:
        """Each of the 80 operations is a method of a namespace attribute of the client."""
        assert len(OPERATIONS) == 80
        for op_id, endpoint in OPERATIONS.items():
            namespace = NAMESPACES[endpoint.namespace]
            method = getattr(namespace, endpoint.method_name, None)
            assert method is not None, op_id
            assert inspect.getdoc(method), op_id
            assert isinstance(getattr(PracSuiteClient, endpoint.namespace), functools.cached_property), op_id
        # Composition: the client holds its namespaces; it inherits from none of them.
        assert PracSuiteClient.__mro__ == (PracSuiteClient, object)

    def test_methods_are_typed_signature_docstring_and_one_delegating_line(self) -> None:
        """Generated methods only delegate: docstring + `return self._call/_list(CONST, locals())`."""
        tree = ast.parse((PACKAGE / "resources" / "_generated.py").read_text())
        count = 0
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in {
            c.__name__ for c in NAMESPACES.values()
        }):
            for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
                count += 1
                body = fn.body
                assert isinstance(body[0], ast.Expr), fn.name  # docstring
                assert len(body) == 2, (cls.name, fn.name)
                ret = body[1]
                assert isinstance(ret, ast.Return)
                call = ret.value.value if isinstance(ret.value, ast.Await) else ret.value
                assert isinstance(call, ast.Call)
                assert isinstance(call.func, ast.Attribute)
                assert call.func.attr in {"_call", "_list"}
                assert fn.args.kwarg is None, f"{cls.name}.{fn.name} takes **kwargs"
                for arg in [*fn.args.args[1:], *fn.args.kwonlyargs]:
                    assert arg.annotation is not None, (cls.name, fn.name, arg.arg)
                assert fn.returns is not None
        assert count >= 80

    def test_namespaces_are_resources(self) -> None:
        """Every namespace class derives from Namespace, a name no model shares."""
        for cls in NAMESPACES.values():
            assert issubclass(cls, Namespace)
        assert not hasattr(models, "Namespace")
