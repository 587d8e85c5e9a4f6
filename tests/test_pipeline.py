"""The request pipeline: retries, write safety, 429 pauses, deadlines, cancellation."""

from __future__ import annotations

import asyncio
import email.utils

import pytest

from pracsuite_async import (
    APIStatusError,
    ConnectError,
    ConnectionLostError,
    DeadlineExceededError,
    RateLimitError,
    RequestTimeoutError,
    ResponseDecodeError,
    RetryPolicy,
    RetryScheduled,
    ServerError,
)
from pracsuite_async._transport import RawResponse
from pracsuite_async.testing import FakeClock, RecordedRequest, json_response
from tests.conftest import POST_THING, MakeClient, prepared


def _sequence(*responses: RawResponse | Exception):
    items = list(responses)

    def handler(req: RecordedRequest) -> RawResponse:
        item = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def _lost() -> ConnectionLostError:
    return ConnectionLostError("reset", method="GET", path="/thing/1", request_sent=True)


class TestRetries:
    async def test_success_needs_one_request(self, make_client: MakeClient) -> None:
        """A 200 is returned as parsed JSON after exactly one request."""
        client, transport = make_client(_sequence(json_response(200, {"ok": True})))
        assert await client._pipeline.call(prepared(), deadline=None, idempotent=None) == {"ok": True}
        assert len(transport.requests) == 1

    @pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
    async def test_get_retries_transient_statuses(self, make_client: MakeClient, status: int) -> None:
        """GETs retry each transient status and then succeed."""
        client, transport = make_client(_sequence(json_response(status, {}), json_response(200, [1])))
        assert await client._pipeline.call(prepared(), deadline=None, idempotent=None) == [1]
        assert len(transport.requests) == 2
        assert client.stats.retries == 1

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
    async def test_client_errors_are_not_retried(self, make_client: MakeClient, status: int) -> None:
        """4xx errors other than 429 fail at once."""
        client, transport = make_client(_sequence(json_response(status, {})))
        with pytest.raises(APIStatusError) as info:
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        assert info.value.status == status
        assert len(transport.requests) == 1

    async def test_attempts_are_capped_and_last_error_raised(self, make_client: MakeClient) -> None:
        """After max_attempts the typed error of the last attempt is raised."""
        client, transport = make_client(
            _sequence(json_response(503, {"error": {"code": "SERVER_ERROR"}})), retry=RetryPolicy(max_attempts=3)
        )
        with pytest.raises(ServerError) as info:
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        assert info.value.code == "SERVER_ERROR"
        assert len(transport.requests) == 3

    async def test_backoff_stays_within_bounds(self, make_client: MakeClient) -> None:
        """Every backoff sleep is full jitter under min(cap, base * 2**(n-1))."""
        policy = RetryPolicy(max_attempts=6, backoff_base=0.5, backoff_max=3.0, budget_min=100)
        events: list[object] = []
        client, transport = make_client(_sequence(_lost()), retry=policy, event_hooks=[events.append])
        with pytest.raises(ConnectionLostError):
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        waits = [e.wait for e in events if isinstance(e, RetryScheduled)]
        assert len(waits) == 5
        assert len(transport.requests) == 6
        for n, wait in enumerate(waits, start=1):
            assert 0.0 <= wait <= min(3.0, 0.5 * 2 ** (n - 1))
        assert len(set(waits)) > 1  # jittered, not constant

    async def test_bad_json_on_get_is_retried(self, make_client: MakeClient) -> None:
        """A malformed 200 body (truncated JSON) is retried for a GET, then decoded."""
        bad = RawResponse(200, {}, b'{"appointments": [')
        client, transport = make_client(_sequence(bad, json_response(200, {"a": 1})))
        assert await client._pipeline.call(prepared(), deadline=None, idempotent=None) == {"a": 1}
        assert len(transport.requests) == 2

    async def test_bad_json_surfaces_as_decode_error(self, make_client: MakeClient) -> None:
        """A body that stays malformed ends as ResponseDecodeError, never a raw JSONDecodeError."""
        client, _ = make_client(_sequence(RawResponse(200, {}, b"<html>")), retry=RetryPolicy(max_attempts=2))
        with pytest.raises(ResponseDecodeError):
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)

    async def test_retry_budget_stops_retry_storms(self, make_client: MakeClient) -> None:
        """Once the retry budget is spent, failures are raised without retrying."""
        policy = RetryPolicy(max_attempts=5, budget_min=3, budget_ratio=0.0)
        client, transport = make_client(_sequence(json_response(503, {})), retry=policy)
        for _ in range(3):
            with pytest.raises(ServerError):
                await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        assert len(transport.requests) == 3 + 3  # three first attempts + the three budgeted retries

    async def test_retry_events_are_emitted(self, make_client: MakeClient) -> None:
        """A RetryScheduled event names the attempt, the wait and the failure."""
        events: list[object] = []
        client, _ = make_client(
            _sequence(json_response(502, {}), json_response(200, {})), event_hooks=[events.append]
        )
        await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        retries = [e for e in events if isinstance(e, RetryScheduled)]
        assert len(retries) == 1
        assert retries[0].attempt == 1
        assert retries[0].reason == "ServerError"
        assert retries[0].path == "/thing/{thing_id}"


