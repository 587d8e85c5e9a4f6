"""The one cattrs converter: JSON data to models and back, fast, with decode problems as paths.

Most fields of a response model are optional, so cattrs' generic ``Optional`` handling
would re-resolve the inner hook for every value (half of the default cost, see
``PERFORMANCE-NOTES.md`` 1c). Instead a hook factory generates, once per model class,
a structure function (and a list version of it, for pages) that reads every known key
at once, converts only non-``None`` values with a hook resolved up front, keeps
unknown keys in ``extra`` and fills the slots of a new instance directly. The matching
unstructure function writes the known fields (by wire name) and ``extra`` back, so a
round trip keeps everything the server sent.

Strict decoding, lenient reading (README "Reading rules"): every scalar is
type-checked (``type(v) is int``: a ``bool``, a float or a numeric string is not an
integer; an ``int`` is accepted where a number is); a field typed without ``None``
(spec-required, or the record's id) must be present and not null. Time formats
(README "Dates/times"): ``app_time`` and other tenant-local times are naive; a
trailing ``Z``, an offset or fractional seconds are read and the wall-clock time is
kept. Timestamps are aware UTC (``...Z``, microseconds kept); other date-times are
aware when they carry an offset.

Bad data raises :class:`StructureError` whose ``problems`` read ``"message @ $.path"``
and never contain the offending value (it may be patient data).
"""

from __future__ import annotations

import json
import linecache
import operator
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from types import UnionType
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints

import attrs
import cattrs

from pracsuite_async._json import loads
from pracsuite_async._types import UNSET
from pracsuite_async.models._base import Model

__all__ = [
    "CONVERTER",
    "TIME_KINDS",
    "TIME_NAMES",
    "StructureError",
    "decodes_int",
    "field_names",
    "is_bare",
    "query_params",
    "structure",
    "structure_list",
    "time_lines",
    "unstructure",
    "wire_keys",
]

T = TypeVar("T")
_Hook = Callable[..., Any]


