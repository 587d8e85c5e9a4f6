"""Spec conformance of every operation: requests the client builds validate against the spec, and every
response model keeps every field of a spec-shaped payload (unknown keys included) through a round trip.

Requests are built by :func:`pracsuite_async._wire.build_request` from sample arguments derived from the
spec (types, enums, formats, minimums) and from the request models' attrs fields, encoded into a query
string the way the transport does it (yarl), parsed back and validated by openapi-core 0.23.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl

import attrs
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict
from yarl import URL

from pracsuite_async import OPERATIONS, F, Filter, _converter
from pracsuite_async._endpoints import Endpoint
from pracsuite_async._filters import KIND_OPERATORS
from pracsuite_async._types import UnsetType
from pracsuite_async._wire import PreparedRequest, build_request
from pracsuite_async.models import Model
from tools.codegen.schema import load_spec

SPEC_SERVER = "https://api.pracsuite.com/v1"
KEY_HEADERS = {"x-api-key": "vendor-key", "A-api-key": "account-key"}
#: Query parameters every paginated/sortable/filterable list shares (components.parameters + q[]).
LIST_PARAMS = frozenset({"page", "page_size", "sort_by", "q[]"})
#: A key no spec schema has: it must survive structure -> unstructure.
EXTRA_KEY = "x_future_field"
EXTRA_VALUE: dict[str, Any] = {"nested": [1, "two", None], "flag": True}

SPEC: dict[str, Any] = load_spec()
SPEC_OPS: dict[str, tuple[str, str, dict[str, Any]]] = {
    op["operationId"]: (method.upper(), path, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if isinstance(op, dict) and "operationId" in op
}
OP_IDS = sorted(OPERATIONS)


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    """The reference spec as an openapi-core app (the document itself is validated upstream, README)."""
    return OpenAPI.from_dict(SPEC, config=Config(spec_validator_cls=None))


# -- spec helpers -------------------------------------------------------------------------------------


def _resolve(node: Mapping[str, Any]) -> dict[str, Any]:
    """``node`` with ``$ref`` followed and ``allOf`` merged (properties, required, scalar keywords)."""
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    out = {k: v for k, v in node.items() if k != "allOf"}
    for part in node.get("allOf", ()):
        resolved = _resolve(part)
        if "properties" in resolved:
            out["properties"] = {**resolved["properties"], **out.get("properties", {})}
        if "required" in resolved:
            out["required"] = [*resolved["required"], *out.get("required", [])]
        for key, value in resolved.items():
            out.setdefault(key, value)
    return out


def _parameters(op: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in map(_resolve, op.get("parameters", []))}


def _success(op: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return next((code, _resolve(r)) for code, r in op["responses"].items() if code[0] in "23")


def _json_schema(response: Mapping[str, Any]) -> dict[str, Any] | None:
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    return None if schema is None else _resolve(schema)


def _type_of(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


# -- sample request arguments ---------------------------------------------------------------------------

SAMPLE_DAY = date(2026, 1, 6)
SAMPLE_LOCAL = datetime(2026, 1, 6, 9, 30)
SAMPLE_UTC = datetime(2025, 6, 1, 12, 0, 30, 123456, tzinfo=UTC)


def _unwrap(hint: Any) -> Any:
    """``X | UnsetType | None`` -> ``X``."""
    args = [a for a in typing.get_args(hint) if a not in (type(None), UnsetType)]
    if typing.get_origin(hint) in (typing.Union, type(int | str)) and len(args) == 1:
        return args[0]
    return hint


def _sample_int(schema: Mapping[str, Any]) -> int:
    if schema.get("enum"):
        return int(schema["enum"][0])
    step = int(schema.get("multipleOf", 1))
    low = int(schema.get("minimum", 1))
    return -(-low // step) * step


def _sample_value(hint: Any, schema: Mapping[str, Any]) -> Any:
    """A valid Python argument for a request-model field typed ``hint`` and described by ``schema``."""
    hint = _unwrap(hint)
    if "anyOf" in schema:  # "X or null": a sample of X
        schema = _resolve(next(b for b in schema["anyOf"] if b.get("type") != "null"))
    kind = _type_of(schema)
    if hint is bool:
        return True
    if hint is int:
        return _sample_int(schema)
    if hint is float:
        return float(schema.get("minimum", 1))
    if hint is datetime:
        return SAMPLE_UTC if schema.get("format") == "date-time" else SAMPLE_LOCAL
    if hint is date:
        return SAMPLE_DAY
    if typing.get_origin(hint) in (Sequence, list) or kind == "array":
        return [_sample_int(_resolve(schema.get("items", {})))]
    if hint is str:
        if schema.get("enum"):
            return schema["enum"][0]
        if schema.get("format") == "email":
            return "ada@example.com"
        if "example" in schema:
            return schema["example"]
        return "Sample"[: schema.get("maxLength", 6)]
    msg = f"no sample for {hint!r}"
    raise AssertionError(msg)


def _wire(field: attrs.Attribute[Any]) -> str:
    return str(field.metadata.get("wire", field.name))


def _model_args(cls: type[Any], schemas: Mapping[str, Mapping[str, Any]], required: set[str], *, full: bool):
    """Arguments of request model ``cls``: its own required fields, the spec's, and (``full``) every field
    the spec documents except the older revision's (``x-pracsuite-revisions``), which stay unset."""
    hints = typing.get_type_hints(cls)
    older = set(SPEC["components"]["schemas"].get(cls.__name__, {}).get("x-pracsuite-revisions", {}).get("older", ()))
    args: dict[str, Any] = {}
    for field in attrs.fields(cls):
        wire = _wire(field)
        needed = field.default is attrs.NOTHING or wire in required
        if not (needed or (full and wire in schemas)):
            continue
        if full and wire in older:
            continue  # never mixed with the current revision's fields
        if full and wire == "item_group_id":
            continue  # item_id and item_group_id are mutually exclusive (README "Booking flow")
        args[field.name] = _sample_value(hints[field.name], schemas.get(wire, {}))
    return args


