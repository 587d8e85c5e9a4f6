"""pracsuite_async: the asyncio client of the PracSuite practice-management API v1.

The public surface is what this module exports; everything in ``_``-prefixed
modules is private. Models live in :mod:`pracsuite_async.models`, the test kit in
:mod:`pracsuite_async.testing`, the bundled simulator in :mod:`pracsuite_async.simulator`.
"""

from pracsuite_async._client import ClientStats, PracSuiteClient, __version__
from pracsuite_async._clock import Clock, Deadline, SystemClock
from pracsuite_async._endpoints import OPERATIONS, Endpoint, FilterField
from pracsuite_async._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectionLostError,
    DeadlineExceededError,
    NotFoundError,
    PermissionDeniedError,
    PracSuiteError,
    RateLimitError,
    RequestTimeoutError,
    RequestTypeError,
    RequestValidationError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    UnprocessableEntityError,
    ValidationProblem,
)
from pracsuite_async._events import (
    Event,
    EventHook,
    LoggingHook,
    RateLimited,
    RateLimitWait,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
)
from pracsuite_async._filters import F, Filter
from pracsuite_async._limiter import AdaptiveRateLimiter, AiolimiterAdapter, RateFeedback, RateLimiter
from pracsuite_async._pagination import Page, Pager
from pracsuite_async._response import from_dict, to_dict
from pracsuite_async._retry import RetryPolicy
from pracsuite_async._transport import RawResponse, Transport
from pracsuite_async._types import UNSET, UnsetType

__all__ = [
    "F",
    "OPERATIONS",
    "UNSET",
    "APIStatusError",
    "AdaptiveRateLimiter",
    "AiolimiterAdapter",
    "AuthenticationError",
    "BadRequestError",
    "ClientStats",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "Deadline",
    "DeadlineExceededError",
    "Endpoint",
    "Event",
    "EventHook",
    "Filter",
    "FilterField",
    "LoggingHook",
    "NotFoundError",
    "Page",
    "Pager",
    "PermissionDeniedError",
    "PracSuiteClient",
    "PracSuiteError",
    "RateFeedback",
    "RateLimitError",
    "RateLimitWait",
    "RateLimited",
    "RateLimiter",
    "RawResponse",
    "RequestSent",
    "RequestTimeoutError",
    "RequestTypeError",
    "RequestValidationError",
    "ResponseDecodeError",
    "ResponseReceived",
    "RetryPolicy",
    "RetryScheduled",
    "ServerError",
    "SystemClock",
    "Transport",
    "TransportError",
    "UnprocessableEntityError",
    "UnsetType",
    "ValidationProblem",
    "__version__",
    "from_dict",
    "to_dict",
]
