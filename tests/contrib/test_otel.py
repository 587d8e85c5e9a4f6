"""``pracsuite_async.contrib.otel``: spans and metrics checked with the SDK's in-memory exporters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pracsuite_async import NotFoundError, PracSuiteClient, models
from pracsuite_async._transport import RawResponse
from pracsuite_async.contrib.otel import OpenTelemetryHook
from pracsuite_async.simulator import Simulator
from pracsuite_async.testing import RecordedRequest, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient, prepared
from tests.contrib.conftest import ClientFactory

TEMPLATE = "/thing/{thing_id}"


class Telemetry:
    """An SDK tracer and meter provider exporting to memory, and the hook wired to them."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.hook = OpenTelemetryHook(
            base_url="https://api.example.test/v1",
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
        )

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def metrics(self) -> dict[str, list[Any]]:
        """Metric name -> its data points."""
        data = self.reader.get_metrics_data()
        out: dict[str, list[Any]] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    out[metric.name] = list(metric.data.data_points)
        return out

    def total(self, name: str) -> float:
        return sum(p.value for p in self.metrics().get(name, []))

    def count(self, name: str) -> int:
        return sum(p.count for p in self.metrics().get(name, []))


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Fresh in-memory providers for one test."""
    t = Telemetry()
    yield t
    t.tracer_provider.shutdown()
    t.meter_provider.shutdown()


def _answers(*responses: RawResponse) -> Any:
    items = list(responses)
    return lambda req: items.pop(0) if len(items) > 1 else items[0]


def _everything(span: ReadableSpan) -> str:
    """Every attribute and event of a span, as text, to search for things that must not be there."""
    return span.to_json() + json.dumps([dict(e.attributes or {}) for e in span.events])


class TestSpans:
    async def test_one_client_span_per_call_with_http_conventions(
        self, make_client: MakeClient, telemetry: Telemetry
    ) -> None:
        """A call is one CLIENT span named by method and template, with the HTTP semantic-convention attributes."""
        client, _ = make_client(_answers(json_response(200, {"ok": True})), event_hooks=[telemetry.hook])
        await client._pipeline.call(prepared(path="/thing/424242"), deadline=None, idempotent=None)
        (span,) = telemetry.finished()
        assert span.name == f"GET {TEMPLATE}"
        assert span.kind is trace.SpanKind.CLIENT
        assert dict(span.attributes or {}) == {
            "http.request.method": "GET",
            "url.template": TEMPLATE,
            "server.address": "api.example.test",
            "server.port": 443,
            "pracsuite.operation_id": "getThing",
            "http.response.status_code": 200,
            "pracsuite.attempts": 1,
            "pracsuite.rate_limit.wait": 0.0,
            "pracsuite.rate_limited": 0,
        }
        assert span.status.status_code is trace.StatusCode.UNSET
        text = _everything(span)
        for secret in ("424242", VENDOR_KEY, ACCOUNT_KEY):
            assert secret not in text

    async def test_retries_waits_and_429s_are_attributes_and_events(
        self, make_client: MakeClient, telemetry: Telemetry
    ) -> None:
        """A 429 then a success: two attempts, one resend, the 429 and the limiter's hold on span and metrics."""
        client, _ = make_client(
            _answers(json_response(429, {}, headers={"Retry-After": "1"}), json_response(200, {})),
            event_hooks=[telemetry.hook],
        )
        await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        (span,) = telemetry.finished()
        attributes = dict(span.attributes or {})
        assert attributes["pracsuite.attempts"] == 2
        assert attributes["http.request.resend_count"] == 1
        assert attributes["pracsuite.rate_limited"] == 1
        assert attributes["http.response.status_code"] == 200
        assert "error.type" not in attributes
        names = [e.name for e in span.events]
        assert names[:2] == ["pracsuite.rate_limited", "pracsuite.retry"]
        assert dict(span.events[0].attributes or {}) == {"pracsuite.retry_after": 1.0}
        assert dict(span.events[1].attributes or {})["error.type"] == "RateLimitError"

        assert telemetry.total("pracsuite.client.requests") == 2
        assert telemetry.total("pracsuite.client.retries") == 1
        assert telemetry.total("pracsuite.client.rate_limited") == 1
        assert telemetry.count("http.client.request.duration") == 2
        assert telemetry.count("pracsuite.client.call.duration") == 1
        statuses = {p.attributes["http.response.status_code"] for p in telemetry.metrics()["http.client.request.duration"]}
        assert statuses == {429, 200}

    async def test_limiter_holds_are_recorded(self, make_client: MakeClient, telemetry: Telemetry) -> None:
        """A call the limiter held back carries the wait as attribute and event, and feeds the wait histogram."""
        client, _ = make_client(_answers(json_response(200, {})), rate_limit=1.0, event_hooks=[telemetry.hook])
        for _ in range(3):  # a burst of two goes at once; the third waits a second
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        *_, third = telemetry.finished()
        assert (third.attributes or {})["pracsuite.rate_limit.wait"] == pytest.approx(1.0)
        (event,) = third.events
        assert event.name == "pracsuite.rate_limit.wait"
        assert dict(event.attributes or {}) == {"pracsuite.wait": pytest.approx(1.0)}
        (point,) = telemetry.metrics()["pracsuite.client.rate_limit.wait"]
        assert (point.count, point.sum) == (1, pytest.approx(1.0))

    async def test_an_error_status_marks_the_span(self, make_client: MakeClient, telemetry: Telemetry) -> None:
        """A 404 ends the span with ERROR status and ``error.type`` set to the status code."""
        body = {"error": {"status": 404, "code": "NOT_FOUND", "detail": "patient Jane Doe not found"}}
        client, _ = make_client(_answers(json_response(404, body)), event_hooks=[telemetry.hook])
        with pytest.raises(NotFoundError):
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        (span,) = telemetry.finished()
        assert span.status.status_code is trace.StatusCode.ERROR
        assert (span.attributes or {})["error.type"] == "404"
        assert "Jane" not in _everything(span)
        (point,) = telemetry.metrics()["pracsuite.client.call.duration"]
        assert point.attributes["error.type"] == "404"

    async def test_a_cancelled_call_ends_its_span_without_error(
        self, make_client: MakeClient, telemetry: Telemetry
    ) -> None:
        """Cancellation ends the span, marked ``pracsuite.cancelled``, and restores the caller's context."""
        started = asyncio.Event()

        async def stall(req: RecordedRequest) -> RawResponse:
            started.set()
            await asyncio.Event().wait()
            raise AssertionError

        client, _ = make_client(stall, event_hooks=[telemetry.hook])
        tracer = telemetry.tracer_provider.get_tracer("test")

        async def caller() -> None:
            with tracer.start_as_current_span("handler") as parent:
                try:
                    await client._pipeline.call(prepared(), deadline=None, idempotent=None)
                finally:
                    assert trace.get_current_span() is parent

        task = asyncio.create_task(caller())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        call_span = next(s for s in telemetry.finished() if s.name == f"GET {TEMPLATE}")
        assert (call_span.attributes or {})["pracsuite.cancelled"] is True
        assert call_span.status.status_code is trace.StatusCode.UNSET

    async def test_concurrent_calls_keep_their_own_spans_under_their_parents(
        self, make_client: MakeClient, telemetry: Telemetry
    ) -> None:
        """Interleaved calls in separate tasks get separate spans, each a child of its task's span and current
        while the request is sent."""
        current: dict[str, int] = {}

        async def handler(req: RecordedRequest) -> RawResponse:
            await asyncio.sleep(0)
            current[req.path] = trace.get_current_span().get_span_context().span_id
            return json_response(500, {}) if req.path.endswith("/1") and len(current) < 3 else json_response(200, {})

        client, _ = make_client(handler, event_hooks=[telemetry.hook])
        tracer = telemetry.tracer_provider.get_tracer("test")

        async def one(i: int) -> None:
            with tracer.start_as_current_span(f"parent-{i}"):
                await client._pipeline.call(prepared(path=f"/thing/{i}"), deadline=None, idempotent=None)

        await asyncio.gather(*(one(i) for i in range(1, 4)))
        spans = telemetry.finished()
        parents = {s.name: s for s in spans if s.name.startswith("parent-")}
        calls = [s for s in spans if s.name == f"GET {TEMPLATE}"]
        assert len(calls) == 3
        by_parent = {s.parent.span_id: s for s in calls if s.parent is not None}
        assert set(by_parent) == {p.context.span_id for p in parents.values()}
        assert set(current.values()) == {s.context.span_id for s in calls}
        first = by_parent[parents["parent-1"].context.span_id]
        assert (first.attributes or {})["pracsuite.attempts"] == 2
        assert [(s.attributes or {})["pracsuite.attempts"] for s in calls].count(1) == 2