#: How the sample filter values of ``_filter_value`` must look on the wire (README "Filter examples").
WIRE_TEXT = {
    "integer": "1",
    "double": "1.5",
    "date": "2026-01-06",
    "datetime": "2026-01-06T09:30:00",
    "timestamp": "2025-06-01T12:00:30.123456Z",
    "string": "jo",
    "boolean": "false",
}


def _filter_value(kind: str, values: Sequence[int]) -> object:
    if values:
        return values[0]
    return {
        "integer": 1,
        "double": 1.5,
        "date": SAMPLE_DAY,
        "datetime": SAMPLE_LOCAL,
        "timestamp": SAMPLE_UTC,
        "string": "jo",
        "boolean": False,
    }[kind]


def sample_args(endpoint: Endpoint[Any], *, full: bool) -> dict[str, Any]:
    """Valid call arguments for ``endpoint``: ids = 1, required fields, and with ``full`` every documented
    field plus one filter per filterable field and a two-field sort."""
    _, _, op = SPEC_OPS[endpoint.operation_id]
    args: dict[str, Any] = dict.fromkeys(endpoint.path_params, 1)
    if endpoint.query is not None:
        params = {name: _resolve(p.get("schema", {})) for name, p in _parameters(op).items()}
        required = {name for name, p in _parameters(op).items() if p.get("required")}
        args |= _model_args(endpoint.query, params, required, full=full)
    if endpoint.body is not None:
        schema = _resolve(op["requestBody"]["content"]["application/json"]["schema"])
        props = {name: _resolve(s) for name, s in schema.get("properties", {}).items()}
        # ``oneOf`` branches name what each revision requires; samples use the first (current) one
        required = {*schema.get("required", ()), *schema.get("oneOf", [{}])[0].get("required", ())}
        args |= _model_args(endpoint.body, props, required, full=full)
    if full and endpoint.filters:
        args["filters"] = [
            Filter(f.name, f.operators[0], _filter_value(f.kind, f.values)) for f in endpoint.filters.values()
        ]
    if full and endpoint.sortable:
        fields = endpoint.sort_fields
        preferred = [name for name in endpoint.filters if name in fields]
        args["sort_by"] = list(dict.fromkeys([*preferred, *fields]))[:2]
    return args


# -- openapi-core adapter -------------------------------------------------------------------------------


class SpecRequest:
    """An openapi-core ``Request`` for a URL as the transport sends it (query string parsed back)."""

    def __init__(self, method: str, url: URL, body: bytes | None, headers: Mapping[str, str]) -> None:
        self.host_url = f"{url.scheme}://{url.raw_authority}"
        self.path = url.raw_path
        self.method = method.lower()
        self.body = body
        self.content_type = "application/json"
        query = parse_qsl(url.raw_query_string, keep_blank_values=True, strict_parsing=False)
        self.parameters = RequestParameters(query=ImmutableMultiDict(query), header=Headers(dict(headers)))


