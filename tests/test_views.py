"""Client views, per-call options, raw requests and captured responses (issue 10)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pracsuite_async import (
    ClientClosedError,
    ConfigurationError,
    PracSuiteClient,
    RequestValidationError,
    capture_responses,
)
from pracsuite_async._transport import RawResponse
from pracsuite_async.testing import FakeClock, FakeTransport, RecordedRequest, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY

STATUSES = {"appointment_statuses": [{"appointment_status_id": 1, "name": "Booked"}], "total_entries": 1,
            "links": {"self": "x"}}


def _ok(req: RecordedRequest) -> RawResponse:
    if req.path.startswith("/appointment_status"):
        return json_response(200, STATUSES, {"X-Request-Id": "req-1"})
    return json_response(200, {"appointment_id": 7, "app_time": "2026-01-05T09:00:00", "duration": 30})


def _client(handler: Any = _ok, clock: FakeClock | None = None, **kwargs: Any) -> tuple[PracSuiteClient, FakeTransport]:
    transport = FakeTransport(handler)
    client = PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, transport=transport, clock=clock or FakeClock(),
                             rate_limit=1000, **kwargs)
    return client, transport


class TestWithOptions:
    async def test_view_shares_pool_budget_and_cap(self) -> None:
        """A view has its own defaults but the parent's pipeline, limiter and transport."""
        client, _ = _client()
        view = client.with_options(timeout=3, priority="bulk")
        assert view._pipeline is client._pipeline
        assert view.limiter is client.limiter
        assert view._transport is client._transport
        assert view.appointments._client is view
        assert client.appointments._client is client

    async def test_view_defaults_reach_the_wire(self) -> None:
        """Extra headers, extra query and the per-attempt timeout of a view are sent; the parent's are not."""
        client, transport = _client()
        view = client.with_options(timeout=3, extra_headers={"X-Trace": "t1"}, extra_query={"lang": "en"})
        await view.appointments.get(7)
        await client.appointments.get(7)
        sent, plain = transport.requests
        assert sent.headers["X-Trace"] == "t1"
        assert ("lang", "en") in sent.params
        assert sent.timeout == 3
        assert sent.headers["x-api-key"] == VENDOR_KEY
        assert "X-Trace" not in plain.headers
        assert ("lang", "en") not in plain.params

    async def test_views_stack_and_per_call_options_win(self) -> None:
        """with_options of a view adds to it; a call's own options override both."""
        client, transport = _client()
        view = client.with_options(extra_headers={"X-A": "1"}).with_options(extra_headers={"X-B": "2"}, timeout=5)
        await view.appointments.get(7, timeout=1, extra_headers={"X-C": "3"}, extra_query={"q": "1"})
        (sent,) = transport.requests
        assert (sent.headers["X-A"], sent.headers["X-B"], sent.headers["X-C"]) == ("1", "2", "3")
        assert sent.timeout == 1
        assert ("q", "1") in sent.params

    @pytest.mark.parametrize("header", ["x-api-key", "A-api-key", "Content-Type", "Host"])
    async def test_key_headers_cannot_be_overridden(self, header: str) -> None:
        """extra_headers naming a key or protocol header is refused, on a view and on a call, before sending."""
        client, transport = _client()
        with pytest.raises(ConfigurationError, match="extra_headers"):
            client.with_options(extra_headers={header: "evil"})
        with pytest.raises(RequestValidationError, match="extra_headers"):
            await client.appointments.get(7, extra_headers={header: "evil"})
        assert transport.requests == []

    @pytest.mark.parametrize(
        ("option", "value"),
        [("timeout", 0), ("timeout", float("nan")), ("max_retries", -1), ("max_retries", True),
         ("priority", "urgent"), ("extra_query", {"a": 1}), ("extra_headers", ["X"])],
    )
    async def test_bad_options_are_refused_up_front(self, option: str, value: object) -> None:
        """A bad per-call option is a RequestValidationError naming it; on with_options a ConfigurationError."""
        client, transport = _client()
        with pytest.raises(RequestValidationError, match=option):
            await client.appointments.get(7, **{option: value})
        with pytest.raises(ConfigurationError, match=option):
            client.with_options(**{option: value})
        assert transport.requests == []

    async def test_max_retries_zero_means_one_attempt(self) -> None:
        """max_retries=0 on a call turns retries off for it alone."""
        calls = 0

        def flaky(req: RecordedRequest) -> RawResponse:
            nonlocal calls
            calls += 1
            return json_response(503, {"error": {"status": 503, "code": "SERVER_ERROR"}})

        client, _ = _client(flaky)
        with pytest.raises(Exception, match="503"):
            await client.appointments.get(7, max_retries=0)
        assert calls == 1
        with pytest.raises(Exception, match="503"):
            await client.appointments.get(7, max_retries=2)
        assert calls == 1 + 3

    async def test_closing_the_parent_closes_views_and_view_close_is_a_no_op(self) -> None:
        """A view's aclose leaves the pool open; the parent's closes every view."""
        client, transport = _client()
        view = client.with_options(timeout=2)
        async with view:
            await view.appointments.get(7)
        await client.appointments.get(7)
        assert not transport.closed
        await client.aclose()
        assert transport.closed
        with pytest.raises(ClientClosedError):
            await view.appointments.get(7)