async def test_real_calls_against_the_simulator_record_templates_only(
    sim: Simulator, client_factory: ClientFactory, telemetry: Telemetry
) -> None:
    """Calls with patient ids and filters, over loopback, leave only templates, methods and statuses in
    spans and metrics: no id, filter value or key."""
    hook = OpenTelemetryHook(
        base_url=sim.base_url, tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    client: PracSuiteClient = client_factory(sim.base_url, event_hooks=[hook])()
    async with client:
        patient = await client.patients.get(7)
        assert isinstance(patient, models.Patient)
        name = patient.first_name or "unused-name"
        await client.patients.list(filters=[f"first_name:={name}"], max_items=3).collect()
        with pytest.raises(NotFoundError):
            await client.patients.get(987654)
    spans = telemetry.finished()
    assert {s.name for s in spans} == {"GET /patient/{client_id}", "GET /patient"}
    port = int(sim.base_url.split(":")[2].split("/")[0])
    for span in spans:
        assert (span.attributes or {})["server.port"] == port
        text = _everything(span)
        for secret in ("987654", "/patient/7", name, VENDOR_KEY, ACCOUNT_KEY, "sim-vendor-key", "sim-account-key"):
            assert secret not in text
    for name_, points in telemetry.metrics().items():
        for point in points:
            values = {str(v) for v in point.attributes.values()}
            assert not any(v.startswith("/patient/") and v[9:10].isdigit() for v in values), name_
            assert name not in values
