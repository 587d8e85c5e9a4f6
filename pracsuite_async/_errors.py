"""The exception tree of :mod:`pracsuite_async`.

Every error the library raises derives from :class:`PracSuiteError`::

    PracSuiteError
    ├─ ConfigurationError (ValueError)        missing key, insecure base URL, bad setting
    ├─ ClientClosedError (RuntimeError)       the client was used after aclose()
    ├─ EventLoopMismatchError (RuntimeError)  the client was used from a second event loop
    ├─ NoAvailabilityError (LookupError)      book() found no free slot in the range
    ├─ RequestValidationError (ValueError)    bad input, raised before anything is sent; .field
    │  └─ RequestTypeError (TypeError)        an argument of the wrong Python type
    ├─ TransportError                         .request_sent .method .path
    │  ├─ ConnectError                        never reached the server
    │  ├─ ConnectionLostError                 sent; the outcome is unknown
    │  └─ RequestTimeoutError (TimeoutError)  an attempt took too long
    │     └─ DeadlineExceededError            the whole call's budget is spent
    ├─ APIStatusError                         .status .code .detail .validation .request_id
    │  ├─ BadRequestError            400
    │  ├─ AuthenticationError        401
    │  ├─ PermissionDeniedError      403
    │  ├─ NotFoundError              404
    │  ├─ ConflictError              409
    │  ├─ UnprocessableEntityError   422
    │  ├─ RateLimitError             429 (.retry_after)
    │  │  └─ QuotaExceededError      429: the daily quota is spent; not retried
    │  └─ ServerError                5xx
    ├─ ResponseDecodeError                    a 2xx body that is not JSON or not the model; .problems
    ├─ PaginationError                        a list walk cannot continue without losing records; .page
    └─ ResponseTooLargeError                  a body over the client's size bound; .limit

Errors carry method and path but never headers, query values or bodies, so they
are safe to log and to pickle. ``str()``, ``repr()`` and pickles of an
:class:`APIStatusError` hold the status, code, field names and ``request_id``; the
server's free text (which may name a patient) stays on ``.detail`` of the live
object only. Foreign exceptions (tenacity, cattrs) appear only as ``__cause__``;
aiohttp's and the JSON decoder's never do, since they hold request headers or the
body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "DeadlineExceededError",
    "EventLoopMismatchError",
    "NoAvailabilityError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "PracSuiteError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestTimeoutError",
    "RequestTypeError",
    "RequestValidationError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "ServerError",
    "TransportError",
    "UnprocessableEntityError",
    "ValidationProblem",
    "error_for_status",
]


class PracSuiteError(Exception):
    """Root of every exception raised by :mod:`pracsuite_async`."""


class ConfigurationError(PracSuiteError, ValueError):
    """The client was configured wrongly (a missing key, an insecure URL, a bad setting)."""


class ClientClosedError(PracSuiteError, RuntimeError):
    """The client was used after :meth:`~pracsuite_async.PracSuiteClient.aclose`.

    Closed is final: the connection pool is gone and is never reopened behind your
    back. Create a new client (one per event loop, for example in ``async with``).
    """

    def __init__(
        self,
        message: str = (
            "the client is closed; create a new PracSuiteClient (one per event loop, e.g. "
            "'async with PracSuiteClient() as client:' in each asyncio.run() or app lifespan)"
        ),
    ) -> None:
        super().__init__(message)


class EventLoopMismatchError(PracSuiteError, RuntimeError):
    """The client was used from an event loop other than the one it first ran on.

    Its connection pool, rate limiter and concurrency cap belong to that first
    loop. Create one client per event loop: ``async with PracSuiteClient() as
    client:`` inside each ``asyncio.run()``, or in the application's lifespan.
    """

    def __init__(
        self,
        message: str = (
            "the client belongs to the event loop that first used it; create one PracSuiteClient "
            "per event loop (e.g. 'async with PracSuiteClient() as client:' in each asyncio.run() "
            "or app lifespan) and close it in that loop"
        ),
    ) -> None:
        super().__init__(message)


class NoAvailabilityError(PracSuiteError, LookupError):
    """:meth:`~pracsuite_async.resources.Appointments.book` found no free slot in the range.

    Nothing was reserved. A slot that was listed but taken by someone else raises
    :class:`ConflictError` instead (after ``max_tries`` attempts).
    """


class RequestValidationError(PracSuiteError, ValueError):
    """An argument breaks a rule of the API; raised before any request is sent.

    ``field`` names the offending argument (``"page_size"``, ``"body.duration"``).
    The message names the field and the rule, never the value.
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(field, rule)

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class RequestTypeError(RequestValidationError, TypeError):
    """An argument has the wrong Python type (a ``str`` where an ``int`` is needed).

    Also a :class:`TypeError`, so ``except TypeError`` catches it; raised before sending.
    """