def spec_request(req: PreparedRequest, headers: Mapping[str, str] = KEY_HEADERS) -> SpecRequest:
    """The request ``req`` would put on the wire (aiohttp extends the URL's query with ``params``)."""
    url = URL(SPEC_SERVER + req.path).extend_query(req.params)
    return SpecRequest(req.method, url, req.body, headers)


def _errors(openapi: OpenAPI, request: SpecRequest) -> list[str]:
    result = openapi.unmarshal_request(request)
    problems = []
    for error in result.errors:
        detail = getattr(error, "__cause__", None)
        schema_errors = getattr(detail, "schema_errors", None) or getattr(error, "schema_errors", ())
        problems.append(f"{error!r}: {[e.message for e in schema_errors] or detail!r}")
    return problems


# -- request conformance ---------------------------------------------------------------------------------


@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize("op_id", OP_IDS)
def test_request_validates_against_the_spec(openapi: OpenAPI, op_id: str, *, full: bool) -> None:
    """A request built from valid sample arguments passes openapi-core's request validation."""
    endpoint = OPERATIONS[op_id]
    paged = {"page": 2, "page_size": 100} if endpoint.paginated and full else {}
    req = build_request(endpoint, sample_args(endpoint, full=full), **paged)
    assert (req.method, req.body is not None) == (SPEC_OPS[op_id][0], endpoint.body is not None)
    assert _errors(openapi, spec_request(req)) == []


@pytest.mark.parametrize("op_id", [op for op in OP_IDS if OPERATIONS[op].filters or OPERATIONS[op].sortable])
def test_list_extras_are_encoded_as_the_spec_says(openapi: OpenAPI, op_id: str) -> None:
    """``q[]`` is repeated once per filter, ``sort_by`` is one JSON array (``x-pracsuite-wire: json-array``)."""
    endpoint = OPERATIONS[op_id]
    args = sample_args(endpoint, full=True)
    request = spec_request(build_request(endpoint, args, page=1, page_size=50))
    query = request.parameters.query
    assert query.getlist("q[]") == [
        f"{f.name}:{f.operators[0]}{f.values[0] if f.values else WIRE_TEXT[f.kind]}"
        for f in endpoint.filters.values()
    ]
    unmarshalled = openapi.unmarshal_request(request)
    assert unmarshalled.errors == []
    if endpoint.sortable:
        assert len(query.getlist("sort_by")) == 1
        # The id is appended as a tie-breaker where sortable, so pages stay stable (encode_sort).
        id_field = endpoint.id_field
        tie = [id_field] if id_field in endpoint.sort_fields and id_field not in args["sort_by"] else []
        assert json.loads(query.getlist("sort_by")[0]) == [*args["sort_by"], *tie]
    if endpoint.filters:
        assert [q.split(":", 1)[0] for q in unmarshalled.parameters.query["q[]"]] == list(endpoint.filters)


def test_from_is_sent_under_its_wire_name(openapi: OpenAPI) -> None:
    """The Python-keyword parameter ``from_`` goes out as ``from`` and the spec reads it as a date."""
    endpoint = OPERATIONS["listAvailableAppointments"]
    args = {
        "from_": date(2026, 1, 5),
        "to": date(2026, 1, 12),
        "appointment_type_id": 2,
        "business_ids": [1, 3],
    }
    request = spec_request(build_request(endpoint, args, page=1, page_size=10))
    result = openapi.unmarshal_request(request)
    assert result.errors == []
    assert result.parameters.query["from"] == date(2026, 1, 5)
    assert result.parameters.query["business_ids"] == [1, 3]
    assert "from_" not in request.parameters.query


def test_filter_values_are_encoded_per_kind() -> None:
    """Each filter kind reaches the query string in the README's wire format."""
    endpoint = OPERATIONS["listAppointmentBook"]
    filters = [
        F("practitioner_id") == 3,
        F("app_time") >= SAMPLE_LOCAL,
        F("created") < SAMPLE_UTC,
    ]
    request = spec_request(build_request(endpoint, {"filters": filters}))
    assert request.parameters.query.getlist("q[]") == [
        "practitioner_id:=3",
        "app_time:>=2026-01-06T09:30:00",
        "created:<2025-06-01T12:00:30.123456Z",
    ]


