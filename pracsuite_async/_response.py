"""Sans-I/O: the one place where a response becomes data or a typed error.

:func:`decipher_response` takes what came back (status, headers, body bytes) and the
endpoint that was called, and returns a :class:`Deciphered`: the decoded value, the
rate feedback the headers carry, and the typed error to raise, if any. The pipeline
moves the bytes and applies policy (limiter feedback, retries); nothing here does
I/O, so every rule is tested with recorded samples (``tests/samples/``).

The rules, with the API reference (``spec/README.md``) they come from:

* Error statuses (4xx, 5xx, an undocumented 3xx) become the class for the status,
  with the fields of the error envelope when the body has one ("Errors").
* A 2xx body must be JSON; an empty or truncated one is a
  :class:`ResponseDecodeError` without problems (the retry policy may retry it).
* An error envelope inside a 2xx is the error it describes: a broken proxy or
  server must not read as an empty result.
* A list response is ``{<list key>: [...], "total_entries", "links"}`` ("Pagination").
  A missing list key, or one that is not a list, is a :class:`ResponseDecodeError`
  (``{}`` is not an empty page). A ``total_entries`` that is not a non-negative
  integer is read as unknown, so the pager follows ``links.next`` instead.
* Records are decoded strictly (:mod:`pracsuite_async._converter`): a wrong type, or
  a required field absent or null, is a :class:`ResponseDecodeError` whose
  ``problems`` name the JSON path, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs

from pracsuite_async import _converter
from pracsuite_async._endpoints import Endpoint
from pracsuite_async._errors import (
    APIStatusError,
    PracSuiteError,
    ResponseDecodeError,
    ValidationProblem,
    error_for_status,
)
from pracsuite_async._fastpage import decode_page
from pracsuite_async._json import loads
from pracsuite_async._rate_headers import RateFeedback, parse_rate_feedback, parse_retry_after

T = TypeVar("T")

__all__ = [
    "Deciphered",
    "ListBody",
    "UnreadPage",
    "decipher_response",
    "decode",
    "error_from_response",
    "from_dict",
    "missing_field",
    "to_dict",
]


@attrs.frozen(slots=True)
class ListBody(Generic[T]):
    """A decoded page of a paginated list: its records, ``total_entries`` and whether ``links.next`` is set.

    ``total_entries`` is ``None`` when the server sent none or one that is not a
    non-negative integer.
    """

    items: list[T]
    total_entries: int | None
    has_next: bool


@attrs.frozen(slots=True)
class Deciphered:
    """What one response means.

    ``value`` is the decoded result: the model, ``list[Model]`` for an unpaginated
    list, a :class:`ListBody` for a page, the ``Location`` of a documented redirect,
    or ``None`` for a response without a body; for an endpoint without a result
    model it is the parsed JSON, if any. ``error`` is the exception to raise instead
    (``value`` is then ``None``). ``feedback`` is what the rate headers say, for the
    limiter, whatever the outcome.
    """

    value: Any
    feedback: RateFeedback | None = None
    error: PracSuiteError | None = None


@attrs.frozen(slots=True)
class UnreadPage:
    """A 2xx answer to a paginated list whose body is deciphered later, by :meth:`read`.

    The pager holds up to ``window`` fetched pages until their turn. Held as decoded
    models they are thousands of live, GC-tracked objects that every collection walks
    (the ordered walk cost ~1.7x a plain fan-out in client CPU per page, nearly all of it
    there); held as bytes they are one object each, and each page's models live only
    while the caller iterates it.
    """

    endpoint: Endpoint[Any] = attrs.field(repr=False)
    status: int
    # Left out of the repr: error trackers record the frames that hold a page, and the
    # body is patients' records.
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    method: str
    path: str
    wall_now: float = attrs.field(repr=False)

    def read(self) -> ListBody[Any]:
        """The decoded page, or the typed error its body means (the rules of :func:`decipher_response`)."""
        return _decipher(  # type: ignore[no-any-return]
            self.endpoint, self.status, self.headers, self.body,
            method=self.method, path=self.path, wall_now=self.wall_now,
        )


def decipher_response(
    endpoint: Endpoint[Any],
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    path: str,
    wall_now: float,
    defer_page: bool = False,
) -> Deciphered:
    """The meaning of ``status``/``headers``/``body`` as the answer to ``endpoint``; never raises.

    With ``defer_page``, a 2xx answer to a paginated list is an :class:`UnreadPage`,
    read when the caller needs its records; errors and rate feedback are as usual.
    """
    feedback = parse_rate_feedback(status, headers, wall_now)
    if defer_page and 200 <= status < 300 and status != 204 and endpoint.paginated:
        return Deciphered(UnreadPage(endpoint, status, headers, body, method, path, wall_now), feedback)
    try:
        value = _decipher(endpoint, status, headers, body, method=method, path=path, wall_now=wall_now)
    except (APIStatusError, ResponseDecodeError) as exc:
        return Deciphered(None, feedback, exc)
    return Deciphered(value, feedback)


def _decipher(
    endpoint: Endpoint[Any],
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    path: str,
    wall_now: float,
) -> Any:
    if status >= 300 or status < 200:
        if 300 <= status < 400 and endpoint.success_status >= 300:
            # A documented redirect (attachment content): the target URL is the result.
            location = headers.get("Location")
            if location:
                return location
            msg = "redirect without a Location header"
            raise ResponseDecodeError(msg, method=method, path=path, problems=("missing @ Location",))
        raise error_from_response(status, headers, body, method=method, path=path, wall_now=wall_now)
    result = endpoint.result
    if status == 204 or (result is None and not body):
        return None
    list_key = endpoint.list_key
    if list_key is not None and result is not None:
        # msgspec, when installed, decodes a page of records 1.5-1.8x as fast; it
        # returns None for anything it cannot vouch for, and the general path below decides.
        fast = decode_page(body, list_key, result)
        if fast is not None:
            return _list_result(endpoint, *fast, method=method, path=path)
    data = _parse(body, method=method, path=path)
    if type(data) is dict and "error" in data:
        _raise_envelope(data, headers, body, method=method, path=path, wall_now=wall_now)
    if result is None:
        return data
    if list_key is None:
        return decode(data, result, method=method, path=path)
    if type(data) is not dict:
        raise _decode_error(method, path, "list response is not a JSON object", "expected an object @ $")
    items = data.get(list_key)
    if type(items) is not list:
        what = "missing" if items is None else "expected a list"
        raise _decode_error(method, path, "list response has no list of records", f"{what} @ $.{list_key}")
    records = decode(items, list[result], method=method, path=path, where=f"$.{list_key}")  # type: ignore[valid-type]
    total, links = data.get("total_entries"), data.get("links")
    return _list_result(endpoint, records, total, links, method=method, path=path)


def _list_result(
    endpoint: Endpoint[Any], records: list[Any], total: object, links: object, *, method: str, path: str
) -> Any:
    """A list response's result: the records, and for a paginated list what the pager goes on."""
    if not endpoint.paginated:
        return records
    return ListBody(records, _total(total), _has_next(links, method, path))


