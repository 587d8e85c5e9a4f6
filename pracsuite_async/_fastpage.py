"""Pages of records decoded by msgspec, when it is installed: the same models, 1.5-1.8x as fast.

A list body is much of what a walk costs (issue #9): parsing it into dicts and then
building attrs models from them costs ~4x what msgspec takes to decode it straight
into typed structs. This module lets msgspec do the parsing and the type checks, in
C, into private mirror structs of each model (``gc=False``, never seen outside), and
a generated function then moves the values into the attrs models users get. The
models, the converter and the rules do not change: attrs stays the model layer.

It only ever accelerates success. :func:`decode_page` returns ``None`` whenever it
cannot vouch for the result (msgspec missing, a model it does not mirror, a type
msgspec refuses, an error envelope, a time ``fromisoformat`` does not read, any
doubt), and the caller then takes the general path (orjson or ``json``, then
:mod:`pracsuite_async._converter`), which decides every error. What it returns
equals what the general path would return; ``tests/test_fastpage.py`` checks that
over generated pages.

Unknown fields are kept, as everywhere: msgspec cannot collect fields it was not
told about, so a mirror refuses unknown fields (``forbid_unknown_fields``), and when
a page is refused the page is parsed once more to learn the keys the models lack.
The mirrors are rebuilt with those keys as extra fields (decoded as plain JSON
values) and the page is decoded again. A server that adds a field costs one such
page; after that every page is fast again. Learning is bounded (``MAX_UNKNOWN`` keys
per model), and a decoder that keeps failing without learning anything is switched
off (``MAX_FAILURES`` pages in a row), so the worst case is the general path plus a
rejected attempt, for a few pages.

Both paths must read every value the same way, so where msgspec and the general
path's JSON decoder differ, the mirror defers to the latter:

* times are mirrored as strings and parsed with ``datetime.fromisoformat``, as the
  converter does (msgspec rounds a 7-digit fraction where it truncates);
* plain JSON values (unknown fields, ``dict`` fields, ``total_entries``, ``links``) are
  kept raw by msgspec and parsed by the general path's decoder (orjson reads an
  integer beyond 64 bits as a float, msgspec as an int);
* with orjson, integer fields take only what orjson reads as an integer.
"""

from __future__ import annotations

import linecache
import threading
from collections.abc import Callable
from typing import Any, get_args, get_origin

from pracsuite_async import _converter
from pracsuite_async._json import loads

#: orjson reads an integer outside [-2**63, 2**64 - 1] as a float (the converter then
#: refuses it for an integer field); the standard library reads any integer.
_ORJSON = getattr(loads, "__module__", None) == "orjson"

msgspec: Any
try:  # an optional accelerator, like orjson: results are identical without it
    import msgspec
except ImportError:  # pragma: no cover - exercised when msgspec is absent
    msgspec = None

__all__ = ["MAX_FAILURES", "MAX_UNKNOWN", "decode_page", "enabled", "set_enabled"]

#: Unknown keys learnt per model before its pages go the general way for good.
MAX_UNKNOWN = 64
#: Pages in a row a decoder may fail to decode (learning nothing) before it is switched off.
MAX_FAILURES = 3

_enabled = msgspec is not None
_INT: Any = int
if msgspec is not None and _ORJSON:
    from typing import Annotated

    # msgspec bounds fit int64: a larger integer goes the general way, which reads it.
    _INT = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


def enabled() -> bool:
    """Whether pages are decoded by msgspec (installed, and not switched off by :func:`set_enabled`)."""
    return _enabled


def set_enabled(on: bool) -> None:
    """Use msgspec for pages (when installed) or not; tests run both paths with it."""
    global _enabled  # noqa: PLW0603 - one process-wide switch, read per page
    _enabled = on and msgspec is not None
    _reset()


# Learnt unknown keys per model (in the order first seen); survives rebuilds.
_unknown: dict[type, dict[str, None]] = {}
# Built per model from _unknown; cleared whenever something is learnt.
_mirrors: dict[type, Any] = {}  # model -> mirror struct type, or None when not mirrorable
_converters: dict[type, tuple[Callable[[Any], Any], Callable[[Any], list[Any]]]] = {}
# Per (list key, model): the page decoder with its converter (one snapshot: a rebuild
# never pairs a decoder with another generation's converter), failures in a row, off.
_decoders: dict[tuple[str, type], tuple[Any, Callable[[Any], list[Any]]] | None] = {}
_failures: dict[tuple[str, type], int] = {}
_off: set[tuple[str, type]] = set()


# Building and learning change shared tables; clients may run in several threads.
_lock = threading.Lock()


