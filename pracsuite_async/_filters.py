"""``q[]`` filter expressions and ``sort_by``, validated before anything is sent.

A filter is ``FIELD:OPERATORVALUE``; every ``q[]`` is ANDed (README "Filtering")::

    from datetime import UTC, datetime

    filters = [
        F("business_id") == 5,
        F("app_time") >= datetime(2025, 1, 1, 9),  # naive: app_time is tenant-local
        F("created") < datetime(2024, 6, 1, tzinfo=UTC),  # aware: timestamps are UTC
        F("first_name").contains("jo"),
        "archived:=false",  # the raw wire form is accepted too
        RawFilter("arrival_time:>=2025-01-01T09:00:00"),  # a field the spec's table lacks
    ]

:func:`encode_filters` checks each filter against the operation's filterable fields
(``x-pracsuite-filters`` in the spec): the field must exist, the operator must be
allowed for it and the value must have the field's type. Errors name the field and
the rule, never the value, because values (names, birth dates) are often patient data.

:class:`RawFilter` is the way through for a field the spec's table lacks: only its
``field:OPvalue`` shape is checked, and it is sent as one ``q[]`` parameter that the
query encoder URL-encodes like any other (never pasted into the URL by hand).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from pracsuite_async._endpoints import FilterField, FilterKind
from pracsuite_async._errors import RequestTypeError, RequestValidationError

__all__ = ["F", "FieldRef", "Filter", "RawFilter", "encode_filters", "encode_sort"]

#: Every operator the API knows, longest first so ``<=`` is matched before ``<``.
OPERATORS: tuple[str, ...] = ("!=", "<=", ">=", "=", "<", ">", "~")

_COMPARE = ("=", "!=", "<", "<=", ">", ">=")
#: Operators by kind (README "Filtering"), used when a table row lists none.
#: ``timestamp`` has no equality because stored values carry microseconds; ``double``
#: has no documented table, so it gets the integer comparisons.
KIND_OPERATORS: Mapping[FilterKind, tuple[str, ...]] = {
    "date": _COMPARE,
    "timestamp": ("<", "<=", ">", ">="),
    "datetime": _COMPARE,
    "integer": _COMPARE,
    "double": _COMPARE,
    "string": ("=", "!=", "~"),
    "boolean": ("=", "!="),
}

# Field names are echoed in errors only when they look like names, so a mistyped
# raw filter such as "Jo Smith" never ends up in a message.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})")
_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)[Zz]")
_INTEGER = re.compile(r"[+-]?\d+")
_DOUBLE = re.compile(r"[+-]?\d+(?:\.\d+)?")


# Parameter names used as the error's ``field`` when no filter field can be named.
_Q = "q[]"
_SORT = "sort_by"


def _redacted(_: object) -> str:
    return "<redacted>"


@attrs.frozen
class Filter:
    """One ``q[]`` condition, ``field:OPvalue``; build it with :func:`F`.

    Attributes:
        field: The filterable field's name, e.g. ``"app_time"``.
        op: One of ``= != < <= > >= ~``.
        value: A Python value of the field's type (``date``, ``datetime``, ``int``,
            ``float``, ``bool``, ``str``); hidden from ``repr`` as it may be patient data.
    """

    field: str
    op: str
    value: object = attrs.field(repr=_redacted)


def _check_raw(_inst: object, _attr: attrs.Attribute[str], value: str) -> None:
    checked: object = value  # callers are not all type-checked
    if not isinstance(checked, str):
        msg = "a raw filter takes a 'field:OPvalue' string"
        raise RequestTypeError(_Q, msg)
    name, sep, rest = value.partition(":")
    if not sep or not _NAME.fullmatch(name) or not rest.startswith(OPERATORS):
        msg = f"a raw filter must look like 'field:OPvalue' with OP one of {' '.join(OPERATORS)}"
        raise RequestValidationError(_Q, msg)
    if any(ord(c) < 32 for c in rest):  # control characters
        msg = "a raw filter's value must not contain control characters"
        raise RequestValidationError(name, msg)


@attrs.frozen
class RawFilter:
    """A ``q[]`` expression sent as written, for a field the spec's filter table lacks.

    ``RawFilter("arrival_time:>=2025-01-01T09:00:00")`` is checked only for its
    ``field:OPvalue`` shape (a field name, ``:``, one of ``= != < <= > >= ~``); the
    field, operator and value are the server's to judge. It is URL-encoded with the
    rest of the query. Prefer :func:`F` for fields the operation documents: it checks
    the field, the operator and the value's type before anything is sent.

    Attributes:
        expression: The whole ``field:OPvalue`` text; hidden from ``repr`` as the value
            may be patient data.

    Raises:
        RequestTypeError: ``expression`` is not a string.
        RequestValidationError: ``expression`` does not have the ``field:OPvalue`` shape.
    """

    expression: str = attrs.field(validator=_check_raw, repr=_redacted)


class FieldRef:
    """A filterable field; comparing it builds a :class:`Filter`.

    ``F("duration") >= 30`` is ``Filter("duration", ">=", 30)``. The methods
    :meth:`eq`, :meth:`ne`, :meth:`lt`, :meth:`le`, :meth:`gt`, :meth:`ge` and
    :meth:`contains` do the same for code that prefers names to operators.
    """

    __slots__ = ("name",)
    # ``==`` builds a Filter instead of comparing, so a FieldRef cannot be a dict key.
    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # object declares __hash__ as a method

    def __init__(self, name: str) -> None:
        self.name: str = name

    def __repr__(self) -> str:
        return f"F({self.name!r})"

    def eq(self, value: object) -> Filter:
        """``field:=value``."""
        return Filter(self.name, "=", value)

    def ne(self, value: object) -> Filter:
        """``field:!=value``."""
        return Filter(self.name, "!=", value)

    def lt(self, value: object) -> Filter:
        """``field:<value``."""
        return Filter(self.name, "<", value)

    def le(self, value: object) -> Filter:
        """``field:<=value``."""
        return Filter(self.name, "<=", value)

    def gt(self, value: object) -> Filter:
        """``field:>value``."""
        return Filter(self.name, ">", value)

    def ge(self, value: object) -> Filter:
        """``field:>=value``."""
        return Filter(self.name, ">=", value)

    def contains(self, text: str) -> Filter:
        """``field:~text``: substring match, string fields only."""
        return Filter(self.name, "~", text)

    # The comparison operators build expressions, as SQLAlchemy columns do; returning
    # Filter rather than bool is the point, hence the override ignores.
    def __eq__(self, value: object) -> Filter:  # type: ignore[override]
        return self.eq(value)

    def __ne__(self, value: object) -> Filter:  # type: ignore[override]
        return self.ne(value)

    def __lt__(self, value: object) -> Filter:
        return self.lt(value)

    def __le__(self, value: object) -> Filter:
        return self.le(value)

    def __gt__(self, value: object) -> Filter:
        return self.gt(value)

    def __ge__(self, value: object) -> Filter:
        return self.ge(value)


def F(field: str) -> FieldRef:  # noqa: N802 - a short, capitalised factory reads like the expression it builds
    """Refer to a filterable field: ``F("app_time") >= datetime(2025, 1, 1, 9)``.

    Args:
        field: The field name as the API spells it.

    Returns:
        A :class:`FieldRef` whose comparisons return :class:`Filter` objects.
    """
    return FieldRef(field)


def _shown(name: str) -> str:
    return repr(name) if _NAME.fullmatch(name) else "a field"


def _parse_raw(text: str) -> Filter:
    """Split ``"field:OPvalue"``; the value stays text until the field's kind is known."""
    name, sep, rest = text.partition(":")
    if not sep or not _NAME.fullmatch(name):
        msg = "a raw filter must look like 'field:OPvalue', e.g. 'business_id:=5'"
        raise RequestValidationError(_Q, msg)
    for op in OPERATORS:
        if rest.startswith(op):
            return Filter(name, op, rest[len(op) :])
    msg = f"a raw filter needs an operator after ':', one of {' '.join(OPERATORS)}"
    raise RequestValidationError(name, msg)


