"""Read the OpenAPI spec into a small intermediate form: models, fields and operations."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import tables

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "spec/pracsuite-v1.openapi.yaml"

Schema = dict[str, Any]

#: Component schemas that are formats of a scalar, not models.
SCALARS = {"LocalDateTime", "Timestamp", "Date", "Duration", "HexColour", "TimeZone"}
#: Envelope parts handled by the pagination and error machinery, not by models.
ENVELOPE = {"PageMetadata", "ListLinks", "ErrorDetail", "Error"}
#: Type names used in annotations; a field may not shadow them in a class body.
RESERVED = {"date", "datetime", "int", "str", "bool", "float", "list", "dict", "Any", "Sequence", "extra"}
META_FIELDS = ("row_num", "total_rows")


@dataclass
class Field:
    """One attribute of a generated model."""

    name: str
    wire: str
    type: str  # the Python annotation without ``| None`` / ``| UnsetType``
    fmt: str | None = None  # local | timestamp | datetime
    doc: str = ""
    phi: bool = False
    required: bool = False
    nullable: bool = False
    validators: list[str] = field(default_factory=list)
    ref: str | None = None  # component schema name behind the field, if any


@dataclass
class Model:
    """One generated attrs class."""

    name: str
    doc: str
    fields: list[Field]
    request: bool = False
    rules: tuple[str, ...] = ()
    note: str = ""  # appended to the docstrings of the methods that send this body


@dataclass
class Operation:
    """One API operation with everything the endpoint row and the resource method need."""

    op_id: str
    method: str
    path: str
    summary: str
    description: str
    tag: str
    path_params: list[tuple[str, str]]  # (name, description)
    namespace: str
    method_name: str
    status: int
    result: str | None  # model name, "str" (redirect) or None (no body)
    list_key: str | None = None
    paginated: bool = False
    sortable: bool = False
    filters: list[Schema] = field(default_factory=list)
    query: str | None = None
    body: str | None = None
    item_list: bool = False  # a list envelope without pagination: returns list[result]
    response_doc: str = ""


#: libyaml's safe loader when PyYAML has it: the same documents, parsed ~20x faster than pure Python.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_spec(path: Path = SPEC_PATH) -> Schema:
    """The spec as plain data."""
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_SAFE_LOADER)  # type: ignore[no-any-return]  # noqa: S506 - a safe loader


def pascal(name: str) -> str:
    """``appointment_book`` / ``listAppointments`` -> ``AppointmentBook`` / ``ListAppointments``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\s-]+", name) if part)


def snake(name: str) -> str:
    """``listAppointmentBook`` -> ``list_appointment_book``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def first_sentence(text: str) -> str:
    """The first sentence of a description, whitespace normalised, ending with a full stop."""
    text = " ".join(text.split())
    text = re.sub(r"^x-confidence \w+: ", "", text)
    match = re.match(r"(.+?(?<!e\.g)(?<!i\.e)[.!?])(?=\s|$)", text)  # "e.g." ends no sentence
    sentence = match.group(1) if match else text
    sentence = sentence.replace('"""', "'''")
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