class TestValidatorIsLive:
    """The conformance checks above could pass vacuously if validation did nothing; these prove it bites."""

    def test_missing_key_header_is_rejected(self, openapi: OpenAPI) -> None:
        """A request without the account key fails the spec's security requirement."""
        req = build_request(OPERATIONS["listPatients"], {})
        assert _errors(openapi, spec_request(req, {"x-api-key": "vendor-key"})) != []

    def test_wrong_body_type_is_rejected(self, openapi: OpenAPI) -> None:
        """A body whose integer field is text fails request-body validation."""
        endpoint = OPERATIONS["createAppointment"]
        req = build_request(endpoint, sample_args(endpoint, full=False))
        payload = json.loads(req.body or b"{}")
        broken = attrs.evolve(req, body=json.dumps(payload | {"client_id": "one"}).encode())
        assert _errors(openapi, spec_request(broken)) != []

    def test_out_of_range_page_size_is_rejected(self, openapi: OpenAPI) -> None:
        """A page size above the documented maximum fails parameter validation."""
        req = build_request(OPERATIONS["listPatients"], {})
        broken = attrs.evolve(req, params=[("page_size", "101")])
        assert _errors(openapi, spec_request(broken)) != []

    def test_sort_is_sent_as_a_url_encoded_json_array(self) -> None:
        """``sort_by`` goes on the wire as the founding document's URL-encoded JSON array."""
        req = build_request(OPERATIONS["listAppointments"], {"sort_by": ["appointment_id", "app_time"]})
        url = URL(SPEC_SERVER + req.path).extend_query(req.params)
        assert url.raw_query_string == "sort_by=%5B%22appointment_id%22,%22app_time%22%5D"
        assert parse_qsl(url.raw_query_string) == [("sort_by", '["appointment_id","app_time"]')]

    def test_no_sort_unless_asked(self) -> None:
        """A list call without ``sort_by`` sends none: the API documents no default order to rely on."""
        for endpoint in OPERATIONS.values():
            if endpoint.paginated:
                req = build_request(endpoint, sample_args(endpoint, full=False), page=1, page_size=10)
                assert "sort_by" not in dict(req.params)


# -- table vs spec (what tests/test_codegen.py does not already pin) --------------------------------------


@pytest.mark.parametrize("op_id", OP_IDS)
def test_request_models_match_the_spec(op_id: str) -> None:
    """Query models carry exactly the spec's own query parameters; body models every spec property, and
    nothing the model requires is optional in the spec."""
    endpoint = OPERATIONS[op_id]
    _, _, op = SPEC_OPS[op_id]
    own = {name for name, p in _parameters(op).items() if p["in"] == "query"} - LIST_PARAMS
    query_wires = {_wire(f) for f in attrs.fields(endpoint.query)} if endpoint.query else set()
    assert query_wires == own
    body = op.get("requestBody")
    if endpoint.body is None:
        assert body is None
        return
    schema = _resolve(body["content"]["application/json"]["schema"])
    fields = {_wire(f): f for f in attrs.fields(endpoint.body)}
    assert set(schema["properties"]) <= set(fields)
    model_required = {wire for wire, f in fields.items() if f.default is attrs.NOTHING}
    assert model_required <= set(schema.get("required", ()))


@pytest.mark.parametrize("op_id", [op for op in OP_IDS if OPERATIONS[op].filters])
def test_filter_kinds_and_operators_match_the_spec(op_id: str) -> None:
    """Each filterable field has the spec's type and exactly the spec's operators, in order."""
    params = _parameters(SPEC_OPS[op_id][2])
    documented = {f["field"]: f for f in params["q[]"]["x-pracsuite-filters"]}
    for name, row in OPERATIONS[op_id].filters.items():
        # Operators of ``double`` are undocumented (README "Gaps"): the integer comparisons are assumed.
        operators = documented[name].get("operators", list(KIND_OPERATORS["integer"]))
        assert (row.kind, list(row.operators)) == (documented[name]["format"], operators)