def _reset() -> None:
    with _lock:
        _unknown.clear()
        _rebuild()
        _failures.clear()
        _off.clear()


def _rebuild() -> None:
    _mirrors.clear()
    _converters.clear()
    _decoders.clear()


def decode_page(body: bytes, list_key: str, result: Any) -> tuple[list[Any], Any, Any] | None:
    """``(records, total_entries, links)`` of a list body, or ``None``: the general path decides.

    ``total_entries`` and ``links`` are returned as received (``None`` when absent), for
    the caller's own lenient reading; an ``error`` member, even ``null``, returns ``None``.
    """
    if not _enabled:
        return None
    cls = get_args(result)[0] if get_origin(result) is list else result
    slot = (list_key, cls)
    if slot in _off:
        return None
    for attempt in (1, 2):
        built = _decoders.get(slot) or _decoder(list_key, cls)
        if built is None:
            _off.add(slot)
            return None
        decoder, convert = built
        try:
            page = decoder.decode(body)
        except msgspec.ValidationError:
            if attempt == 1 and _learn(body, list_key, cls):
                continue  # the mirrors now know the new keys: decode once more
            _failed(slot)
            return None
        except msgspec.DecodeError:  # not JSON at all: nothing to learn, nothing to count
            return None
        if page.error is not msgspec.UNSET:
            return None
        try:
            records = convert(page.records)
        except (ValueError, TypeError):  # a time fromisoformat does not read, a raw value of the wrong type
            _failed(slot)
            return None
        _failures.pop(slot, None)
        return records, _plain(page.total_entries), _plain(page.links)
    return None  # pragma: no cover - the second attempt always returns


def _plain(raw: Any) -> Any:
    """A raw JSON value as the general path's decoder reads it (``None`` when absent)."""
    return None if raw is None else loads(bytes(raw))


def _failed(slot: tuple[str, type]) -> None:
    count = _failures[slot] = _failures.get(slot, 0) + 1
    if count >= MAX_FAILURES:
        _off.add(slot)


def _decoder(list_key: str, cls: type) -> tuple[Any, Callable[[Any], list[Any]]] | None:
    with _lock:
        slot = (list_key, cls)
        if slot in _decoders:
            return _decoders[slot]
        mirror = _mirror(cls)
        if mirror is None:
            _decoders[slot] = None
            return None
        envelope = msgspec.defstruct(
            f"{cls.__name__}Page",
            [
                ("records", list[mirror], msgspec.field(name=list_key)),  # type: ignore[valid-type]
                ("total_entries", msgspec.Raw, None),
                ("links", msgspec.Raw, None),
                ("error", Any, msgspec.UNSET),  # present, even null: the general path looks at it
            ],
            kw_only=True,
            gc=False,
        )
        built = _decoders[slot] = (msgspec.json.Decoder(envelope), _converters[cls][1])
        return built


# -- learning unknown keys ------------------------------------------------------------------------


def _learn(body: bytes, list_key: str, cls: type) -> bool:
    """Note the unknown keys of this page's records (every nested model too); True if any is new."""
    try:
        data = loads(body)
    except ValueError:
        return False
    items = data.get(list_key) if type(data) is dict else None
    if type(items) is not list:
        return False
    learnt = False
    with _lock:
        for record in items:
            learnt = _learn_record(cls, record) or learnt
        if learnt:
            _rebuild()
    return learnt


def _learn_record(cls: type, record: Any) -> bool:
    if type(record) is not dict:
        return False
    fields = _converter._fields(cls)
    known = _converter.wire_keys(cls)
    learnt = False
    if len(record) > len(known) or not known.issuperset(record):
        seen = _unknown.setdefault(cls, {})
        for key in record:
            if key not in known and key not in seen and len(seen) < MAX_UNKNOWN:
                seen[key] = None
                learnt = True
    for f in fields:
        if f.kind == "model":
            learnt = _learn_record(f.inner, record.get(f.wire)) or learnt
        elif f.kind == "models" and type(value := record.get(f.wire)) is list:
            for item in value:
                learnt = _learn_record(f.inner, item) or learnt
    return learnt


# -- mirrors --------------------------------------------------------------------------------------

_TIMES = _converter.TIME_KINDS


def _mirror(cls: type) -> Any:
    """The msgspec struct that decodes a ``cls`` record as the converter would, or ``None``."""
    if cls in _mirrors:
        return _mirrors[cls]
    _mirrors[cls] = None  # a model that contains itself is not mirrored
    mirror = _make_mirror(cls)
    _mirrors[cls] = mirror
    if mirror is not None:
        _converters[cls] = _make_converter(cls)
    return mirror


