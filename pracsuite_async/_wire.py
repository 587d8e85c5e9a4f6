"""Sans-I/O wire rules: endpoint + arguments -> request; status + headers + body -> data or error.

Nothing here does I/O, so every rule is testable with plain values. Comments cite
the API docs (``spec/README.md``) for each rule.
"""

from __future__ import annotations

import json
import json as _json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from pracsuite_async import _converter
from pracsuite_async._endpoints import Endpoint
from pracsuite_async._errors import (
    APIStatusError,
    RequestTypeError,
    RequestValidationError,
    ResponseDecodeError,
    ValidationProblem,
    error_for_status,
)
from pracsuite_async._filters import Filter, RawFilter, encode_filters, encode_sort
from pracsuite_async._rate_headers import parse_rate_feedback, parse_retry_after
from pracsuite_async._types import HTTPMethod, QueryParams

_loads: Callable[[bytes], Any]
try:  # orjson is an optional accelerator; results are identical.
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - exercised when orjson is absent
    _loads = json.loads

__all__ = [
    "raw_request",
    "MAX_PAGE_SIZE",
    "PreparedRequest",
    "build_request",
    "check_call_options",
    "error_from_response",
    "is_seconds",
    "loads",
    "parse_rate_feedback",
    "parse_retry_after",
]

#: The API caps ``page_size`` at 100 (README "Pagination").
MAX_PAGE_SIZE = 100

loads = _loads


@attrs.frozen
class PreparedRequest:
    """Everything needed to send one request, validated; ``body`` is encoded JSON."""

    endpoint: Endpoint[Any]
    method: HTTPMethod
    path: str
    params: QueryParams
    body: bytes | None


def _path_value(name: str, value: object) -> str:
    # IDs are integers (README "IDs"); anything else would build a different URL.
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestTypeError(name, "must be an integer id")
    if value < 1:
        raise RequestValidationError(name, "must be a positive id")
    return str(value)


def _model(cls: type[Any], args: Mapping[str, object]) -> Any:
    names = _converter.field_names(cls)
    return cls(**{name: args[name] for name in names if name in args})


def build_request(
    endpoint: Endpoint[Any],
    args: Mapping[str, object],
    *,
    page: int | None = None,
    page_size: int | None = None,
) -> PreparedRequest:
    """Validate ``args`` against the endpoint and build the request; raises before sending."""
    check_call_options(args)
    path = endpoint.path
    if endpoint.path_params:
        path = path.format_map({p: _path_value(p, args.get(p)) for p in endpoint.path_params})
    params: QueryParams = []
    if endpoint.query is not None:
        params.extend(_converter.query_params(_model(endpoint.query, args)))
    if endpoint.paginated:
        if page is not None:
            params.append(("page", str(page)))
        if page_size is not None:
            check_page_size(page_size)
            params.append(("page_size", str(page_size)))
    filters: Sequence[Filter | RawFilter | str] = args.get("filters") or ()  # type: ignore[assignment]
    if filters:
        params.extend(encode_filters(filters, endpoint.filters))
    sort_by: Sequence[str] | None = args.get("sort_by")  # type: ignore[assignment]
    if endpoint.sortable and sort_by is not None:
        # Sent only when asked for: the API documents no default order, and the
        # Pager does not depend on one (README "Sorting").
        id_field = endpoint.id_field if endpoint.paginated else None
        sort = encode_sort(sort_by, endpoint.sort_fields, id_field)
        if sort:
            params.append(("sort_by", sort))
    body: bytes | None = None
    if endpoint.body is not None:
        payload = _converter.unstructure(_model(endpoint.body, args))
        body = json.dumps(payload, separators=(",", ":")).encode()
    return PreparedRequest(endpoint, endpoint.method, path, params, body)