class TransportError(PracSuiteError):
    """The HTTP exchange failed below the API level.

    ``request_sent`` tells whether the request may have reached the server
    (``False`` means provably not, so a retry cannot duplicate a write).
    """

    def __init__(self, message: str, *, method: str, path: str, request_sent: bool) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.request_sent = request_sent
        super().__init__(message, method, path, request_sent)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_transport, (type(self), self.message, self.method, self.path, self.request_sent))

    def __str__(self) -> str:
        sent = "request may have been sent" if self.request_sent else "request was not sent"
        return f"{self.method} {self.path}: {self.message} ({sent})"


def _rebuild_transport(
    cls: type[TransportError], message: str, method: str, path: str, request_sent: bool
) -> TransportError:
    return cls(message, method=method, path=path, request_sent=request_sent)


class ConnectError(TransportError):
    """The connection could not be made; the request never reached the server."""


class ConnectionLostError(TransportError):
    """The connection broke after the request was (maybe) sent; its outcome is unknown."""


class RequestTimeoutError(TransportError, TimeoutError):
    """One attempt took longer than its timeout."""


class DeadlineExceededError(RequestTimeoutError):
    """The call's deadline (limiter waits, attempts and backoff together) is spent."""


@attrs.frozen
class ValidationProblem:
    """One per-field problem from a 422 ``INVALID_BODY`` response."""

    field: str | None
    message: str | None


class APIStatusError(PracSuiteError):
    """The API answered with an error status.

    Attributes come from the API's error envelope
    ``{"error": {"status", "code", "detail", "validation"}, "request_id"}`` when the
    body has it; otherwise they are ``None`` and ``status`` is the HTTP status.
    ``retry_after`` is the response's ``Retry-After`` in seconds (429, 503), if any.

    ``str()``, ``repr()`` and pickles show the status, code, the invalid field names
    and ``request_id``, never ``detail`` or the validation messages: that free text
    comes from the server and may name a patient. Read it from the attributes.
    """

    status: int

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        code: str | None = None,
        detail: str | None = None,
        validation: Sequence[ValidationProblem] = (),
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.code = code
        self.detail = detail
        self.validation: tuple[ValidationProblem, ...] = tuple(validation)
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(status, method, path, code)

    def _fields(self) -> dict[str, Any]:
        # What survives a pickle: no server free text (detail, validation messages).
        return {
            "status": self.status,
            "method": self.method,
            "path": self.path,
            "code": self.code,
            "validation": tuple(ValidationProblem(p.field, None) for p in self.validation),
            "request_id": self.request_id,
            "retry_after": self.retry_after,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_status, (type(self), self._fields()))

    def __str__(self) -> str:
        parts = [f"{self.method} {self.path} -> {self.status}"]
        if self.code:
            parts.append(self.code)
        text = ": ".join(parts)
        if self.validation:
            fields = ", ".join(p.field or "?" for p in self.validation)
            text += f" (invalid: {fields})"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        return text


def _rebuild_status(cls: type[APIStatusError], fields: dict[str, Any]) -> APIStatusError:
    return cls(**fields)


class BadRequestError(APIStatusError):
    """400 ``INVALID_PARAMS``: a query or path parameter was rejected."""


