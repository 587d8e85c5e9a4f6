"""The generated code matches the spec and the generator: no rot, no drift."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from pracsuite_async import PracSuiteClient, models
from pracsuite_async._endpoints import OPERATIONS, Endpoint
from pracsuite_async._pagination import Pager
from pracsuite_async.resources import NAMESPACES, Namespace
from tools.codegen import generate, tables
from tools.codegen.schema import load_spec

SPEC = load_spec()
SPEC_OPS = {
    op["operationId"]: (method.upper(), path, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
}
COMMON = (
    *("filters", "sort_by", "page_size", "max_items", "ordered", "start_page", "max_pages"),
    *("deadline", "timeout", "max_retries", "extra_headers", "extra_query", "priority", "idempotent"),
)


def _params(op: dict[str, object]) -> list[dict[str, object]]:
    params = []
    for param in op.get("parameters", []):  # type: ignore[attr-defined]
        ref = param.get("$ref")
        params.append(SPEC["components"]["parameters"][ref.rsplit("/", 1)[-1]] if ref else param)
    return params


class TestGenerated:
    def test_committed_files_match_the_generator(self) -> None:
        """Regenerating in memory gives byte-identical files, so generated code never drifts by hand."""
        for path, text in generate.render_all().items():
            assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run tools/codegen/generate.py"

    def test_every_operation_has_a_namespace_method(self) -> None:
        """The generator's namespace table names every spec operation exactly once."""
        assert set(tables.NAMESPACE_METHODS) == set(SPEC_OPS)
        pairs = list(tables.NAMESPACE_METHODS.values())
        assert len(pairs) == len(set(pairs))


class TestEndpointTable:
    def test_operations_match_the_spec(self) -> None:
        """OPERATIONS holds exactly the spec's 80 operationIds."""
        assert len(SPEC_OPS) == 80
        assert set(OPERATIONS) == set(SPEC_OPS)
        assert all(key == row.operation_id for key, row in OPERATIONS.items())

    @pytest.mark.parametrize("op_id", sorted(SPEC_OPS))
    def test_row_matches_its_operation(self, op_id: str) -> None:
        """Each row's method, path, path params, status, list key and flags come from the spec."""
        method, path, op = SPEC_OPS[op_id]
        row = OPERATIONS[op_id]
        params = _params(op)
        names = {str(p["name"]) for p in params}
        assert (row.method, row.path) == (method, path)
        assert row.path_params == tuple(re.findall(r"{(\w+)}", path))
        assert row.paginated == ({"page", "page_size"} <= names)
        assert row.sortable == ("sort_by" in names)
        spec_filters = next((p.get("x-pracsuite-filters", []) for p in params if p["name"] == "q[]"), [])
        assert list(row.filters) == [f["field"] for f in spec_filters]  # type: ignore[index]
        status = next(k for k in op["responses"] if k[0] in "23")
        assert row.success_status == {"2XX": 200, "3XX": 302}.get(status, int(status) if status.isdigit() else 0)
        schema = op["responses"][status].get("content", {}).get("application/json", {}).get("schema")
        if schema is not None and "$ref" not in schema:
            assert row.list_key in schema["properties"]
        else:
            assert row.list_key is None
        assert (row.result is None) == (status == "204")
        assert row.idempotent == (method == "GET")

    def test_result_models_are_models(self) -> None:
        """Every row's result is a Model, list[Model] (unpaginated lists), str (redirect) or None (204)."""
        for row in OPERATIONS.values():
            result = row.result
            if result is None or result is str:
                continue
            inner = getattr(result, "__args__", (result,))[0]
            assert issubclass(inner, models.Model), row.operation_id
            assert (result is not inner) == (row.list_key is not None and not row.paginated)
            if row.id_field is not None:
                assert row.id_field in inspect.signature(inner).parameters

    def test_patient_status_filter_allows_documented_values(self) -> None:
        """The patient list ``status`` filter carries the documented values 1..6."""
        assert OPERATIONS["listPatients"].filters["status"].values == (1, 2, 3, 4, 5, 6)


def _methods() -> list[tuple[Endpoint[object], object]]:
    return [(row, getattr(NAMESPACES[row.namespace], row.method_name)) for row in OPERATIONS.values()]


class TestResources:
    def test_namespaces_are_the_client_attributes(self) -> None:
        """NAMESPACES and the client's generated attributes name the same 29 nouns, each a Namespace subclass."""
        assert list(NAMESPACES) == list(tables.NAMESPACES)
        assert all(hasattr(PracSuiteClient, ns) for ns in NAMESPACES)
        assert all(issubclass(cls, Namespace) for cls in NAMESPACES.values())

    @pytest.mark.parametrize(("row", "method"), _methods(), ids=lambda x: getattr(x, "operation_id", ""))
    def test_method_signature_matches_the_row(self, row: Endpoint[object], method: object) -> None:
        """Ids are positional in path order; other arguments are keyword-only request fields plus common ones."""
        sig = inspect.signature(method)  # type: ignore[arg-type]
        params = list(sig.parameters.values())[1:]
        positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        keywords = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
        assert positional == list(row.path_params)
        assert not [p for p in params if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        model = row.body or row.query
        fields = set(inspect.signature(model).parameters) if model else set()
        assert set(keywords) - set(COMMON) == fields
        assert "deadline" in keywords
        assert ("idempotent" in keywords) == (row.method != "GET")
        assert ("filters" in keywords) == bool(row.filters)
        assert ("sort_by" in keywords) == row.sortable
        assert ("page_size" in keywords) == row.paginated
        if row.paginated:
            assert sig.return_annotation.startswith("Pager[")
            assert not inspect.iscoroutinefunction(method)
        else:
            assert inspect.iscoroutinefunction(method)

    @pytest.mark.parametrize(("row", "method"), _methods(), ids=lambda x: getattr(x, "operation_id", ""))
    def test_method_body_is_one_delegating_line(self, row: Endpoint[object], method: object) -> None:
        """Each method is a docstring plus one return that hands its row and locals() to _call or _list."""
        tree = ast.parse(inspect.cleandoc("\n" + inspect.getsource(method)))  # type: ignore[arg-type]
        func = tree.body[0]
        assert isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        assert ast.get_docstring(func)
        body = func.body[1:]
        assert len(body) == 1
        assert isinstance(body[0], ast.Return)
        text = ast.unparse(body[0])
        helper = "self._list" if row.paginated else "await self._call"
        constant = re.sub(r"(?<!^)(?=[A-Z])", "_", row.operation_id).upper()
        assert text == f"return {helper}(_endpoints.{constant}, locals())"

    def test_pager_is_what_list_methods_return(self) -> None:
        """List methods are typed to return the pagination engine's Pager."""
        assert Pager.__name__ in inspect.signature(NAMESPACES["appointments"].list).return_annotation


def test_mixins_become_extra_bases(monkeypatch: pytest.MonkeyPatch) -> None:
    """A MIXINS entry imports the helper class and puts it before Namespace in the namespace's bases."""
    from tools.codegen.schema import SpecReader, load_spec

    monkeypatch.setitem(tables.MIXINS, "patients", "pracsuite_async.resources._patients:PatientHelpers")
    reader = SpecReader(load_spec())
    text, _ = generate.render_resources(reader, reader.operations())
    assert "from pracsuite_async.resources._patients import PatientHelpers" in text
    assert "class Patients(PatientHelpers, _base.Namespace):" in text
    assert "class Businesses(_base.Namespace):" in text
