"""Observability: small frozen event records and the :class:`EventHook` protocol.

Attach hooks with ``PracSuiteClient(event_hooks=[...])`` to feed metrics or
tracing without subclassing. Events carry the operation id and the path
*template* (``/patient/{client_id}``), never ids, query values, bodies or keys.
"""

from __future__ import annotations

import logging
from typing import Protocol, TypeAlias

import attrs

__all__ = [
    "CallFinished",
    "CallStarted",
    "Event",
    "EventHook",
    "LoggingHook",
    "RateLimitWait",
    "RateLimited",
    "RequestSent",
    "ResponseReceived",
    "RetryScheduled",
]

logger = logging.getLogger("pracsuite_async")


@attrs.frozen
class CallStarted:
    """A call (one API operation, with all its attempts and waits) begins.

    Emitted from the calling task, like every event of the call up to its
    :class:`CallFinished`, so a hook may keep per-call state in a context variable.
    """

    operation_id: str
    method: str
    path: str


@attrs.frozen
class CallFinished:
    """A call ended after ``elapsed`` seconds; ``error`` names its exception class (None: success).

    Emitted on every exit, cancellation included (``error="CancelledError"``).
    """

    operation_id: str
    method: str
    path: str
    elapsed: float
    error: str | None


@attrs.frozen
class RequestSent:
    """An attempt is about to go on the wire."""

    operation_id: str
    method: str
    path: str
    attempt: int


@attrs.frozen
class ResponseReceived:
    """An attempt got a response (any status) after ``elapsed`` seconds."""

    operation_id: str
    method: str
    path: str
    attempt: int
    status: int
    elapsed: float


@attrs.frozen
class RetryScheduled:
    """A failed attempt will be retried after ``wait`` seconds; ``reason`` names the failure."""

    operation_id: str
    method: str
    path: str
    attempt: int
    wait: float
    reason: str


@attrs.frozen
class RateLimitWait:
    """The limiter held a request back for ``waited`` seconds."""

    operation_id: str
    method: str
    path: str
    waited: float


@attrs.frozen
class RateLimited:
    """The server answered 429; every sender pauses ``retry_after`` seconds (None: not sent)."""

    operation_id: str
    method: str
    path: str
    retry_after: float | None


Event: TypeAlias = (
    CallStarted | CallFinished | RequestSent | ResponseReceived | RetryScheduled | RateLimitWait | RateLimited
)


class EventHook(Protocol):
    """A callable receiving every :data:`Event`; it must be quick and must not raise."""

    def __call__(self, event: Event) -> None:
        """Handle one event."""


class LoggingHook:
    """Logs events to the ``pracsuite_async`` logger (retries and 429s at INFO, the rest at DEBUG)."""

    __slots__ = ("_logger",)

    def __init__(self, log: logging.Logger | None = None) -> None:
        self._logger = log or logger

    def __call__(self, event: Event) -> None:
        """Log one event: method, path template, status, attempt, waits; nothing else."""
        log = self._logger
        if isinstance(event, CallStarted):
            return  # the first RequestSent says the same
        if isinstance(event, RetryScheduled):
            log.info(
                "retry %s %s attempt=%d wait=%.3fs reason=%s",
                event.method, event.path, event.attempt, event.wait, event.reason,
            )
        elif isinstance(event, RateLimited):
            log.info("429 %s %s retry_after=%s", event.method, event.path, event.retry_after)
        elif log.isEnabledFor(logging.DEBUG):
            if isinstance(event, ResponseReceived):
                log.debug(
                    "%s %s -> %d attempt=%d %.3fs",
                    event.method, event.path, event.status, event.attempt, event.elapsed,
                )
            elif isinstance(event, RateLimitWait):
                log.debug("rate-limit wait %s %s %.3fs", event.method, event.path, event.waited)
            elif isinstance(event, CallFinished):
                log.debug(
                    "done %s %s %.3fs error=%s", event.method, event.path, event.elapsed, event.error,
                )
            else:
                log.debug("send %s %s attempt=%d", event.method, event.path, event.attempt)