class AuthenticationError(APIStatusError):
    """401 ``UNAUTHORIZED``: a key could not be verified."""


class PermissionDeniedError(APIStatusError):
    """403 ``MISSING_AUTHENTICATION_TOKEN``: a key header is missing, or the path does not exist."""


class NotFoundError(APIStatusError):
    """404 ``NOT_FOUND``: the referenced record does not exist."""


class ConflictError(APIStatusError):
    """409 ``RESERVE_APPOINTMENT_CONFLICT``: the slot is taken."""


class UnprocessableEntityError(APIStatusError):
    """422 ``INVALID_BODY``: the body failed validation; see ``validation``."""


class RateLimitError(APIStatusError):
    """429: the rate limit or the daily quota was exceeded.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one.
    """


class QuotaExceededError(RateLimitError):
    """429 with a quota code: the key's daily quota is spent.

    Raised at once, never retried and never turned into a pause of the whole
    client: waiting hours for a quota reset is the application's decision.
    ``retry_after`` is the server's hint (clamped to one day), when it sent one.
    """


class ServerError(APIStatusError):
    """5xx: the server failed; GET calls are retried before this is raised."""


class ResponseDecodeError(PracSuiteError):
    """A success response whose body is not JSON or does not fit the model.

    ``problems`` lists what went wrong as ``"message @ $.path"`` strings, without values.
    """

    def __init__(self, message: str, *, method: str, path: str, problems: Sequence[str] = ()) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__(message, method, path, self.problems)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_decode, (self.message, self.method, self.path, self.problems))

    def __str__(self) -> str:
        text = f"{self.method} {self.path}: {self.message}"
        if self.problems:
            text += ": " + "; ".join(self.problems[:5])
        return text


def _rebuild_decode(message: str, method: str, path: str, problems: tuple[str, ...]) -> ResponseDecodeError:
    return ResponseDecodeError(message, method=method, path=path, problems=problems)


class PaginationError(PracSuiteError):
    """A list walk stopped because going on would lose or repeat records silently.

    Raised when the server ignores ``page`` (page N repeats page N-1), or when a walk
    would pass its ``max_pages`` limit while the server still reports more pages.
    ``page`` is the page number where it was detected; a walk can be resumed with
    ``start_page=``. The message names the rule, never record values.
    """

    def __init__(self, message: str, *, page: int) -> None:
        self.message = message
        self.page = page
        super().__init__(message, page)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_pagination, (self.message, self.page))

    def __str__(self) -> str:
        return f"page {self.page}: {self.message}"


def _rebuild_pagination(message: str, page: int) -> PaginationError:
    return PaginationError(message, page=page)


class ResponseTooLargeError(PracSuiteError):
    """A response body passed the client's size bound (``limit`` bytes); reading stopped there.

    Raised as soon as ``Content-Length`` or the bytes read so far exceed the bound,
    so memory stays near it. Not retried: the same request would get the same body.
    """

    def __init__(self, *, method: str, path: str, limit: int) -> None:
        self.method = method
        self.path = path
        self.limit = limit
        super().__init__(method, path, limit)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_too_large, (self.method, self.path, self.limit))

    def __str__(self) -> str:
        return f"{self.method} {self.path}: response body exceeds the {self.limit}-byte bound"


def _rebuild_too_large(method: str, path: str, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(method=method, path=path, limit=limit)


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


#: Error codes that mark a 429 as an exhausted quota rather than a rate overshoot
#: (the API documents neither; these are the spellings gateways use).
QUOTA_CODES = frozenset({"QUOTA_EXCEEDED", "DAILY_QUOTA_EXCEEDED", "QUOTA_EXHAUSTED"})


def error_for_status(status: int, code: str | None = None) -> type[APIStatusError]:
    """Return the exception class for an HTTP error status (and the envelope's ``code``)."""
    if status == 429 and code is not None and code.upper() in QUOTA_CODES:
        return QuotaExceededError
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIStatusError)
