"""Sans-I/O request rules: endpoint + arguments -> a validated request; rate headers -> feedback.

Nothing here does I/O, so every rule is testable with plain values. Comments cite
the API docs (``spec/README.md``) for each rule. Responses become data or errors in
:mod:`pracsuite_async._response`.
"""

from __future__ import annotations

import json
import json as _json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pracsuite_async import _converter
from pracsuite_async._endpoints import Endpoint
from pracsuite_async._errors import RequestTypeError, RequestValidationError
from pracsuite_async._filters import Filter, RawFilter, encode_filters, encode_sort
from pracsuite_async._types import HTTPMethod, QueryParams

__all__ = [
    "page_request",
    "PreparedRequest",
    "build_request",
    "check_call_options",
    "raw_request",
]


@attrs.frozen
class PreparedRequest:
    """Everything needed to send one request, validated; ``body`` is encoded JSON.

    The repr leaves out the query and the body: error trackers record the frames that
    hold a request, and a filter value or a written record may be a patient's.
    """

    endpoint: Endpoint[Any]
    method: HTTPMethod
    path: str
    params: QueryParams = attrs.field(repr=False)
    body: bytes | None = attrs.field(repr=False)
    #: A paginated list's 2xx body is left unread (an ``UnreadPage``) for the pager to read at its turn.
    defer_page: bool = False


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
    defer_page: bool = False,
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
        if page_size is not None:  # validated once, by the Pager
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
    return PreparedRequest(endpoint, endpoint.method, path, params, body, defer_page)


def page_request(first: PreparedRequest, page: int, page_size: int) -> PreparedRequest:
    """``first`` (built with a ``page``) asking for another page: the arguments were validated once."""
    numbers = {"page": str(page), "page_size": str(page_size)}
    params = [(key, numbers.get(key, value)) for key, value in first.params]
    return PreparedRequest(first.endpoint, first.method, first.path, params, first.body, first.defer_page)


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