@pytest.mark.parametrize("op_id", [op for op in OP_IDS if OPERATIONS[op].sortable])
def test_sort_fields_match_the_spec(op_id: str) -> None:
    """``sort_fields`` is the spec's ``x-pracsuite-sort-fields`` where listed, else the item's plain scalars."""
    endpoint = OPERATIONS[op_id]
    listed = SPEC_OPS[op_id][2].get("x-pracsuite-sort-fields")
    if listed:
        assert endpoint.sort_fields == tuple(listed)
        return
    assert endpoint.result is not None
    assert endpoint.sort_fields
    names = {_wire(f): f for f in attrs.fields(endpoint.result)}
    for name in endpoint.sort_fields:
        assert not names[name].metadata.get("phi")
    assert not {"links", "row_num", "total_rows", "resource_ids", "notes"} & set(endpoint.sort_fields)


def test_appointment_lists_sort_on_updated() -> None:
    """Every appointment list takes ``updated`` (one of the founding document's eight sort fields)."""
    rows = [e for e in OPERATIONS.values() if e.list_key == "appointments" and e.sortable]
    assert rows
    assert all("updated" in e.sort_fields for e in rows)


# -- response round trips ---------------------------------------------------------------------------------


def _sample_payload(schema: Mapping[str, Any], depth: int = 0) -> Any:
    """A spec-shaped JSON value: examples where given, else a value of the type, every property present;
    every object also gets an unknown key."""
    schema = _resolve(schema)
    kind = _type_of(schema)
    if kind == "object" or "properties" in schema:
        out = {name: _sample_payload(sub, depth + 1) for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not out:
            out = {"some_key": _sample_payload(extra, depth + 1)}
        out[EXTRA_KEY] = EXTRA_VALUE
        return out
    if kind == "array":
        return [_sample_payload(schema.get("items", {}), depth + 1)]
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    fmt = schema.get("format")
    return {
        "integer": _sample_int(schema) if "minimum" in schema else 7,
        "number": 12.5,
        "boolean": True,
    }.get(
        kind or "", {"date": "2026-01-02", "date-time": "2020-09-12T11:09:42.687393Z"}.get(fmt or "", "text")
    )


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _models(value: Any) -> Iterator[Model]:
    if isinstance(value, Model):
        yield value
        for field in attrs.fields(type(value)):
            yield from _models(getattr(value, field.name))
    elif isinstance(value, list):
        for item in value:
            yield from _models(item)


def _result_schema(op_id: str) -> dict[str, Any] | None:
    endpoint = OPERATIONS[op_id]
    schema = _json_schema(_success(SPEC_OPS[op_id][2])[1])
    if schema is not None and endpoint.list_key is not None:
        return _resolve(schema["properties"][endpoint.list_key]["items"])
    return schema


@pytest.mark.parametrize("op_id", OP_IDS)
def test_response_model_round_trips(op_id: str) -> None:
    """A spec-shaped response plus unknown keys survives structure -> unstructure unchanged, extras kept."""
    endpoint = OPERATIONS[op_id]
    code, response = _success(SPEC_OPS[op_id][2])
    schema = _result_schema(op_id)
    if endpoint.result is None or endpoint.result is str:
        # 204 (no body) or the attachment redirect, whose result is the Location URL.
        assert schema is None
        assert endpoint.result is None or "Location" in response.get("headers", {}), code
        return
    assert schema is not None
    model = (
        typing.get_args(endpoint.result)[0] if typing.get_origin(endpoint.result) is list else endpoint.result
    )
    payload = _sample_payload(schema)
    structured = _converter.structure(payload, model)
    assert isinstance(structured, model)
    assert structured.extra == {EXTRA_KEY: EXTRA_VALUE}
    assert all(m.extra.get(EXTRA_KEY) == EXTRA_VALUE for m in _models(structured))
    assert _without_none(_converter.unstructure(structured)) == payload


def test_round_trip_check_sees_a_lost_field() -> None:
    """The round-trip comparison fails when a field is lost, so the check above can fail."""
    payload = _sample_payload(_result_schema("getAppointment") or {})
    structured = _converter.structure(payload, OPERATIONS["getAppointment"].result)
    structured.duration = None
    assert _without_none(_converter.unstructure(structured)) != payload


def test_samples_cover_each_format() -> None:
    """The payload generator produces the formats whose round trip is delicate (local, UTC, date)."""
    payload = _sample_payload(_result_schema("getAppointment") or {})
    assert payload["app_time"] == "2026-01-01T12:05:30"
    assert payload["created"] == "2020-09-12T11:09:42.687393Z"
    assert isinstance(payload["links"], dict)