class TestWriteSafety:
    async def test_post_not_retried_after_timeout(self, make_client: MakeClient) -> None:
        """A POST that timed out may have been processed: it is not retried, and the error says so."""
        timeout = RequestTimeoutError("slow", method="POST", path="/thing", request_sent=True)
        client, transport = make_client(_sequence(timeout, json_response(201, {})))
        with pytest.raises(RequestTimeoutError) as info:
            await client._pipeline.call(prepared(POST_THING, "/thing"), deadline=None, idempotent=None)
        assert info.value.request_sent is True
        assert len(transport.requests) == 1

    async def test_post_retried_after_timeout_when_opted_in(self, make_client: MakeClient) -> None:
        """idempotent=True lets a write retry after an ambiguous failure."""
        timeout = RequestTimeoutError("slow", method="POST", path="/thing", request_sent=True)
        client, transport = make_client(_sequence(timeout, json_response(201, {"id": 1})))
        result = await client._pipeline.call(prepared(POST_THING, "/thing"), deadline=None, idempotent=True)
        assert result == {"id": 1}
        assert len(transport.requests) == 2

    async def test_post_not_retried_on_500(self, make_client: MakeClient) -> None:
        """A 500 on a write is not retried: the server saw the request."""
        client, transport = make_client(_sequence(json_response(500, {}), json_response(201, {})))
        with pytest.raises(ServerError):
            await client._pipeline.call(prepared(POST_THING, "/thing"), deadline=None, idempotent=None)
        assert len(transport.requests) == 1

    @pytest.mark.parametrize(
        "failure",
        [
            ConnectError("refused", method="POST", path="/thing", request_sent=False),
            RequestTimeoutError("connect timeout", method="POST", path="/thing", request_sent=False),
        ],
    )
    async def test_post_retried_when_never_sent(self, make_client: MakeClient, failure: Exception) -> None:
        """A write that provably never reached the server is retried."""
        client, transport = make_client(_sequence(failure, json_response(201, {"id": 2})))
        assert await client._pipeline.call(prepared(POST_THING, "/thing"), deadline=None, idempotent=None) == {
            "id": 2
        }
        assert len(transport.requests) == 2

    async def test_post_retried_after_429(self, make_client: MakeClient) -> None:
        """A 429 means the write was not processed: retried for POST too."""
        client, transport = make_client(
            _sequence(json_response(429, {}, {"Retry-After": "1"}), json_response(201, {"id": 3}))
        )
        assert await client._pipeline.call(prepared(POST_THING, "/thing"), deadline=None, idempotent=None) == {
            "id": 3
        }
        assert len(transport.requests) == 2