def _text_value(name: str, kind: FilterKind, text: str) -> object:
    """Turn a raw filter's value text into the Python value the typed path expects."""
    # A shape that matches but is not a real date (2000-02-30, 25:00) falls through.
    with contextlib.suppress(ValueError):
        match kind:
            case "date" if _DATE.fullmatch(text):
                return date.fromisoformat(text)
            case "datetime" if m := _DATETIME.fullmatch(text):
                return datetime.fromisoformat(f"{m[1]}T{m[2]}")
            case "timestamp" if m := _TIMESTAMP.fullmatch(text):
                return datetime.fromisoformat(f"{m[1]}T{m[2]}+00:00")
            case "integer" if _INTEGER.fullmatch(text):
                return int(text)
            case "double" if _DOUBLE.fullmatch(text):
                return Decimal(text)
            case "boolean" if text.lower() in {"true", "false"}:
                return text.lower() == "true"
            case "string":
                return text
    msg = f"the value must be {_EXPECTED[kind]}"
    raise RequestValidationError(name, msg)


_EXPECTED: Mapping[FilterKind, str] = {
    "date": "a date, YYYY-MM-DD",
    "datetime": "a tenant-local date and time, YYYY-MM-DDTHH:MM:SS",
    "timestamp": "a UTC timestamp, YYYY-MM-DDTHH:MM:SS[.ffffff]Z",
    "integer": "an integer",
    "double": "a decimal number",
    "boolean": "true or false",
    "string": "text",
}