def _parse(body: bytes, *, method: str, path: str) -> Any:
    if not body:
        msg = "response body is empty"
        raise ResponseDecodeError(msg, method=method, path=path)
    try:
        return loads(body)
    except ValueError as exc:
        # Not chained: the decoder's exception keeps the whole body (orjson's ``.doc``).
        msg = f"response body is not valid JSON (at byte {getattr(exc, 'pos', '?')})"
    raise ResponseDecodeError(msg, method=method, path=path)


def _raise_envelope(
    data: dict[str, Any], headers: Mapping[str, str], body: bytes, *, method: str, path: str, wall_now: float
) -> None:
    """An error envelope in a 2xx (no model has an ``error`` field): the error it describes."""
    err = data["error"]
    if type(err) is not dict:
        return
    status = err.get("status")
    if type(status) is int and 400 <= status <= 599:
        raise error_from_response(status, headers, body, method=method, path=path, wall_now=wall_now)
    msg = "error envelope in a success response"
    raise _decode_error(method, path, msg, "unexpected error envelope @ $.error")


def _total(value: object) -> int | None:
    # Lenient: a count we cannot trust is no count; the pager then follows links.next.
    return value if type(value) is int and value >= 0 else None


def _has_next(links: object, method: str, path: str) -> bool:
    if links is None:
        return False
    if type(links) is not dict:
        raise _decode_error(method, path, "list response has malformed links", "expected an object @ $.links")
    # Any non-empty value means more: reading a malformed link as "no more" would truncate silently.
    return bool(links.get("next"))


def _decode_error(method: str, path: str, message: str, problem: str) -> ResponseDecodeError:
    return ResponseDecodeError(message, method=method, path=path, problems=(problem,))


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


def decode(data: Any, cls: type[T], *, method: str, path: str, where: str = "$") -> T:
    """``data`` (parsed JSON) as ``cls``; a mismatch is a :class:`ResponseDecodeError` naming the paths."""
    try:
        return _converter.structure(data, cls, path=where)
    except _converter.StructureError as exc:
        msg = "data does not match the model"
        raise ResponseDecodeError(msg, method=method, path=path, problems=exc.problems) from None


def missing_field(method: str, path: str, where: str) -> ResponseDecodeError:
    """A 2xx whose ``where`` (``"$.url"``) is absent but needed: the same error as any decode failure."""
    return _decode_error(method, path, "data does not match the model", f"missing @ {where}")


def to_dict(model: object) -> dict[str, Any]:
    """A model as wire JSON, ready for ``json.dumps``: wire field names, API time formats.

    What it writes, exactly:

    * Response models: every field of the model, in declaration order, then the
      unknown fields kept in ``.extra``, as received. Models do not record which
      fields the server sent, so a field it omitted is written as ``null``, the same
      as a field it sent as ``null``. Filter out ``None`` values if you need the
      absent fields to stay absent.
    * Request models: fields left ``UNSET`` are omitted; ``None`` is written as
      ``null`` (which clears the field on update).
    * Times are re-formatted, not copied: ``app_time`` (tenant-local) as
      ``YYYY-MM-DDTHH:MM:SS``, timestamps in UTC with ``Z`` (microseconds only
      when non-zero), dates as ``YYYY-MM-DD``. ``from_dict`` reads all of it back
      into an equal model.
    """
    return _converter.unstructure(model)


def from_dict(data: Any, cls: type[T]) -> T:
    """Build a model from wire JSON (for example a stored export line).

    Raises:
        ResponseDecodeError: the data does not fit the model; ``problems`` name the
            paths, never the values.
    """
    return decode(data, cls, method="-", path=cls.__name__)