class StructureError(ValueError):
    """Data does not fit a model; ``problems`` are ``"message @ $.path"`` strings, without values."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "; ".join(self.problems)


class _Invalid(Exception):  # noqa: N818 - private signal from generated hooks, never escapes
    """Raised by a generated hook; the public functions diagnose the data and raise StructureError."""


# -- time formats -------------------------------------------------------------------------------

_fromiso = datetime.fromisoformat


def _parse_local(value: str) -> datetime:
    # Lenient: "...Z", an offset or a fraction may come back; the wall-clock part is the local time.
    return _parse_datetime(value).replace(tzinfo=None)


def _parse_datetime(value: str) -> datetime:
    try:
        return _fromiso(value)
    except ValueError:
        if value[-1:] != "z":  # the docs also show a lower-case zone designator
            raise
        return _fromiso(value[:-1] + "Z")


def _parse_timestamp(value: str) -> datetime:
    result = _parse_datetime(value)
    return result if result.tzinfo is not None else result.replace(tzinfo=UTC)


def _format_local(value: datetime) -> str:
    # Request models reject sub-second times (writes are strict); a read fraction round-trips.
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")


def _format_timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"


def _format_datetime(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_PARSERS: dict[str, Callable[[str], date]] = {
    "local": _parse_local,
    "timestamp": _parse_timestamp,
    "datetime": _parse_datetime,
    "date": date.fromisoformat,
}
#: The kinds of time field, and the names the lines of :func:`time_lines` use (a generator
#: puts them in the namespace of its generated code).
TIME_KINDS = ("local", "timestamp", "datetime", "date")
TIME_NAMES: dict[str, Any] = {"fromiso": _fromiso, "fromdate": date.fromisoformat, "UTC": UTC}


def time_lines(v: str, kind: str) -> list[str]:
    """Generated source that reads the time text in the variable ``v`` (not ``None``) in place.

    The reading rules of every generated path (the hooks here, ``_fastpage``): ``fromisoformat``
    and, for tenant-local times, the wall-clock part of ``...Z`` or an offset; a naive
    timestamp is UTC. What ``fromisoformat`` does not read (a lower-case ``z``) raises
    ``ValueError``, and the caller's slower path decides, with :data:`_PARSERS`.
    """
    if kind == "date":
        return [f"{v} = fromdate({v})"]
    lines = [f"{v} = fromiso({v})"]
    if kind == "local":
        lines += [f"if {v}.tzinfo is not None:", f"    {v} = {v}.replace(tzinfo=None)"]
    elif kind == "timestamp":
        lines += [f"if {v}.tzinfo is None:", f"    {v} = {v}.replace(tzinfo=UTC)"]
    return lines


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "local": _format_local,
    "timestamp": _format_timestamp,
    "datetime": _format_datetime,
    "date": date.isoformat,
}
_EXPECTED = {
    "local": "expected a local date-time yyyy-MM-ddTHH:mm:ss",
    "timestamp": "expected an RFC 3339 timestamp",
    "datetime": "expected an ISO 8601 date-time",
    "date": "expected a date yyyy-MM-dd",
    "model": "expected an object",
    "dict": "expected an object",
    "models": "expected a list",
    "list": "expected a list",
}
_SCALARS = (int, str, bool, float)
_SCALAR_NAMES = {int: "an integer", str: "a string", bool: "a boolean", float: "a number"}
#: Classes a JSON value of each declared type may have: an integer is a number (kept as it came).
_ACCEPTS: dict[type, tuple[type, ...]] = {int: (int,), str: (str,), bool: (bool,), float: (float, int)}


# -- field plans --------------------------------------------------------------------------------


@attrs.frozen
class _Field:
    """How one attribute is read and written: its wire name, kind and nested type."""

    name: str
    wire: str
    kind: str  # plain | local | timestamp | datetime | date | model | models | list | dict | other
    inner: Any = None  # plain: the accepted classes; model(s): the model; list: the item type
    required: bool = False  # typed without None: absent or null does not decode

    @property
    def expected(self) -> str:
        """The rule a bad value broke, for problems: never the value itself."""
        if self.kind == "plain":
            names = [_SCALAR_NAMES[c] for c in self.inner if not (c is int and float in self.inner)]
            return "expected " + " or ".join(names)
        return _EXPECTED.get(self.kind, "invalid value")


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Model)


def _kind(tp: Any, fmt: str | None) -> tuple[str, Any]:
    args = [a for a in get_args(tp) if a is not type(None) and a is not type(UNSET)]
    if get_origin(tp) in (Union, UnionType) and len(args) == 1:
        tp = args[0]  # X | None, X | UnsetType
    origin = get_origin(tp)
    if tp is datetime:
        return fmt or "datetime", None
    if tp is date:
        return "date", None
    if _is_model(tp):
        return "model", tp
    if origin in (list, Sequence):  # Sequence: the list fields of request models
        item = get_args(tp)[0]
        return ("models", item) if _is_model(item) else ("list", item)
    if origin is dict:
        return "dict", None
    if tp in _SCALARS:
        return "plain", _ACCEPTS[tp]
    if args and all(a in _SCALARS for a in args):
        return "plain", tuple(dict.fromkeys(c for a in args for c in _ACCEPTS[a]))
    return "other", tp


def _nullable(tp: Any) -> bool:
    return type(None) in get_args(tp)


def _structure_hook(cls: Any) -> _Hook:
    """The hook for ``cls``, typed to be called with the data alone (generated hooks allow that)."""
    return cast("_Hook", CONVERTER.get_structure_hook(cls))


_FIELDS: dict[type, tuple[_Field, ...]] = {}  # a cache: models never change after import


def _fields(cls: type) -> tuple[_Field, ...]:
    """The read/write plan of an attrs class, computed once per class."""
    plan = _FIELDS.get(cls)
    if plan is None:
        hints, model = get_type_hints(cls), _is_model(cls)
        plan = _FIELDS[cls] = tuple(
            _Field(
                a.name,
                a.metadata.get("wire", a.name),
                *_kind(hints[a.name], a.metadata.get("format")),
                required=model and not _nullable(hints[a.name]),
            )
            for a in attrs.fields(cls)
            if not (a.name == "extra" and model)
        )
    return plan


_WIRES: dict[type, frozenset[str]] = {}


def wire_keys(cls: type) -> frozenset[str]:
    """The JSON keys a model knows (its fields' wire names); any other key goes to ``extra``."""
    keys = _WIRES.get(cls)
    if keys is None:
        keys = _WIRES[cls] = frozenset(f.wire for f in _fields(cls))
    return keys


def field_names(cls: type) -> tuple[str, ...]:
    """The attribute names of a model (``extra`` excluded): keyword names of request models."""
    return tuple(f.name for f in _fields(cls))


def decodes_int(cls: type, name: str) -> bool:
    """Whether every decoded ``cls`` holds an ``int`` (never ``None``, never a ``bool``) in ``name``.

    True for a required integer field: the generated hook refuses anything else, so a reader
    (the Pager's dedupe key) can trust the attribute without checking it per record.
    """
    if not _is_model(cls):
        return False
    plans = (f for f in _fields(cls) if f.name == name)
    return any(f.required and f.kind == "plain" and f.inner == (int,) for f in plans)


# -- generated hooks ----------------------------------------------------------------------------


def _compile(name: str, lines: list[str], namespace: dict[str, Any]) -> _Hook:
    source = "\n".join(lines) + "\n"
    filename = f"<pracsuite_async generated {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - source built from field names
    return cast("_Hook", namespace[name])


def is_bare(cls: type) -> bool:
    """Whether ``cls(...)`` only stores its arguments (no validators, init hooks...), so a hook may fill
    ``object.__new__(cls)`` itself: true for the generated response models."""
    hooks = ("__attrs_init__", "__attrs_pre_init__", "__attrs_post_init__")
    return (
        cast("Any", cls).__setattr__ is object.__setattr__
        and not any(hasattr(cls, hook) for hook in hooks)
        and all(a.init and a.validator is None and a.converter is None for a in attrs.fields(cls))
    )


def _decoded(keys: list[str]) -> tuple[str, ...]:
    """``keys`` as the very ``str`` objects the client's JSON decoder returns for them.

    orjson keeps one ``str`` per key in a process-wide cache, so a lookup with that object
    matches by identity instead of comparing characters: ~15 ns per key, a quarter of
    reading a record. Without orjson, or once a key is evicted, keys are merely equal.
    """
    decoded = tuple(loads(json.dumps(dict.fromkeys(keys)).encode()))
    return decoded if decoded == tuple(keys) else tuple(keys)


def _build(obj: str, src: str, tag: str, cls: type, *, ns: dict[str, Any], convert: _Hook) -> list[str]:
    """Source that makes ``obj`` a ``cls`` from the dict ``src``; ``convert(name, field)`` converts a value.

    Every known key there (a spec-exact record): one itemgetter call reads them all, and
    there are unknown keys iff the dict is longer (O(1)). Keys absent (a real server's
    record, which leaves out empty fields): a copy of the dict gets ``None`` for the keys
    absent from earlier records (``guess``, learnt when a read misses) and is read the
    same way, ~30 % cheaper than merging it over ``{key: None, ...}``, which remains the
    fallback. The usual single unknown key is the record's last (O(1), not a pass over
    the known keys). Not a dict: AttributeError or TypeError.
    """
    fields = _fields(cls)
    count, names = len(fields), [f"f{tag}{i}" for i in range(len(fields))]
    keys = _decoded([f.wire for f in fields])
    ns.update({f"cls{tag}": cls, "unknown": _unknown, "learn": _learn})
    n, lines = f"n{tag}", [f"n{tag} = len({src}.keys())", f"e{tag} = dict({src})"]
    if count:
        ns[f"get{tag}"], ns[f"none{tag}"] = operator.itemgetter(*keys), dict.fromkeys(keys)
        ns[f"guess{tag}"] = []
        read = f"{', '.join(names)} = get{tag}"  # one key: itemgetter returns the value itself
        merged = [
            f"m{tag} = {{**none{tag}, **{src}}}",
            f"{read}(m{tag})",
            f"{n} = len(m{tag})",
            f"if {n} != {count}:",
            f"    e{tag} = unknown({src}, none{tag}, {n} - {count})",
        ]
        guessed = [
            f"m{tag} = {src}.copy()",
            f"for k{tag} in guess{tag}:",
            f"    if k{tag} not in m{tag}:",
            f"        m{tag}[k{tag}] = None",
            "try:",
            f"    {read}(m{tag})",
            "except KeyError:",
            f"    learn({src}, none{tag}, guess{tag})",
            *_indent(merged, 4),
            "else:",
            f"    {n} = len(m{tag})",
            f"    if {n} != {count}:",
            f"        e{tag} = unknown({src}, none{tag}, {n} - {count})",
        ]
        lines = [
            f"if len({src}) < {count}:",
            *_indent(guessed, 4),
            "else:",
            "    try:",
            f"        {read}({src})",
            "    except KeyError:",
            *_indent(merged, 8),
            "    else:",
            f"        {n} = len({src})",
            f"        if {n} != {count}:",
            f"            e{tag} = unknown({src}, none{tag}, {n} - {count})",
        ]
    for name, f in zip(names, fields, strict=True):
        lines += convert(name, f)
    extra = f"{{}} if {n} == {count} else e{tag}"
    if not is_bare(cls):
        args = "".join(f"{f.name}={v}, " for f, v in zip(fields, names, strict=True))
        return [*lines, f"{obj} = cls{tag}({args}extra={extra})"]
    # Slot stores right here: no constructor call with 25 arguments and a default factory.
    stores = (f"{obj}.{f.name} = {v}" for f, v in zip(fields, names, strict=True))
    return [*lines, f"{obj} = new(cls{tag})", f"{obj}.extra = {extra}", *stores]


def _unknown(data: dict[str, Any], none: dict[str, None], count: int) -> dict[str, Any]:
    """The ``count`` keys of ``data`` that are not known fields (``none``'s keys), in its order."""
    if count == 1:
        # The usual case: one field the spec lacks, which a server adds after the others.
        # Looking at the last key alone is O(1); a pass over every key costs ~1 µs/record.
        last = next(reversed(data))
        if last not in none:
            return {last: data[last]}
    return {key: value for key, value in data.items() if key not in none}


def _learn(data: dict[str, Any], none: dict[str, None], guess: list[str]) -> None:
    """Add the known keys ``data`` lacks to ``guess`` (at most every known key, so bounded)."""
    guess.extend(key for key in none if key not in data and key not in guess)


def _indent(lines: list[str], depth: int) -> list[str]:
    return [" " * depth + line for line in lines]


_LIST_HOOKS: dict[type, _Hook] = {}  # model -> its generated list function, made with its hook


def _make_structure(cls: type[Model]) -> _Hook:
    # The generated function is the fast path, for a list of records (a page: no call per
    # record) and, wrapped, for one. Times are parsed strictly inline; anything unusual (a
    # lower-case "z", a naive timestamp, bad data) raises, and the interpreted, tolerant
    # _structure_slow decides instead. An all-scalar nested model (``links``) is built in
    # place, saving a call.
    ns: dict[str, Any] = {"new": object.__new__, **TIME_NAMES}

    def convert(v: str, f: _Field) -> list[str]:
        # ``v.__class__ is int`` is an exact check (a bool is not an int) and, measured on
        # CPython 3.11, ~25 % cheaper than ``type(v) is int``; JSON values never fake __class__.
        i = v[1:]  # "f3" -> "3": the suffix of this field's namespace entries
        nullable = "" if f.required else f" and {v} is not None"
        if f.kind == "plain":  # for a required field the class test rejects None too
            if len(f.inner) == 1:
                return [f"if {v}.__class__ is not {f.inner[0].__name__}{nullable}:", "    raise TypeError"]
            ns[f"t{i}"] = f.inner
            return [f"if {v}.__class__ not in t{i}{nullable}:", "    raise TypeError"]
        lines = [f"if {v} is None:", "    raise TypeError"] if f.required else []
        if f.kind in TIME_KINDS:
            return [*lines, f"if {v} is not None:", *_indent(time_lines(v, f.kind), 4)]
        if f.kind == "model" and _fields(f.inner) and all(n.kind == "plain" for n in _fields(f.inner)):
            return [
                *lines,
                f"if {v} is not None:",
                *_indent(_build("x", v, f"{i}_", f.inner, ns=ns, convert=convert), 4),
                f"    {v} = x",
            ]
        if f.kind in ("models", "list", "dict"):
            ns[f"t{i}"] = dict if f.kind == "dict" else list
            lines += [f"if {v}.__class__ is not t{i}{nullable}:", "    raise TypeError"]
            if f.kind == "models":
                ns[f"h{i}"] = _list_hook(f.inner)
                lines.append(f"{v} = None if {v} is None else h{i}({v})")
            elif f.kind == "list" and f.inner in _SCALARS:
                item = f.inner.__name__
                lines += [f"if {v}:", f"    for x in {v}:", f"        if x.__class__ is not {item}:"]
                lines.append("            raise TypeError")
            return lines
        ns[f"h{i}"], ns[f"t{i}"] = CONVERTER.get_structure_hook(f.inner), f.inner  # a model, a cattrs type
        return [*lines, f"if {v} is not None:", f"    {v} = h{i}({v}, t{i})"]

    name = f"structure_{cls.__name__}"
    lines = [
        f"def {name}_list(data):",
        "    out = []",
        "    append = out.append",
        "    for d in data:",
        "        try:",
        *_indent(_build("o", "d", "", cls, ns=ns, convert=convert), 12),
        "            append(o)",
        "            continue",
        "        except Exception:",
        "            pass",
        "        out.append(slow(cls, d))",  # outside the except block: no value-bearing __context__
        "    return out",
        f"def {name}(d, _=None):",  # one record (not the hot path): a list of one
        f"    return {name}_list((d,))[0]",
    ]
    ns.update(slow=_structure_slow, cls=cls)
    hook = _compile(name, lines, ns)
    _LIST_HOOKS[cls] = ns[f"{name}_list"]
    return hook


def _list_hook(cls: type) -> _Hook:
    """``data -> [cls, ...]``: a model's generated list function (raises _Invalid like its hook)."""
    hook = _structure_hook(cls)  # makes the list function too
    return _LIST_HOOKS.get(cls) or (lambda data: [hook(item) for item in data])


def _convert(f: _Field, value: Any) -> Any:
    """``value`` (not ``None``) as ``f`` holds it; TypeError, ValueError or _Invalid when it does not fit."""
    kind = f.kind
    if kind == "plain":
        if type(value) in f.inner:
            return value
        raise TypeError
    if kind in _PARSERS:
        return _PARSERS[kind](value)
    if kind in ("models", "list", "dict"):
        if type(value) is not (dict if kind == "dict" else list):
            raise TypeError
        if kind == "models":
            hook = _structure_hook(f.inner)
            return [hook(item) for item in value]
        if kind == "list" and f.inner in _SCALARS and any(type(x) is not f.inner for x in value):
            raise TypeError
        return value
    if kind == "model":
        return _structure_hook(f.inner)(value)
    return CONVERTER.get_structure_hook(f.inner)(value, f.inner)


def _structure_slow(cls: type[Model], data: Any) -> Model:
    """The tolerant path: one field at a time; raises _Invalid for data that does not fit."""
    if type(data) is not dict:
        raise _Invalid
    values: dict[str, Any] = {}
    for f in _fields(cls):
        value = data.get(f.wire)
        if value is None:
            if f.required:
                raise _Invalid
        else:
            try:
                value = _convert(f, value)
            except (TypeError, ValueError, cattrs.BaseValidationError):
                raise _Invalid from None
        values[f.name] = value
    obj = cls(**values)
    known = wire_keys(cls)
    if not known.issuperset(data):
        obj.extra = {k: v for k, v in data.items() if k not in known}
    return obj


def _make_unstructure(cls: type[Model]) -> _Hook:
    ns: dict[str, Any] = {}
    items = []
    for i, f in enumerate(_fields(cls)):
        get = f"o.{f.name}"
        if f.kind == "plain":
            items.append(f"        {f.wire!r}: {get},")
            continue
        if f.kind in _FORMATTERS:
            ns[f"u{i}"] = _FORMATTERS[f.kind]
            expr = f"u{i}(v)"
        elif f.kind == "models":
            ns[f"u{i}"] = CONVERTER.get_unstructure_hook(f.inner)
            expr = f"[u{i}(x) for x in v]"
        elif f.kind in ("list", "dict"):
            expr = f"{'dict' if f.kind == 'dict' else 'list'}(v)"
        else:
            ns[f"u{i}"] = CONVERTER.get_unstructure_hook(f.inner)
            expr = f"u{i}(v)"
        items.append(f"        {f.wire!r}: None if (v := {get}) is None else {expr},")
    name = f"unstructure_{cls.__name__}"
    lines = [
        f"def {name}(o):",
        "    d = {",
        *items,
        "    }",
        "    for k, v in o.extra.items():",
        "        if k not in d:",
        "            d[k] = v",
        "    return d",
    ]
    return _compile(name, lines, ns)


def _to_json(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind in _FORMATTERS:
        return _FORMATTERS[kind](value)
    if isinstance(value, list | tuple):
        return [_to_json(item, "plain") for item in value]
    if isinstance(value, Model):
        return unstructure(value)
    return value


def _unstructure_request(obj: Any) -> dict[str, Any]:
    # Request models: UNSET is not sent, None is sent as null.
    return {
        f.wire: _to_json(value, f.kind)
        for f in _fields(type(obj))
        if (value := getattr(obj, f.name)) is not UNSET
    }


CONVERTER = cattrs.Converter()
"""The library's converter; never the global one (cattrs' advice to libraries)."""
CONVERTER.register_structure_hook(datetime, lambda value, _: _parse_datetime(value))
CONVERTER.register_structure_hook(date, lambda value, _: date.fromisoformat(value))
CONVERTER.register_unstructure_hook(datetime, _format_datetime)
CONVERTER.register_unstructure_hook(date, date.isoformat)
CONVERTER.register_structure_hook_factory(_is_model, _make_structure)
CONVERTER.register_unstructure_hook_factory(_is_model, _make_unstructure)
CONVERTER.register_unstructure_hook_factory(
    lambda cls: attrs.has(cls) and not _is_model(cls), lambda _: _unstructure_request
)


# -- diagnosis ----------------------------------------------------------------------------------


def _problems(cls: type, data: Any, path: str) -> list[str]:
    """Every problem of ``data`` as a ``cls``, with paths; the slow path after a failure."""
    if type(data) is not dict:
        return [f"expected an object @ {path}"]
    out: list[str] = []
    for f in _fields(cls):
        value = data.get(f.wire)
        where = f"{path}.{f.wire}"
        if value is None:
            if f.required:
                out.append(f"required, missing or null @ {where}")
        elif f.kind == "model":
            out += _problems(f.inner, value, where)
        elif f.kind == "models" and type(value) is list:
            for i, item in enumerate(value):
                out += _problems(f.inner, item, f"{where}[{i}]")
        elif f.kind == "list" and type(value) is list and f.inner in _SCALARS:
            name = _SCALAR_NAMES[f.inner]
            out += [f"expected {name} @ {where}[{i}]" for i, x in enumerate(value) if type(x) is not f.inner]
        else:
            try:
                _convert(f, value)
            except (_Invalid, TypeError, ValueError, cattrs.BaseValidationError):
                out.append(f"{f.expected} @ {where}")
    return out


# -- public functions ---------------------------------------------------------------------------


def structure(data: Any, cls: type[T], *, path: str = "$") -> T:
    """``data`` (parsed JSON) as a ``cls``: a model, ``list[Model]`` or a plain type such as ``str``."""
    if get_origin(cls) is list:
        return cast("T", structure_list(data, get_args(cls)[0], path=path))
    if _is_model(cls):
        try:
            return cast("T", _structure_hook(cls)(data))
        except _Invalid:
            pass
        raise StructureError(_problems(cls, data, path) or [f"invalid value @ {path}"])
    if isinstance(data, cls) and not (isinstance(data, bool) and cls is not bool):
        return data
    raise StructureError([f"expected {getattr(cls, '__name__', 'a value')} @ {path}"])


def structure_list(data: list[Any], cls: type[T], *, path: str = "$") -> list[T]:
    """Each item of ``data`` as a ``cls`` (the fast path for a page of records)."""
    if get_origin(cls) is list:  # an Endpoint of a non-paginated list carries list[Model]
        cls = get_args(cls)[0]
    if data.__class__ is not list:
        raise StructureError([f"expected a list @ {path}"])
    if not _is_model(cls):
        return [structure(item, cls, path=f"{path}[{i}]") for i, item in enumerate(data)]
    try:
        return cast("list[T]", (_LIST_HOOKS.get(cls) or _list_hook(cls))(data))
    except _Invalid:
        pass
    problems = [p for i, item in enumerate(data) for p in _problems(cls, item, f"{path}[{i}]")]
    raise StructureError(problems or [f"invalid value @ {path}"])


def unstructure(model: Any) -> dict[str, Any]:
    """A model as JSON-ready data: responses round-trip (``extra`` included); requests drop ``UNSET``."""
    return cast("dict[str, Any]", CONVERTER.get_unstructure_hook(type(model))(model))


def query_params(model: Any) -> list[tuple[str, str]]:
    """A query model as ``(wire name, text)`` pairs; lists repeat the name, ``UNSET``/``None`` are omitted."""
    out: list[tuple[str, str]] = []
    for f in _fields(type(model)):
        value = getattr(model, f.name)
        if value is UNSET or value is None:
            continue
        for item in value if isinstance(value, list | tuple) else (value,):
            out.append((f.wire, _query_text(item, f.kind)))
    return out


def _query_text(value: Any, kind: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind in _FORMATTERS:
        return _FORMATTERS[kind](value)
    return str(value)
