"""pracsuite_async: the asyncio client of the PracSuite practice-management API v1.

The public surface is what this module exports; everything in ``_``-prefixed
modules is private. Models live in :mod:`pracsuite_async.models`, the test kit in
:mod:`pracsuite_async.testing`, the bundled simulator in :mod:`pracsuite_async.simulator`.
"""

from pracsuite_async._capture import CapturedResponse, Captures, capture_responses
from pracsuite_async._client import ClientStats, PracSuiteClient, __version__
from pracsuite_async._clock import Clock
from pracsuite_async._endpoints import OPERATIONS, Endpoint
from pracsuite_async._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectionLostError,
    DeadlineExceededError,
    EventLoopMismatchError,
    NoAvailabilityError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    PracSuiteError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    RequestTypeError,
    RequestValidationError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    UnprocessableEntityError,
    ValidationProblem,
)
from pracsuite_async._events import (
    CallFinished,
    CallStarted,
    Event,
    EventHook,
    LoggingHook,
    RateLimited,
    RateLimitWait,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
)
from pracsuite_async._filters import F, Filter, RawFilter
from pracsuite_async._limiter import AdaptiveRateLimiter, AiolimiterAdapter, RateLimiter
from pracsuite_async._pagination import Page, Pager
from pracsuite_async._response import from_dict, to_dict
from pracsuite_async._retry import RetryPolicy
from pracsuite_async._scheduler import Priority
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
    "CallFinished",
    "CallStarted",
    "CapturedResponse",
    "Captures",
    "ClientClosedError",
    "ClientStats",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "DeadlineExceededError",
    "Endpoint",
    "Event",
    "EventHook",
    "EventLoopMismatchError",
    "Filter",
    "LoggingHook",
    "NoAvailabilityError",
    "NotFoundError",
    "Page",
    "Pager",
    "PaginationError",
    "PermissionDeniedError",
    "PracSuiteClient",
    "PracSuiteError",
    "Priority",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimitWait",
    "RateLimited",
    "RateLimiter",
    "RawFilter",
    "RequestSent",
    "RequestTimeoutError",
    "RequestTypeError",
    "RequestValidationError",
    "ResponseDecodeError",
    "ResponseReceived",
    "ResponseTooLargeError",
    "RetryPolicy",
    "RetryScheduled",
    "ServerError",
    "TransportError",
    "UnprocessableEntityError",
    "UnsetType",
    "ValidationProblem",
    "__version__",
    "capture_responses",
    "from_dict",
    "to_dict",
]
