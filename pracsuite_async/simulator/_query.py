"""List query language: ``page``/``page_size``, ``q[]`` filters and ``sort_by`` (README "Basics").

Parsing turns query strings into hashable tuples (so results can be cached per
query); compiling turns filters into predicates over records.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
from multidict import MultiMapping

from pracsuite_async.simulator._data import Record
from pracsuite_async.simulator._http import bad_params
from pracsuite_async.simulator._rules import parse_date, parse_local

ORDERED = ("=", "!=", "<", "<=", ">", ">=")
#: Operators per filter type (README "Filtering"); ``double`` is undocumented and gets the ordered set.
OPERATORS: dict[str, tuple[str, ...]] = {
    "date": ORDERED,
    "timestamp": ("<", "<=", ">", ">="),
    "datetime": ORDERED,
    "integer": ORDERED,
    "double": ORDERED,
    "string": ("=", "!=", "~"),
    "boolean": ("=", "!="),
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SPACE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DOUBLE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

Filter = tuple[str, str, Any]
Sort = tuple[tuple[str, bool], ...]


@attrs.frozen
class FilterDef:
    """A ``q[]`` field: its type, the record key it reads, and optional limits."""

    kind: str
    key: str = ""
    operators: tuple[str, ...] = ()
    choices: tuple[int, ...] = ()

    def ops(self) -> tuple[str, ...]:
        """Operators allowed for this field."""
        return self.operators or OPERATORS[self.kind]


def page_params(query: MultiMapping[str]) -> tuple[int, int]:
    """``(page, page_size)`` with the documented defaults and bounds (400 outside them)."""
    page = _int_param(query, "page", 1)
    size = _int_param(query, "page_size", DEFAULT_PAGE_SIZE)
    if page < 1:
        msg = "page must be >= 1"
        raise bad_params(msg)
    if not 1 <= size <= MAX_PAGE_SIZE:
        msg = f"page_size must be between 1 and {MAX_PAGE_SIZE}"
        raise bad_params(msg)
    return page, size


def _int_param(query: MultiMapping[str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not _INTEGER.match(raw.strip()):
        msg = f"{name} must be an integer"
        raise bad_params(msg)
    return int(raw)


def parse_filters(query: MultiMapping[str], defs: Mapping[str, FilterDef]) -> tuple[Filter, ...]:
    """Every ``q[]`` (or ``q``) condition as ``(record key, operator, typed value)``, sorted."""
    raw = query.getall("q[]", []) + query.getall("q", [])
    if raw and not defs:
        msg = "this operation does not support q[] filters"
        raise bad_params(msg)
    return tuple(sorted((parse_filter(text, defs) for text in raw), key=repr))


def parse_filter(text: str, defs: Mapping[str, FilterDef]) -> Filter:
    """Parse one ``FIELD:OPERATORVALUE`` condition (400 on any problem)."""
    field, sep, rest = text.partition(":")
    if not sep or not field:
        msg = "q[] filters must look like field:OPERATORvalue"
        raise bad_params(msg)
    spec = defs.get(field)
    if spec is None:
        msg = f"q[] field {field!r} is not filterable here; use one of {sorted(defs)}"
        raise bad_params(msg)
    op = rest[:2] if rest[:2] in ("!=", "<=", ">=") else rest[:1]
    if op not in _COMPARE and op != "~":
        msg = f"q[] filter on {field!r} needs an operator"
        raise bad_params(msg)
    if op not in spec.ops():
        msg = f"operator {op!r} is not allowed for {spec.kind} field {field!r}"
        raise bad_params(msg)
    value = _typed(spec, field, rest[len(op) :])
    return (spec.key or field, op, value)


def _typed(spec: FilterDef, field: str, raw: str) -> Any:
    kind = spec.kind
    if kind == "string":
        return raw
    if kind == "integer":
        if not _INTEGER.match(raw):
            msg = f"q[] value for {field!r} must be an integer"
            raise bad_params(msg)
        value = int(raw)
        if spec.choices and value not in spec.choices:
            msg = f"q[] value for {field!r} must be one of {list(spec.choices)}"
            raise bad_params(msg)
        return value
    if kind == "double":
        if not _DOUBLE.match(raw):
            msg = f"q[] value for {field!r} must be a number"
            raise bad_params(msg)
        return float(raw)
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            msg = f"q[] value for {field!r} must be true or false"
            raise bad_params(msg)
        return raw.lower() == "true"
    if kind == "date":
        if parse_date(raw) is None:
            msg = f"q[] value for {field!r} must be a date yyyy-MM-dd"
            raise bad_params(msg)
        return raw
    if kind == "datetime":
        if parse_local(raw) is None:
            msg = f"q[] value for {field!r} must be a datetime yyyy-MM-ddTHH:mm:ss"
            raise bad_params(msg)
        return raw[:10] + "T" + raw[11:]
    return _timestamp(field, raw)


def _timestamp(field: str, raw: str) -> str:
    """Normalise to the stored form (UTC, six fraction digits, ``Z``) so strings compare correctly."""
    try:
        # A '+' offset arrives as a space when the client did not percent-encode it.
        moment = datetime.fromisoformat(_SPACE_OFFSET.sub(r"+\1", raw.replace("z", "Z")))
    except ValueError:
        msg = f"q[] value for {field!r} must be a timestamp yyyy-MM-ddTHH:mm:ssZ"
        raise bad_params(msg) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compile_filter(flt: Filter) -> Callable[[Record], bool]:
    """A predicate for one parsed filter; ``null`` never matches, lists match on any element."""
    key, op, value = flt
    if op == "~":
        needle = str(value).lower()

        def contains(rec: Record) -> bool:
            v = rec.get(key)
            if v is None:
                return False
            if isinstance(v, tuple | list):
                return any(needle in str(x).lower() for x in v)
            return needle in str(v).lower()

        return contains
    compare = _COMPARE[op]

    def check(rec: Record) -> bool:
        v = rec.get(key)
        if v is None:
            return False
        if isinstance(v, tuple | list):
            if op == "!=":
                return all(x != value for x in v)
            return any(x is not None and compare(x, value) for x in v)
        return bool(compare(v, value))

    return check


def parse_sort(
    query: MultiMapping[str], allowed: frozenset[str], keys: Mapping[str, str], *, json_only: bool = False
) -> Sort:
    """``sort_by`` as ``((record key, descending), ...)``.

    Accepts the documented URL-encoded JSON array ``["a","b"]`` (README "Sorting"),
    and unless ``json_only`` also ``a,b`` and repeated parameters; a leading ``-``
    sorts that field descending (the direction syntax is undocumented).
    """
    names: list[str] = []
    for raw in query.getall("sort_by", []) + query.getall("sort_by[]", []):
        text = raw.strip()
        if json_only and not text.startswith("["):
            msg = "sort_by must be a JSON array of field names"
            raise bad_params(msg)
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                msg = "sort_by is not a valid JSON list"
                raise bad_params(msg) from None
            if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
                msg = "sort_by must be a list of field names"
                raise bad_params(msg)
            names.extend(parsed)
        else:
            names.extend(text.split(","))
    result: list[tuple[str, bool]] = []
    for name in names:
        clean = name.strip().strip('"')
        if not clean:
            continue
        desc = clean.startswith("-")
        field = clean.lstrip("+-").strip()
        if field not in allowed:
            msg = f"cannot sort by {field!r}"
            raise bad_params(msg)
        result.append((keys.get(field, field), desc))
    return tuple(result)


def sort_ids(ids: list[int], rows: Mapping[int, Record], sort: Sort) -> list[int]:
    """Stable multi-key sort (``None`` first when ascending); ties keep ascending id order."""
    for key, desc in reversed(sort):
        ids.sort(key=_keyer(rows, key), reverse=desc)
    return ids


def _keyer(rows: Mapping[int, Record], key: str) -> Callable[[int], tuple[bool, Any]]:
    def sort_key(rid: int) -> tuple[bool, Any]:
        value = rows[rid].get(key)
        return (value is not None, value)

    return sort_key


def render_page(
    list_key: str,
    items: Sequence[str],
    total: int,
    links: Mapping[str, str],
) -> str:
    """The list envelope ``{<list_key>: [...], total_entries, links}`` from pre-rendered items."""
    return (
        f'{{"{list_key}":[{",".join(items)}],"total_entries":{total},"links":'
        f"{json.dumps(links, separators=(',', ':'))}}}"
    )