def _format_date(name: str, value: object) -> str:
    # datetime subclasses date; accepting it would silently drop the time of day.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise RequestTypeError(name, "a date filter takes a datetime.date (not a datetime)")
    return value.isoformat()


def _format_datetime(name: str, value: object) -> str:
    if not isinstance(value, datetime):
        raise RequestTypeError(name, "a datetime filter takes a datetime.datetime")
    if value.utcoffset() is not None:
        msg = "a datetime filter takes a naive datetime in the clinic's time zone, not an aware one"
        raise RequestValidationError(name, msg)
    # The wire format has whole seconds; isoformat() also zero-pads years before 1000.
    return value.replace(microsecond=0).isoformat()


def _format_timestamp(name: str, value: object) -> str:
    if not isinstance(value, datetime):
        raise RequestTypeError(name, "a timestamp filter takes a datetime.datetime")
    if value.utcoffset() is None:
        msg = "a timestamp filter takes an aware datetime (e.g. tzinfo=UTC), not a naive one"
        raise RequestValidationError(name, msg)
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat() + "Z"  # isoformat adds .ffffff only when microseconds are non-zero


def _format_integer(name: str, value: object) -> str:
    # bool is an int subclass; True as an id is always a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestTypeError(name, "an integer filter takes an int")
    return str(int(value))