class SpecReader:
    """Turns the spec into :class:`Model` and :class:`Operation` lists."""

    def __init__(self, spec: Schema) -> None:
        self.spec = spec
        self.schemas: dict[str, Schema] = spec["components"]["schemas"]
        self.models: dict[str, Model] = {}
        self._inline: dict[int, str] = {}
        self.parents: dict[str, tuple[str, str]] = {}  # nested model -> (first owner, property)
        self.timezones: list[str] = self.schemas["TimeZone"]["x-pracsuite-valid-timezones"]
        self.tags = {tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])}

    # -- schema helpers -------------------------------------------------------------------------

    def ref_name(self, schema: Schema) -> str | None:
        ref = schema.get("$ref")
        return ref.rsplit("/", 1)[-1] if ref else None

    def deref(self, schema: Schema) -> Schema:
        name = self.ref_name(schema)
        return self.schemas[name] if name else schema

    def properties(self, schema: Schema) -> dict[str, Schema]:
        """Properties of a (possibly ``allOf``) object schema, later parts overriding earlier ones."""
        schema = self.deref(schema)
        props: dict[str, Schema] = {}
        for part in schema.get("allOf", []):
            props.update(self.properties(part))
        props.update(schema.get("properties", {}))
        return props

    def required(self, schema: Schema) -> list[str]:
        schema = self.deref(schema)
        out = list(schema.get("required", []))
        for part in schema.get("allOf", []):
            out += self.required(part)
        return out

    @staticmethod
    def base_name(name: str) -> str:
        return name.removesuffix("WithMeta")

    def describe(self, name: str, schema: Schema) -> str:
        schema = self.deref(schema)
        for part in [schema, *schema.get("allOf", [])]:
            if "description" in part:
                text = " ".join(part["description"].split())
                if text.startswith("x-confidence inferred: "):
                    return text
                return first_sentence(text)
        return ""

    # -- response models ------------------------------------------------------------------------

    def response_model(self, name: str, schema: Schema, *, meta: bool) -> str:
        """Build (once) the response model ``name`` from ``schema`` and return its name."""
        if name in self.models:
            known = {f.name for f in self.models[name].fields}
            if meta and META_FIELDS[0] not in known:
                self.models[name].fields += [self.meta_field(p) for p in META_FIELDS if p not in known]
            return name
        model = Model(name, "", [])
        self.models[name] = model  # registered first: nested models refer back by name
        props = self.properties(schema)
        for prop, sub in props.items():
            model.fields.append(self.response_field(name, prop, sub))
        if meta:
            model.fields += [self.meta_field(p) for p in META_FIELDS if p not in props]
        model.doc = self.model_doc(name, schema)
        # Spec-required fields and the record's id are never absent or null: absence is a decode error.
        required = {*self.required(schema), self.record_id(name)}
        for fld in model.fields:
            fld.required = fld.wire in required
        return name

    def record_id(self, model: str) -> str | None:
        """The id field of a response model: the table's, else ``<snake name>_id`` when the model has one."""
        if model in tables.ID_FIELDS:
            return tables.ID_FIELDS[model]
        guess = snake(model) + "_id"
        return guess if any(f.wire == guess for f in self.models[model].fields) else None

    def model_doc(self, name: str, schema: Schema) -> str:
        """From the hand table, the schema description, the owning model or the tag of the same name."""
        if name in tables.MODEL_DOCS:
            return tables.MODEL_DOCS[name]
        title = self.deref(schema).get("title") or " ".join(re.findall(r"[A-Z][a-z]*", name))
        text = self.describe(name, schema)
        if text.startswith("x-confidence inferred: "):
            text = first_sentence(text.removeprefix("x-confidence inferred: "))
            return f"{title} (inferred): {text[:1].upper()}{text[1:]}"
        owner, prop = self.parents.get(name, ("", ""))
        if prop == "links":
            return f"Links of ``{owner}``." + (f" {text[:1].upper()}{text[1:]}" if text else "")
        if text:
            return text
        if owner:
            return f"One entry of ``{owner}.{prop}``."
        tag = self.tags.get(title)
        return f"{title}: {first_sentence(tag)}" if tag else f"{title}."

    @staticmethod
    def meta_field(prop: str) -> Field:
        doc = "Row number in a list response." if prop == "row_num" else "Rows in the whole list response."
        return Field(prop, prop, "int", doc=doc)

    def response_field(self, owner: str, prop: str, schema: Schema) -> Field:
        name = prop + "_" if keyword.iskeyword(prop) or prop == "self" else prop
        assert name not in RESERVED, f"{owner}.{prop} shadows a type name"
        phi = owner not in tables.PHI_EXEMPT and (
            prop in tables.PHI["*"] or prop in tables.PHI.get(owner, frozenset())
        )
        out = Field(name, prop, "", doc=self.field_doc(schema), phi=phi)
        out.type, out.fmt = self.response_type(owner, prop, schema)
        out.ref = self.ref_name(schema) or next(
            (self.ref_name(p) for p in schema.get("allOf", []) if self.ref_name(p)), None
        )
        return out

    def field_doc(self, schema: Schema) -> str:
        text = schema.get("description", "")
        return " ".join(text.split()).replace("x-confidence inferred: ", "(inferred) ")

    def response_type(self, owner: str, prop: str, schema: Schema) -> tuple[str, str | None]:
        ref = self.ref_name(schema)
        if ref is None and len(schema.get("allOf", [])) == 1:
            ref = self.ref_name(schema["allOf"][0])
        if ref == "LocalDateTime":
            return "datetime", "local"
        if ref == "Timestamp":
            return "datetime", "timestamp"
        if ref == "Date":
            return "date", None
        if ref in SCALARS:
            return self.response_type(owner, prop, {"type": self.schemas[ref]["type"]})
        if ref is not None:
            self.parents.setdefault(ref, (owner, prop))
            return self.response_model(ref, self.schemas[ref], meta=False), None
        types = schema.get("type", "object")
        types = [t for t in (types if isinstance(types, list) else [types]) if t != "null"]
        if len(types) > 1:
            return " | ".join(self.scalar(t, schema) for t in types), None
        kind = types[0]
        if kind == "array":
            item_type, _ = self.response_type(owner, prop, schema.get("items", {}))
            return f"list[{item_type}]", None
        if kind == "object":
            props = schema.get("properties", {})
            if not props or "additionalProperties" in schema:
                extra = schema.get("additionalProperties")
                value = "str" if isinstance(extra, dict) and extra.get("type") == "string" else "Any"
                return f"dict[str, {value}]", None
            key = id(schema)
            if key not in self._inline:
                self._inline[key] = tables.INLINE_NAMES.get((owner, prop)) or (
                    owner + "Links" if prop == "links" else owner + pascal(prop)
                )
            name = self._inline[key]
            self.parents.setdefault(name, (owner, prop))
            self.response_model(name, schema, meta=False)
            return name, None
        if kind == "string" and schema.get("format") == "date-time":
            return "datetime", "datetime"
        if kind == "string" and schema.get("format") == "date":
            return "date", None
        return self.scalar(kind, schema), None

    @staticmethod
    def scalar(kind: str, schema: Schema) -> str:
        return {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}[kind]

    # -- request models -------------------------------------------------------------------------

    def request_model(
        self, name: str, props: dict[str, Schema], required: list[str], doc: str, schema: Schema | None = None
    ) -> str:
        fields = []
        for prop, sub in props.items():
            fld = self.request_field(name, prop, sub)
            fld.required = prop in required
            fields.append(fld)
        rules = tables.RULES.get((name, None), ())
        note = ""
        if revisions := self.revisions(schema or {}):
            rules = (*rules, self.revision_rule(revisions))
            note = self.revision_doc(revisions)
        self.models[name] = Model(name, f"{doc} {note}".rstrip(), fields, request=True, rules=rules, note=note)
        return name

    @staticmethod
    def revisions(schema: Schema) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """``(label, fields, required)`` per body revision, from ``x-pracsuite-revisions`` and ``oneOf``.

        Each ``oneOf`` branch lists what one revision requires; the branch belongs to the revision
        whose fields contain all of its names.
        """
        declared: dict[str, list[str]] = schema.get("x-pracsuite-revisions", {})
        branches = [tuple(b.get("required", ())) for b in schema.get("oneOf", [])]
        out = []
        for label, names in declared.items():
            needs = next((b for b in branches if b and set(b) <= set(names)), ())
            out.append((label, tuple(names), needs))
        assert not declared or len(out) == 2, f"two revisions expected, got {list(declared)}"
        return out

    @staticmethod
    def revision_rule(revisions: list[tuple[str, tuple[str, ...], tuple[str, ...]]]) -> str:
        parts = [f"_v.Revision({label!r}, {names!r}, {needs!r})".replace("'", '"') for label, names, needs in revisions]
        return "_v.one_revision(\n" + ",\n".join(parts) + ",\n)"

    @staticmethod
    def revision_doc(revisions: list[tuple[str, tuple[str, ...], tuple[str, ...]]]) -> str:
        (first, a, _), (second, b, _) = revisions
        return f"Accepts the {first} fields ({', '.join(a)}) or the {second} revision's ({', '.join(b)}), never both."

    def request_field(self, owner: str, prop: str, schema: Schema) -> Field:
        name = prop + "_" if keyword.iskeyword(prop) else prop
        assert name not in RESERVED, f"{owner}.{prop} shadows a type name"
        phi = prop in tables.PHI["*"] or prop in tables.PHI.get(owner, frozenset())
        doc = self.field_doc(schema)
        nullable = prop in tables.NULLABLE_REQUEST_FIELDS
        # ``anyOf: [X, {type: 'null'}]`` and ``type: [X, 'null']``: X, which may also be sent as null
        branches = [b for b in schema.get("anyOf", schema.get("oneOf", [])) if b.get("type") != "null"]
        if "anyOf" in schema or "oneOf" in schema:
            assert len(branches) == 1, f"{owner}.{prop}: only 'X or null' unions are supported"
            nullable = True
            schema = {**branches[0], "description": schema.get("description", "")}
        if isinstance(schema.get("type"), list):
            kinds = [t for t in schema["type"] if t != "null"]
            assert len(kinds) == 1, f"{owner}.{prop}: only 'X or null' unions are supported"
            nullable = nullable or "null" in schema["type"]
            schema = {**schema, "type": kinds[0]}
        ref = self.ref_name(schema)
        if ref is None and len(schema.get("allOf", [])) == 1:
            ref = self.ref_name(schema["allOf"][0])
        base = self.schemas[ref] if ref else schema
        out = Field(name, prop, "", doc=doc, phi=phi, ref=ref, nullable=nullable)
        out.type, out.fmt, out.validators = self.request_type(prop, ref, base)
        out.validators += list(tables.RULES.get(("*", prop), ()))
        out.validators += list(tables.RULES.get((owner, prop), ()))
        return out

    def request_type(self, prop: str, ref: str | None, schema: Schema) -> tuple[str, str | None, list[str]]:
        if ref == "LocalDateTime":
            return "datetime", "local", ["_v.local_datetime()"]
        if ref == "Date" or schema.get("format") == "date":
            return "date", None, ["_v.date_value()"]
        kind = schema.get("type")
        if kind == "array":
            item, _, item_checks = self.request_type(prop.removesuffix("s"), None, schema["items"])
            return f"Sequence[{item}]", None, ["_v.sequence()", f"_v.each({', '.join(item_checks)})"]
        checks = {
            "integer": "_v.integer()",
            "number": "_v.number()",
            "boolean": "_v.boolean()",
            "string": "_v.string()",
        }
        out = [checks[kind]]
        if kind == "integer" and prop.endswith("_id"):
            out.append("_v.at_least(1)")
        if "minimum" in schema and "maximum" in schema:
            out.append(f"_v.between({schema['minimum']}, {schema['maximum']})")
        elif "minimum" in schema:
            out.append(f"_v.at_least({schema['minimum']})")
        if "multipleOf" in schema:
            out.append(f"_v.multiple_of({schema['multipleOf']})")
        if "maxLength" in schema:
            out.append(f"_v.max_length({schema['maxLength']})")
        if "enum" in schema:
            out.append(f"_v.one_of({tuple(schema['enum'])!r})")
        if "x-pracsuite-valid-timezones" in schema:  # the guide's list is advisory: any IANA id zoneinfo knows
            out.append("_v.time_zone(VALID_TIMEZONES)")
        if "pattern" in schema and ref in tables.PATTERN_LABELS:
            out.append(f"_v.matches({schema['pattern']!r}, {tables.PATTERN_LABELS[ref]!r})")
        return self.scalar(kind, schema), None, out

    # -- operations -----------------------------------------------------------------------------

    def operations(self) -> list[Operation]:
        ops = []
        for path, item in self.spec["paths"].items():
            for method, op in item.items():
                ops.append(self.operation(path, method.upper(), op))
        missing = {o.op_id for o in ops} ^ set(tables.NAMESPACE_METHODS)
        assert not missing, f"NAMESPACE_METHODS does not match the spec: {sorted(missing)}"
        return ops

    def operation(self, path: str, method: str, op: Schema) -> Operation:
        op_id = op["operationId"]
        params = [self.deref_param(p) for p in op.get("parameters", [])]
        names = {p["name"] for p in params}
        namespace, method_name = tables.NAMESPACE_METHODS[op_id]
        status_key, response = next((k, v) for k, v in op["responses"].items() if k[0] in "23")
        status = {"2XX": 200, "3XX": 302}.get(status_key) or int(status_key)
        out = Operation(
            op_id=op_id,
            method=method,
            path=path,
            summary=op["summary"],
            description=" ".join(op.get("description", "").split()),
            tag=op["tags"][0],
            path_params=[(p["name"], p.get("description", "")) for p in params if p["in"] == "path"],
            namespace=namespace,
            method_name=method_name,
            status=status,
            result=None,
            paginated={"page", "page_size"} <= names,
            sortable="sort_by" in names,
        )
        self.operation_result(out, response)
        out.response_doc = " ".join(response.get("description", "").split())
        for p in params:
            if p["name"] == "q[]":
                out.filters = p["x-pracsuite-filters"]
        query = [p for p in params if p["in"] == "query" and p["name"] not in {"page", "page_size", "sort_by", "q[]"}]
        if query:
            props = {p["name"]: {**p["schema"], "description": p.get("description", "")} for p in query}
            required = [p["name"] for p in query if p.get("required")]
            doc = f"Query of ``{op_id}`` (``{method} {path}``)."
            out.query = self.request_model(pascal(op_id) + "Query", props, required, doc)
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body:
            name = self.ref_name(body)
            assert name, f"{op_id}: inline request bodies are not supported"
            schema = self.schemas[name]
            desc = self.describe(name, schema)
            doc = f"Body of ``{op_id}`` (``{method} {path}``)." + (f" {desc}" if desc else "")
            out.body = self.request_model(name, self.properties(schema), self.required(schema), doc, schema)
        return out

    def deref_param(self, param: Schema) -> Schema:
        name = self.ref_name(param)
        return self.spec["components"]["parameters"][name] if name else param

    def operation_result(self, out: Operation, response: Schema) -> None:
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            out.result = "str" if str(out.status).startswith("3") else None
            return
        ref = self.ref_name(schema)
        if ref is None:  # a list envelope: {<key>: [items], total_entries, links}
            out.list_key, prop = next((k, v) for k, v in schema["properties"].items() if v.get("type") == "array")
            ref = self.ref_name(prop["items"])
            assert ref, f"{out.op_id}: inline list items are not supported"
            out.item_list = not out.paginated
        meta = out.list_key is not None or ref.endswith("WithMeta") or any(
            self.ref_name(part) + "WithMeta" in self.schemas
            for part in self.schemas[ref].get("allOf", [])
            if self.ref_name(part)
        )
        name = self.base_name(ref)
        out.result = self.response_model(name, self.schemas[name], meta=meta or name + "WithMeta" in self.schemas)

    def id_field(self, model: str) -> str | None:
        if model in tables.ID_FIELDS:
            return tables.ID_FIELDS[model]
        guess = snake(model) + "_id"
        names = {f.name for f in self.models[model].fields}
        assert guess in names, f"ID_FIELDS needs an entry for {model}"
        return guess