class TestRateLimitPause:
    @pytest.mark.parametrize("form", ["seconds", "http-date"])
    async def test_429_pauses_every_concurrent_caller(
        self, make_client: MakeClient, clock: FakeClock, form: str
    ) -> None:
        """After a 429 with Retry-After, no request of any task is sent until it has passed."""
        sent_at: list[float] = []
        state = {"throttled_at": None}

        def handler(req: RecordedRequest) -> RawResponse:
            sent_at.append(clock.now())
            if state["throttled_at"] is None and len(sent_at) == 3:
                state["throttled_at"] = clock.now()
                value = "4" if form == "seconds" else email.utils.formatdate(clock.wall() + 4, usegmt=True)
                return json_response(429, {"error": {"status": 429}}, {"Retry-After": value})
            return json_response(200, {})

        client, _ = make_client(handler, rate_limit=50.0)
        await asyncio.gather(
            *(client._pipeline.call(prepared(), deadline=None, idempotent=None) for _ in range(20))
        )
        throttled_at = state["throttled_at"]
        assert throttled_at is not None
        later = [t for t in sent_at if t > throttled_at]
        assert later, "requests continue after the pause"
        # HTTP-dates have one-second resolution, so allow the rounding.
        assert min(later) >= throttled_at + (4 if form == "seconds" else 3)
        assert client.stats.throttled == 1

    async def test_429_lowers_the_rate(self, make_client: MakeClient) -> None:
        """A 429 in configured mode cuts the pacing rate below the ceiling."""
        client, _ = make_client(
            _sequence(json_response(429, {}, {"Retry-After": "1"}), json_response(200, {})), rate_limit=10.0
        )
        await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        assert client.limiter.rate < 10.0  # type: ignore[attr-defined]

    async def test_retry_after_beyond_policy_is_not_retried(self, make_client: MakeClient) -> None:
        """A Retry-After longer than max_retry_after surfaces as RateLimitError with the value."""
        client, transport = make_client(
            _sequence(json_response(429, {}, {"Retry-After": "86400"})), retry=RetryPolicy(max_retry_after=60)
        )
        with pytest.raises(RateLimitError) as info:
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        assert info.value.retry_after == 86400
        assert len(transport.requests) == 1


class TestDeadline:
    async def test_deadline_fails_before_a_long_backoff(self, make_client: MakeClient, clock: FakeClock) -> None:
        """When Retry-After exceeds what is left of the deadline, fail at once without sleeping."""
        client, transport = make_client(_sequence(json_response(503, {}, {"Retry-After": "100"})))
        start = clock.now()
        with pytest.raises(DeadlineExceededError) as info:
            await client._pipeline.call(prepared(), deadline=5.0, idempotent=None)
        assert isinstance(info.value.__cause__, ServerError)
        assert info.value.request_sent is True
        assert isinstance(info.value, TimeoutError)
        assert clock.now() - start < 5.0
        assert len(transport.requests) == 1

    async def test_deadline_covers_limiter_waits(self, make_client: MakeClient, clock: FakeClock) -> None:
        """A limiter wait longer than the remaining deadline fails at once, nothing sent."""
        client, transport = make_client(_sequence(json_response(200, {})), rate_limit=0.5, burst=1)
        await client._pipeline.call(prepared(), deadline=1.0, idempotent=None)
        with pytest.raises(DeadlineExceededError) as info:
            await client._pipeline.call(prepared(), deadline=1.0, idempotent=None)
        assert info.value.request_sent is False
        assert len(transport.requests) == 1

    async def test_attempt_timeout_is_capped_by_deadline(self, make_client: MakeClient) -> None:
        """Each attempt's transport timeout is at most what is left of the deadline."""
        client, transport = make_client(_sequence(json_response(200, {})), timeout=30.0)
        await client._pipeline.call(prepared(), deadline=2.0, idempotent=None)
        assert transport.requests[0].timeout is not None
        assert transport.requests[0].timeout <= 2.0


class TestCancellation:
    async def test_cancellation_propagates_and_is_not_retried(self, make_client: MakeClient) -> None:
        """Cancelling a call in flight raises CancelledError, sends nothing more and frees its slot."""
        started = asyncio.Event()

        async def hang(req: RecordedRequest) -> RawResponse:
            started.set()
            await asyncio.Event().wait()
            raise AssertionError

        client, transport = make_client(hang, max_concurrency=1)
        task = asyncio.create_task(client._pipeline.call(prepared(), deadline=None, idempotent=None))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(transport.requests) == 1
        assert not client._pipeline._slots.locked()