def _format_double(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise RequestTypeError(name, "a number filter takes an int, float or Decimal")
    # Through Decimal (repr for floats: the shortest exact text) so 1e20 is sent as digits.
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise RequestValidationError(name, "a number filter takes a finite number")
    return format(number, "f")


def _format_boolean(name: str, value: object) -> str:
    if not isinstance(value, bool):
        raise RequestTypeError(name, "a boolean filter takes a bool")
    return "true" if value else "false"


def _format_string(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise RequestTypeError(name, "a string filter takes a str")
    return value


_FORMATTERS: Mapping[FilterKind, Callable[[str, object], str]] = {
    "date": _format_date,
    "datetime": _format_datetime,
    "timestamp": _format_timestamp,
    "integer": _format_integer,
    "double": _format_double,
    "boolean": _format_boolean,
    "string": _format_string,
}


def _encode_one(item: object, allowed: Mapping[str, FilterField]) -> str:
    if isinstance(item, RawFilter):
        return item.expression
    raw = isinstance(item, str)
    if raw:
        item = _parse_raw(str(item))
    if not isinstance(item, Filter):
        msg = "each filter must be a Filter (F('business_id') == 5), a RawFilter or a 'field:OPvalue' string"
        raise RequestTypeError(_Q, msg)
    name = item.field
    if not _NAME.fullmatch(name):
        msg = "a filter's field must be a field name"
        raise RequestValidationError(_Q, msg)
    row = allowed.get(name)
    if row is None:
        names = ", ".join(sorted(allowed)) or "none"
        raise RequestValidationError(name, f"is not a filterable field of this operation; allowed: {names}")
    operators = row.operators or KIND_OPERATORS[row.kind]
    if item.op not in operators:
        shown = repr(item.op) if item.op in OPERATORS else "this operator"
        msg = f"{shown} is not allowed for a {row.kind} field; allowed: {' '.join(operators)}"
        raise RequestValidationError(name, msg)
    # A raw filter's value is text; parse it for the kind so both forms share one encoder.
    value = _text_value(name, row.kind, str(item.value)) if raw else item.value
    text = _FORMATTERS[row.kind](name, value)
    if row.values and value not in row.values:
        msg = f"the value must be one of {', '.join(map(str, row.values))}"
        raise RequestValidationError(name, msg)
    return f"{name}:{item.op}{text}"


def encode_filters(
    filters: Sequence[Filter | RawFilter | str], allowed: Mapping[str, FilterField]
) -> list[tuple[str, str]]:
    """Validate filters and encode them as repeated ``q[]`` query parameters.

    Args:
        filters: :class:`Filter` objects, raw ``"field:OPvalue"`` strings (checked
            against the table like filters) and/or :class:`RawFilter` objects (sent as
            written).
        allowed: The operation's filterable fields (``Endpoint.filters``).

    Returns:
        ``[("q[]", "field:OPvalue"), ...]`` in the given order.

    Raises:
        RequestTypeError: A filter or its value has the wrong Python type.
        RequestValidationError: An unknown field, an operator the field does not
            allow, an aware ``datetime`` for a tenant-local field (or a naive one for a
            UTC timestamp), or raw value text that does not parse for the field's kind.
    """
    if isinstance(filters, str | Filter | RawFilter):
        msg = "filters must be a list of filters, not a single filter"
        raise RequestTypeError(_Q, msg)
    return [("q[]", _encode_one(item, allowed)) for item in filters]


def encode_sort(sort_by: Sequence[str], allowed_fields: Collection[str], id_field: str | None) -> str | None:
    """Validate ``sort_by`` and return its wire form, ``["app_time","appointment_id"]``.

    The wire form is a JSON array, URL-encoded by the query encoder (``x-pracsuite-wire:
    json-array`` on the spec's ``SortBy`` parameter, README "Sorting"). ``id_field`` is
    appended as a tie-breaker when the operation can sort on it and it is not already
    listed, so rows with equal sort keys keep a stable order across pages.

    A leading ``-`` (``"-app_time"``) is passed through as a request for descending
    order. This is a guess: the API documents no direction syntax, so a server may
    ignore or reject it. Pagination never depends on the order either way.

    Args:
        sort_by: Field names, each optionally prefixed with ``-``.
        allowed_fields: The names the operation can sort on (``Endpoint.sort_fields``).
        id_field: The record's id field, or ``None`` for no tie-breaker.

    Returns:
        The ``sort_by`` value, or ``None`` when ``sort_by`` is empty (nothing is sent).

    Raises:
        RequestTypeError: ``sort_by`` is a single string or holds a non-string.
        RequestValidationError: An unknown or repeated field.
    """
    if isinstance(sort_by, str):
        msg = "must be a list of field names, not a single string"
        raise RequestTypeError(_SORT, msg)
    if not sort_by:
        return None
    seen: set[str] = set()
    entries: Sequence[object] = sort_by  # checked at runtime: callers are not all type-checked
    for entry in entries:
        if not isinstance(entry, str):
            msg = "each entry must be a field name (str)"
            raise RequestTypeError(_SORT, msg)
        name = entry.removeprefix("-")
        if name not in allowed_fields:
            names = ", ".join(sorted(allowed_fields)) or "none"
            msg = f"{_shown(name)} is not a sortable field of this operation; allowed: {names}"
            raise RequestValidationError(_SORT, msg)
        if name in seen:
            msg = f"{name!r} is listed more than once"
            raise RequestValidationError(_SORT, msg)
        seen.add(name)
    parts = list(sort_by)
    if id_field is not None and id_field not in seen and id_field in allowed_fields:
        parts.append(id_field)
    return json.dumps(parts, separators=(",", ":"))