def is_seconds(value: object) -> bool:
    """Whether ``value`` is a finite positive number of seconds (a ``bool`` is not)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


_RAW_METHODS: tuple[HTTPMethod, ...] = ("GET", "POST", "PATCH", "PUT", "DELETE")


def raw_request(
    method: object,
    path: object,
    *,
    params: Mapping[str, str] | Sequence[tuple[str, str]] | None,
    json: object,
) -> PreparedRequest:
    """A request for an operation the table lacks (``client.request``), validated like the others.

    ``path`` must stay under the base URL: absolute, no scheme, host, query or fragment.
    Events and traces see the operation as ``request`` with path ``<request>``, since a
    raw path may hold patient ids.
    """
    verb = method.upper() if isinstance(method, str) else None
    if verb not in _RAW_METHODS:
        field = "method"
        raise RequestValidationError(field, f"must be one of {', '.join(_RAW_METHODS)}")
    if (
        not isinstance(path, str) or not path.startswith("/") or path.startswith("//")
        or any(c in path for c in "?#\\") or not path.isprintable() or " " in path
    ):
        field = "path"
        raise RequestValidationError(field, "must be a path under the base URL without query or fragment")
    pairs: list[tuple[str, str]] = []
    items = params.items() if isinstance(params, Mapping) else params or ()
    for pair in items:
        item: object = pair  # callers without type checking pass anything
        if not (isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            field = "params"
            raise RequestTypeError(field, "must map strings to strings")
        pairs.append(pair)
    body = None
    if json is not None:
        try:
            body = _json.dumps(json, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError):
            field = "json"
            raise RequestTypeError(field, "must be JSON-serialisable") from None
    endpoint: Endpoint[Any] = Endpoint(
        operation_id="request", method=verb, path="<request>", path_params=(), result=None,
        namespace="", method_name="request", summary="A raw request.",
    )
    return PreparedRequest(endpoint, verb, path, pairs, body)


def check_call_options(args: Mapping[str, object]) -> None:
    """The per-call ``idempotent`` flag (``deadline`` is checked by ``_clock.check_deadline``)."""
    field = "idempotent"
    idempotent = args.get(field)
    if idempotent is not None and not isinstance(idempotent, bool):
        raise RequestTypeError(field, "must be a bool or None")


def check_page_size(page_size: object) -> int:
    """``page_size`` must be an int in 1..100 (README "Pagination")."""
    field = "page_size"
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise RequestTypeError(field, "must be an integer")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise RequestValidationError(field, f"must be between 1 and {MAX_PAGE_SIZE}")
    return page_size


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, method: str, path: str, wall_now: float
) -> APIStatusError:
    """The typed error for an error status; tolerant of bodies that are not the envelope.

    The envelope is ``{"error": {"status", "code", "detail", "validation"}, "request_id"}``
    (README "Errors"); an HTML page from a proxy or truncated JSON still yields the
    class for the HTTP status, with the envelope fields left ``None``.
    """
    code = detail = request_id = None
    problems: list[ValidationProblem] = []
    try:
        data = loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        request_id = _str_or_none(data.get("request_id"))
        err = data.get("error")
        if isinstance(err, dict):
            code = _str_or_none(err.get("code"))
            detail = _str_or_none(err.get("detail")) or _str_or_none(err.get("title"))
            validation = err.get("validation")
            if isinstance(validation, list):
                problems = [
                    ValidationProblem(_str_or_none(v.get("field")), _str_or_none(v.get("message")))
                    for v in validation
                    if isinstance(v, dict)
                ]
    return error_for_status(status, code)(
        status=status, method=method, path=path, code=code, detail=detail, validation=problems,
        request_id=request_id, retry_after=parse_retry_after(headers.get("Retry-After"), wall_now),
    )


def decode_json(body: bytes, *, method: str, path: str) -> Any:
    """Parse a success body; a body that is not JSON is a :class:`ResponseDecodeError`.

    The decoder's exception is not chained: orjson's keeps the whole body in ``.doc``.
    """
    try:
        return loads(body)
    except ValueError as exc:
        msg = f"response body is not valid JSON (at byte {getattr(exc, 'pos', '?')})"
    raise ResponseDecodeError(msg, method=method, path=path)
