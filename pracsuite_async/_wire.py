"""Sans-I/O request rules: endpoint + arguments -> a validated request; rate headers -> feedback.

Nothing here does I/O, so every rule is testable with plain values. Comments cite
the API docs (``spec/README.md``) for each rule. Responses become data or errors in
:mod:`pracsuite_async._response`.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pracsuite_async import _converter
from pracsuite_async._endpoints import Endpoint
from pracsuite_async._errors import RequestTypeError, RequestValidationError
from pracsuite_async._filters import Filter, encode_filters, encode_sort
from pracsuite_async._limiter import RateFeedback
from pracsuite_async._types import HTTPMethod, QueryParams

__all__ = [
    "PreparedRequest",
    "build_request",
    "parse_rate_feedback",
    "parse_retry_after",
]


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
    filters: Sequence[Filter | str] = args.get("filters") or ()  # type: ignore[assignment]
    if filters:
        params.extend(encode_filters(filters, endpoint.filters))
    if endpoint.sortable:
        sort_by: Sequence[str] | None = args.get("sort_by")  # type: ignore[assignment]
        fields = _converter.field_names(endpoint.result) if endpoint.result is not None else ()
        id_field = endpoint.id_field if endpoint.paginated else None
        # Default to the id, ascending: a stable order is what keeps offset
        # pagination from skipping or repeating records (see Pager).
        sort = encode_sort(sort_by or ((id_field,) if id_field else ()), fields, id_field)
        if sort:
            params.append(("sort_by", sort))
    body: bytes | None = None
    if endpoint.body is not None:
        payload = _converter.unstructure(_model(endpoint.body, args))
        body = json.dumps(payload, separators=(",", ":")).encode()
    return PreparedRequest(endpoint, endpoint.method, path, params, body)


def parse_retry_after(value: str | None, wall_now: float) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - wall_now)


def _header_float(headers: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        raw = headers.get(name)
        if raw is not None:
            try:
                return float(raw)
            except ValueError:
                return None
    return None


def parse_rate_feedback(status: int, headers: Mapping[str, str], wall_now: float) -> RateFeedback | None:
    """Read a 429 and any ``X-RateLimit-*`` headers (undocumented by the API, used when sent)."""
    limit = _header_float(headers, "X-RateLimit-Limit", "RateLimit-Limit")
    remaining = _header_float(headers, "X-RateLimit-Remaining", "RateLimit-Remaining")
    reset = _header_float(headers, "X-RateLimit-Reset", "RateLimit-Reset")
    if reset is not None and reset > 1e9:  # an epoch timestamp rather than seconds from now
        reset = max(0.0, reset - wall_now)
    if status != 429 and remaining is None:
        return None
    retry_after = parse_retry_after(headers.get("Retry-After"), wall_now) if status == 429 else None
    return RateFeedback(
        throttled=status == 429, retry_after=retry_after, limit=limit, remaining=remaining, reset_after=reset
    )
