"""OpenTelemetry spans and metrics from the client's event hooks (extra ``otel``).

::

    from pracsuite_async import PracSuiteClient
    from pracsuite_async.contrib.otel import OpenTelemetryHook

    client = PracSuiteClient(event_hooks=[OpenTelemetryHook()])

Each call (one API operation, its attempts, limiter waits and backoff together)
is one ``CLIENT`` span named ``"{method} {url.template}"``, a child of the span
current where the call was made, and current itself while the call runs (so
spans of an instrumented transport nest under it). Attributes follow the HTTP
client semantic conventions: ``http.request.method``, ``url.template``,
``server.address``, ``server.port``, ``http.response.status_code``,
``http.request.resend_count``, ``error.type``; plus ``pracsuite.operation_id``,
``pracsuite.attempts``, ``pracsuite.rate_limit.wait`` (seconds held by the limiter)
and ``pracsuite.rate_limited`` (429s). Retries, limiter waits and 429s are also
span events.

Metrics (instruments of the meter ``pracsuite_async``):

* ``http.client.request.duration`` (s): one per attempt that got a response;
* ``pracsuite.client.call.duration`` (s): one per call, retries and waits included;
* ``pracsuite.client.requests``: attempts sent;
* ``pracsuite.client.retries``: retries scheduled, by ``error.type``;
* ``pracsuite.client.rate_limit.wait`` (s): each time the limiter held a request;
* ``pracsuite.client.rate_limited``: 429 responses.

Only the path *template* is recorded (``/patient/{client_id}``), never the filled
path, query values, bodies, headers or keys: the events carry nothing else.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any
from urllib.parse import urlsplit

import attrs
from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.context import Context

from pracsuite_async._client import __version__
from pracsuite_async._config import DEFAULT_BASE_URL
from pracsuite_async._events import (
    CallFinished,
    CallStarted,
    Event,
    RateLimited,
    RateLimitWait,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
)

__all__ = ["OpenTelemetryHook"]

_SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
#: The semantic conventions' advisory buckets for HTTP durations, in seconds.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@attrs.define
class _Call:
    """What the hook knows about the call running in this context."""

    span: trace.Span
    attributes: dict[str, Any]
    context_token: Token[Context]
    state_token: Token[_Call | None] | None = None
    attempts: int = 0
    waited: float = 0.0
    throttled: int = 0
    status: int | None = None


class OpenTelemetryHook:
    """An :class:`~pracsuite_async.EventHook` emitting one span per call and HTTP client metrics.

    Args:
        base_url: the client's ``base_url``, for ``server.address`` / ``server.port``.
        tracer_provider: default: the global provider.
        meter_provider: default: the global provider.
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self._server: dict[str, Any] = {"server.address": parts.hostname or "", "server.port": port}
        self._tracer = trace.get_tracer(
            "pracsuite_async", __version__, tracer_provider=tracer_provider, schema_url=_SCHEMA_URL
        )
        meter = metrics.get_meter(
            "pracsuite_async", __version__, meter_provider=meter_provider, schema_url=_SCHEMA_URL
        )
        self._attempt_duration = meter.create_histogram(
            "http.client.request.duration", unit="s", description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self._call_duration = meter.create_histogram(
            "pracsuite.client.call.duration", unit="s",
            description="Duration of API calls, attempts, limiter waits and backoff included.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self._requests = meter.create_counter(
            "pracsuite.client.requests", unit="{request}", description="HTTP requests sent (attempts)."
        )
        self._retries = meter.create_counter(
            "pracsuite.client.retries", unit="{retry}", description="Retries scheduled after failed attempts."
        )
        self._waits = meter.create_histogram(
            "pracsuite.client.rate_limit.wait", unit="s", description="Time the rate limiter held a request.",
            explicit_bucket_boundaries_advisory=_WAIT_BUCKETS,
        )
        self._throttled = meter.create_counter(
            "pracsuite.client.rate_limited", unit="{response}", description="429 responses received."
        )
        # Per hook: two hooks (two clients) in one task keep separate calls.
        self._current: ContextVar[_Call | None] = ContextVar(f"pracsuite_otel_call_{id(self)}", default=None)

    def __repr__(self) -> str:
        return f"OpenTelemetryHook(server={self._server['server.address']!r})"

    def _attributes(self, method: str, path: str) -> dict[str, Any]:
        return {"http.request.method": method, "url.template": path, **self._server}

    def __call__(self, event: Event) -> None:
        """Record one event on the current call's span and on the metrics."""
        if isinstance(event, CallStarted):
            self._start(event)
        elif isinstance(event, CallFinished):
            self._finish(event)
        else:
            self._during(event, self._current.get())

    def _start(self, event: CallStarted) -> None:
        attributes = self._attributes(event.method, event.path)
        span = self._tracer.start_span(
            f"{event.method} {event.path}",
            kind=trace.SpanKind.CLIENT,
            attributes={**attributes, "pracsuite.operation_id": event.operation_id},
        )
        call = _Call(span, attributes, otel_context.attach(trace.set_span_in_context(span)))
        call.state_token = self._current.set(call)

    def _during(self, event: Event, call: _Call | None) -> None:
        attributes = call.attributes if call is not None else self._attributes(event.method, event.path)
        if isinstance(event, RequestSent):
            self._requests.add(1, attributes)
            if call is not None:
                call.attempts = event.attempt
        elif isinstance(event, ResponseReceived):
            self._attempt_duration.record(event.elapsed, {**attributes, **_status_attributes(event.status)})
            if call is not None:
                call.status = event.status
        elif isinstance(event, RetryScheduled):
            self._retries.add(1, {**attributes, "error.type": event.reason})
            if call is not None:
                details = {"pracsuite.attempt": event.attempt, "pracsuite.wait": event.wait}
                call.span.add_event("pracsuite.retry", {**details, "error.type": event.reason})
        elif isinstance(event, RateLimitWait):
            self._waits.record(event.waited, attributes)
            if call is not None:
                call.waited += event.waited
                call.span.add_event("pracsuite.rate_limit.wait", {"pracsuite.wait": event.waited})
        elif isinstance(event, RateLimited):
            self._throttled.add(1, attributes)
            if call is not None:
                call.throttled += 1
                after = {} if event.retry_after is None else {"pracsuite.retry_after": event.retry_after}
                call.span.add_event("pracsuite.rate_limited", after)

    def _finish(self, event: CallFinished) -> None:
        call = self._current.get()
        if call is None:  # a CallStarted this hook never saw
            return
        span, status = call.span, call.status
        outcome: dict[str, Any] = {}
        if status is not None:
            outcome.update(_status_attributes(status))
        if event.error == "CancelledError":
            span.set_attribute("pracsuite.cancelled", True)
        elif event.error is not None:
            outcome.setdefault("error.type", event.error)
        if "error.type" in outcome:
            span.set_status(trace.StatusCode.ERROR)
        span.set_attributes(
            {
                **outcome,
                "pracsuite.attempts": call.attempts,
                "pracsuite.rate_limit.wait": call.waited,
                "pracsuite.rate_limited": call.throttled,
            }
        )
        if call.attempts > 1:
            span.set_attribute("http.request.resend_count", call.attempts - 1)
        self._call_duration.record(event.elapsed, {**call.attributes, **outcome})
        span.end()
        otel_context.detach(call.context_token)
        try:
            if call.state_token is not None:
                self._current.reset(call.state_token)
        except ValueError:  # finished in another context than it started: just forget it here
            self._current.set(None)


def _status_attributes(status: int) -> dict[str, Any]:
    attributes: dict[str, Any] = {"http.response.status_code": status}
    if status >= 400:
        attributes["error.type"] = str(status)
    return attributes