class TestForAccount:
    async def test_other_clinic_same_vendor(self) -> None:
        """for_account sends the other clinic's A-api-key with the same vendor key and shares the budget."""
        client, transport = _client()
        other = client.for_account("clinic-2-SENTINEL")
        await other.appointments.get(7)
        await client.appointments.get(7)
        a, b = transport.requests
        assert (a.headers["A-api-key"], a.headers["x-api-key"]) == ("clinic-2-SENTINEL", VENDOR_KEY)
        assert b.headers["A-api-key"] == ACCOUNT_KEY
        assert other.limiter is client.limiter
        assert "clinic-2-SENTINEL" not in repr(other)
        with pytest.raises(ConfigurationError):
            client.for_account("")

    async def test_fifty_clinics_share_one_budget_fairly(self) -> None:
        """With one clinic walking in bulk, every other clinic's call waits about one token interval; never over R."""
        clock = FakeClock()
        rate = 10.0
        sent: list[float] = []

        def handler(req: RecordedRequest) -> RawResponse:
            sent.append(clock.now())
            return _ok(req)

        client, _ = _client(handler, clock=clock)
        client = PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, transport=client._transport, clock=clock,
                                 rate_limit=rate, burst=1)
        bulk = client.for_account("bulk-clinic")
        hog = [asyncio.create_task(bulk.appointments.get(7)) for _ in range(200)]
        await clock.sleep(1.0)  # the bulk queue is long now
        waits = []
        for n in range(49):
            view = client.for_account(f"clinic-{n}")
            started = clock.now()
            await view.appointments.get(7)
            waits.append(clock.now() - started)
        for task in hog:
            task.cancel()
        await asyncio.gather(*hog, return_exceptions=True)
        interval = 1 / rate
        assert max(waits) <= 2 * interval + 1e-6, max(waits)
        # The aggregate never exceeds the vendor limit: at most R + 1 starts in any 1 s window.
        assert max(sum(1 for t in sent if s <= t < s + 1.0) for s in sent) <= rate + 1

    async def test_interactive_calls_go_ahead_of_the_same_clinics_bulk_traffic(self) -> None:
        """With a bulk view saturating the budget, the same clinic's interactive call waits about one interval."""
        clock = FakeClock()
        rate, latency = 10.0, 0.05
        done: list[float] = []

        async def handler(req: RecordedRequest) -> RawResponse:
            await clock.sleep(latency)
            return _ok(req)

        client = PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, transport=FakeTransport(handler), clock=clock, rate_limit=rate,
                                 burst=1)
        bulk = client.with_options(priority="bulk")

        async def bulk_call() -> None:
            await bulk.appointments.get(7)
            done.append(clock.now())

        hog = [asyncio.create_task(bulk_call()) for _ in range(100)]
        await clock.sleep(1.0)  # the bulk queue is long now
        waits = []
        for _ in range(10):
            started = clock.now()
            await client.appointments.get(7)
            waits.append(clock.now() - started)
        bulk_done = len(done)
        for task in hog:
            task.cancel()
        await asyncio.gather(*hog, return_exceptions=True)
        # Its own slot, after at most the one the bulk turn in progress waits for: <= 2 intervals.
        assert max(waits) <= 2 / rate + latency + 1e-6, max(waits)
        assert bulk_done >= 10 + 5  # bulk kept going meanwhile (one turn in BULK_EVERY + 1 at least)


class TestRawRequest:
    async def test_request_goes_through_the_pipeline(self) -> None:
        """client.request sends both keys, encodes params and JSON, and returns the decoded body."""
        client, transport = _client()
        data = await client.request("POST", "/tag", params={"a": "1 2"}, json={"name": "x"}, timeout=4)
        (sent,) = transport.requests
        assert (sent.method, sent.path, sent.params, sent.json()) == ("POST", "/tag", [("a", "1 2")], {"name": "x"})
        assert sent.headers["A-api-key"] == ACCOUNT_KEY
        assert sent.timeout == 4
        assert isinstance(data, dict)
        assert data["appointment_id"] == 7

    @pytest.mark.parametrize(
        ("method", "path", "field"),
        [("TRACE", "/x", "method"), ("GET", "x", "path"), ("GET", "//evil.example/x", "path"),
         ("GET", "/x?y=1", "path"), ("GET", "/x#f", "path"), (1, "/x", "method")],
    )
    async def test_bad_requests_are_refused_before_sending(self, method: Any, path: Any, field: str) -> None:
        """Unknown methods and paths that could leave the base URL are refused, naming the argument."""
        client, transport = _client()
        with pytest.raises(RequestValidationError, match=field):
            await client.request(method, path)
        assert transport.requests == []

    async def test_unserialisable_json_is_refused(self) -> None:
        """A body that is not JSON-serialisable is a RequestTypeError before sending."""
        client, transport = _client()
        with pytest.raises(RequestValidationError, match="json"):
            await client.request("POST", "/x", json={"when": object()})
        assert transport.requests == []


class TestCapture:
    async def test_capture_records_status_headers_and_request_id(self) -> None:
        """Inside capture_responses(), each response's status, headers and request id are kept, path as template."""
        client, _ = _client()
        with capture_responses() as captured:
            await client.appointment_statuses.list().collect()
            await client.appointments.get(7)
        first, last = captured.responses
        assert (first.status, first.request_id, first.operation_id) == (200, "req-1", "listAppointmentStatuses")
        assert last.path == "/appointment/{appointment_id}"
        assert captured.last is last
        assert "headers" not in repr(last)

    async def test_capture_is_per_task(self) -> None:
        """A concurrent task outside the block is not recorded; nothing is recorded outside any block."""
        client, _ = _client()
        other = asyncio.create_task(client.appointments.get(7))
        with capture_responses() as captured:
            await client.appointment_statuses.list().collect()
        await other
        assert [r.operation_id for r in captured.responses] == ["listAppointmentStatuses"]
        with pytest.raises(LookupError):
            _ = capture_responses().__enter__().last
