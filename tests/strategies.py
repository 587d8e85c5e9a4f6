"""Hypothesis strategies for API payloads, built from the OpenAPI spec's schemas.

Payloads use the canonical wire formats (README "Dates/times"), so a structure then
unstructure round trip must give back exactly the same JSON values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import attrs
from hypothesis import strategies as st

from pracsuite_async import models
from tools.codegen.schema import load_spec

SPEC: dict[str, Any] = load_spec()
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]

Schema = dict[str, Any]

_moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2035, 12, 31))
_days = st.dates(min_value=date(1900, 1, 1), max_value=date(2035, 12, 31))
_unknown_keys = st.from_regex(r"\Azz_[a-z]{1,8}\Z")
_json_scalars = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=8)


def local_text(moment: datetime) -> str:
    """``app_time`` wire form: tenant-local, no offset."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def timestamp_text(moment: datetime) -> str:
    """Timestamp wire form: UTC with ``Z``, microseconds only when non-zero."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def ref_name(schema: Schema) -> str | None:
    """The component name of a ``$ref`` schema (or of a single-``allOf`` wrapper)."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    parts = schema.get("allOf", [])
    return ref_name(parts[0]) if len(parts) == 1 and "$ref" in parts[0] else None


def properties(schema: Schema) -> dict[str, Schema]:
    """Properties of a (possibly ``$ref``/``allOf``) object schema; later parts win."""
    name = ref_name(schema) if "$ref" in schema else None
    schema = SCHEMAS[name] if name else schema
    props: dict[str, Schema] = {}
    for part in schema.get("allOf", []):
        props.update(properties(part))
    props.update(schema.get("properties", {}))
    return props


def values(schema: Schema) -> st.SearchStrategy[Any]:
    """Canonical wire values of one property schema."""
    name = ref_name(schema)
    if name == "LocalDateTime":
        return _moments.map(local_text)
    if name == "Timestamp":
        return (_moments | _moments.map(lambda m: m.replace(microsecond=0))).map(timestamp_text)
    if name == "Date":
        return _days.map(date.isoformat)
    if name == "Duration":
        return st.integers(1, 288).map(lambda n: n * 5)
    if name == "HexColour":
        return st.from_regex(r"\A#[0-9A-F]{6}\Z")
    if name == "TimeZone":
        return st.sampled_from(SCHEMAS["TimeZone"]["x-pracsuite-valid-timezones"])
    if name is not None:
        return objects({"$ref": f"#/components/schemas/{name}"})
    kinds = schema.get("type", "object")
    kinds = [k for k in (kinds if isinstance(kinds, list) else [kinds]) if k != "null"]
    return st.one_of([_kind_values(kind, schema) for kind in kinds])


def _kind_values(kind: str, schema: Schema) -> st.SearchStrategy[Any]:
    if kind == "integer":
        return st.integers(-(2**31), 2**31)
    if kind == "number":
        return st.integers(-(10**6), 10**6) | st.floats(-1e9, 1e9, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(values(schema.get("items", {})), max_size=3)
    if kind == "object":
        if not schema.get("properties") or "additionalProperties" in schema:
            return st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3)
        return objects(schema)
    if schema.get("format") == "date-time":
        return _moments.map(lambda m: local_text(m) + ("Z" if m.second % 2 else ""))
    if schema.get("format") == "date":
        return _days.map(date.isoformat)
    return st.text(max_size=12)


def required_keys(schema: Schema) -> set[str]:
    """Keys a record of ``schema`` always has, never null: the spec's ``required`` and the record's id.

    The id comes from the model (the generator's rule, ``tools/codegen``): every model
    field typed without ``None``.
    """
    name = ref_name(schema) if "$ref" in schema else None
    target = SCHEMAS[name] if name else schema
    out = set(target.get("required", []))
    for part in target.get("allOf", []):
        out |= required_keys(part)
    model = getattr(models, name.removesuffix("WithMeta"), None) if name else None
    if isinstance(model, type) and attrs.has(model):
        out |= {f.metadata.get("wire", f.name) for f in attrs.fields(model) if f.default is attrs.NOTHING}
    return out


#: ``objects`` of each named schema, built once: strategies are immutable, and rebuilding the nested
#: tree for every example (and validating it again) cost most of a property test's time.
_NAMED_OBJECTS: dict[tuple[str, bool], st.SearchStrategy[dict[str, Any]]] = {}


def objects(schema: Schema, *, unknown: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects of ``schema``: optional keys absent or all present and any of them null, plus unknown keys.

    Required keys (:func:`required_keys`) are always present with a value.
    """
    name = ref_name(schema) if "$ref" in schema else None
    if name is None:
        return _objects(schema, unknown=unknown)
    if (name, unknown) not in _NAMED_OBJECTS:
        _NAMED_OBJECTS[name, unknown] = _objects(schema, unknown=unknown)
    return _NAMED_OBJECTS[name, unknown]


def _objects(schema: Schema, *, unknown: bool) -> st.SearchStrategy[dict[str, Any]]:
    required = required_keys(schema)
    props = {key: st.none() | values(sub) for key, sub in properties(schema).items() if key not in required}
    needed = {key: values(sub) for key, sub in properties(schema).items() if key in required}
    # Either every optional key present (each maybe null) or any subset of them.
    known = st.fixed_dictionaries({**needed, **props}) | st.fixed_dictionaries(needed, optional=props)
    if not unknown:
        return known
    extra = st.dictionaries(_unknown_keys, _json_scalars | st.lists(_json_scalars, max_size=2), max_size=3)
    return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})


def example(schema: Schema) -> dict[str, Any]:
    """A payload with every property, from the spec's ``example`` values or a plain sample."""
    out: dict[str, Any] = {}
    for key, sub in properties(schema).items():
        name = ref_name(sub)
        target = SCHEMAS[name] if name else sub
        if "example" in sub or "example" in target:
            out[key] = sub.get("example", target.get("example"))
        elif name == "Timestamp":
            out[key] = timestamp_text(datetime(2020, 9, 12, 11, 9, 42, 687393, tzinfo=UTC))
        elif name in ("LocalDateTime", "Date", "HexColour", "TimeZone", "Duration"):
            out[key] = SCHEMAS[name].get("example", 30)
        elif name is not None or target.get("type") == "object":
            out[key] = example(target) if properties(target) else {"key": "value"}
        elif target.get("type") == "array":
            item = target.get("items", {})
            out[key] = [example(item)] if properties(item) else [1]
        else:
            out[key] = _sample(target)
    return out


def _sample(schema: Schema) -> Any:
    kind = schema.get("type")
    kind = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("format") == "date-time":
        return "2024-02-03T04:05:06"
    if schema.get("format") == "date":
        return "2024-02-03"
    return {"integer": 7, "number": 1.5, "boolean": True, "string": "text"}[kind]


def operations() -> dict[str, tuple[str, str, Schema]]:
    """operationId -> (method, path, operation object) for every operation of the spec."""
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, item in SPEC["paths"].items()
        for method, op in item.items()
    }


def response_item_schema(op_id: str) -> Schema | None:
    """The schema of an operation's response record (of each list element for list envelopes)."""
    _, _, op = operations()[op_id]
    response = next(v for k, v in op["responses"].items() if k[0] in "23")
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None or "$ref" in schema:
        return schema
    items = next(v for v in schema["properties"].values() if v.get("type") == "array")
    return items["items"]  # type: ignore[no-any-return]