def _make_mirror(cls: type) -> Any:
    if not _converter.is_bare(cls) or len(_unknown.get(cls, ())) >= MAX_UNKNOWN:
        return None
    fields: list[tuple[str, Any, Any]] = []
    for i, f in enumerate(_converter._fields(cls)):
        tp = _mirror_type(f)
        if tp is None:
            return None
        if f.required:
            fields.append((f"k{i}", tp, msgspec.field(name=f.wire)))
        elif tp is msgspec.Raw:  # null arrives raw too, and is read as None
            fields.append((f"k{i}", tp, msgspec.field(default=None, name=f.wire)))
        else:
            fields.append((f"k{i}", tp | None, msgspec.field(default=None, name=f.wire)))
    for j, key in enumerate(_unknown.get(cls, ())):
        fields.append((f"u{j}", msgspec.Raw, msgspec.field(default=msgspec.UNSET, name=key)))
    name = f"{cls.__name__}Mirror"
    return msgspec.defstruct(name, fields, kw_only=True, forbid_unknown_fields=True, gc=False)


def _mirror_type(f: Any) -> Any:
    """The msgspec type that accepts exactly what the converter accepts for ``f``, or ``None``."""
    kind = f.kind
    if kind == "plain":
        # msgspec is strict like the converter: a bool is not an int, 1.0 is not an int,
        # and ``int | float`` keeps an int an int.
        union = _INT if f.inner[0] is int else f.inner[0]
        for extra in f.inner[1:]:
            union = union | (_INT if extra is int else extra)
        return union
    if kind in _TIMES:
        return str  # parsed by the converter's own functions, see the module docstring
    if kind == "dict":
        return msgspec.Raw  # parsed and checked by the converter function
    if kind == "list":
        # The converter checks each item's exact class; msgspec's float would take an int.
        if f.inner in (int, str, bool):
            return list[_INT if f.inner is int else f.inner]  # type: ignore[misc]
        return None if f.inner is float else msgspec.Raw
    if kind == "model":
        return _mirror(f.inner)
    if kind == "models":
        inner = _mirror(f.inner)
        return None if inner is None else list[inner]  # type: ignore[valid-type]
    return None  # other types go through cattrs: the general path


# -- converters: mirror struct -> attrs model -----------------------------------------------------


def _make_converter(cls: type) -> tuple[Callable[[Any], Any], Callable[[Any], list[Any]]]:
    ns: dict[str, Any] = {
        "new": object.__new__, "cls": cls, "UNSET": msgspec.UNSET, "plain": _plain, **_converter.TIME_NAMES,
    }
    body: list[str] = ["o = new(cls)"]
    for i, f in enumerate(_converter._fields(cls)):
        value = f"s.k{i}"
        raw = _mirror_type(f) is msgspec.Raw
        if not raw and f.kind in ("plain", "list", "dict"):
            body.append(f"o.{f.name} = {value}")
            continue
        if raw:  # a dict, or a list of anything: read by the general path's decoder, then checked
            body += [f"x = {value}", "if x is not None:", "    x = plain(x)"]
            if f.required:
                body += ["if x is None:", "    raise TypeError"]
            ns[f"t{i}"] = dict if f.kind == "dict" else list
            body += [f"if x is not None and x.__class__ is not t{i}:", "    raise TypeError"]
            body.append(f"o.{f.name} = x")
            continue
        body += [f"x = {value}", "if x is not None:"]
        if f.kind in _TIMES:  # the converter's own reading rules; ValueError: the general path
            body += ["    " + line for line in _converter.time_lines("x", f.kind)]
        elif f.kind == "model":
            ns[f"c{i}"] = _converters[f.inner][0]
            body.append(f"    x = c{i}(x)")
        else:  # models
            ns[f"c{i}"] = _converters[f.inner][1]
            body.append(f"    x = c{i}(x)")
        body.append(f"o.{f.name} = x")
    unknown = list(_unknown.get(cls, ()))
    if unknown:
        ns["keys"] = tuple(unknown)
        body.append("e = {}")
        for j in range(len(unknown)):
            body += [f"x = s.u{j}", "if x is not UNSET:", f"    e[keys[{j}]] = plain(x)"]
        body.append("o.extra = e")
    else:
        body.append("o.extra = {}")
    name = f"fast_{cls.__name__}"
    lines = [
        f"def {name}(s):",
        *("    " + line for line in body),
        "    return o",
        f"def {name}_list(structs):",
        "    out = []",
        "    append = out.append",
        "    for s in structs:",
        *("        " + line for line in body),
        "        append(o)",
        "    return out",
    ]
    source = "\n".join(lines) + "\n"
    filename = f"<pracsuite_async fast page {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), ns)  # noqa: S102 - source built from field names
    return ns[name], ns[f"{name}_list"]
