"""Absurd rate-limit numbers from loopback servers written here: each costs at most its own call.

Every test scripts a real aiohttp server on 127.0.0.1 to send hostile responses
first and sane ones afterwards, drives the client through its real transport on a
fake clock, and checks that the next call succeeds promptly (in virtual time).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from pracsuite_async import (
    AdaptiveRateLimiter,
    PracSuiteClient,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from pracsuite_async._rate_headers import MAX_HINT_SECONDS
from pracsuite_async.testing import FakeClock
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY

SANE = {"appointment_id": 1, "app_time": "2025-01-03T10:15:00"}
Script = list[tuple[int, dict[str, str], dict[str, Any]]]


class HostileServer:
    """Answers ``GET /v1/appointment/{id}`` from a script, then sanely."""

    def __init__(self) -> None:
        self.script: Script = []
        self.requests = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        status, headers, body = self.script.pop(0) if self.script else (200, {}, SANE)
        return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def server() -> AsyncIterator[tuple[HostileServer, str]]:
    """A scripted server on a free loopback port, and its base URL."""
    hostile = HostileServer()
    app = web.Application()
    app.router.add_get("/v1/appointment/{appointment_id}", hostile.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield hostile, f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


MakeLive = Callable[..., PracSuiteClient]


@pytest.fixture
def live(server: tuple[HostileServer, str], clock: FakeClock) -> MakeLive:
    """A client over the real transport to the scripted server, on the fake clock."""

    def make(**kwargs: Any) -> PracSuiteClient:
        return PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, base_url=server[1], clock=clock, **kwargs)

    return make


async def _next_call_is_prompt(client: PracSuiteClient, clock: FakeClock) -> None:
    """A sane call right after succeeds within a 5 s deadline and waits under a second."""
    start = clock.now()
    appointment = await client.appointments.get(1, deadline=5.0)
    assert appointment.appointment_id == 1
    assert clock.now() - start < 1.0


RETRY_AFTER_ABSURD = ["1e9", "inf", "1e400", "Fri, 01 Jan 2100 00:00:00 GMT"]


class TestRetryAfter:
    @pytest.mark.parametrize("value", RETRY_AFTER_ABSURD)
    async def test_absurd_429_fails_its_call_only(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock, value: str
    ) -> None:
        """A 429 asking for ages fails at once with a clamped retry_after; the client stays healthy."""
        hostile, _ = server
        hostile.script = [(429, {"Retry-After": value}, {})]
        async with live() as client:
            with pytest.raises(RateLimitError) as info:
                await client.appointments.get(1)
            assert info.value.retry_after == MAX_HINT_SECONDS
            assert not isinstance(info.value, QuotaExceededError)
            assert hostile.requests == 1
            await _next_call_is_prompt(client, clock)
            assert math.isfinite(client.limiter.rate)  # type: ignore[attr-defined]

    @pytest.mark.parametrize("value", RETRY_AFTER_ABSURD)
    async def test_absurd_503_is_clamped_like_a_429(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock, value: str
    ) -> None:
        """A 503's Retry-After is clamped and judged by max_retry_after exactly like a 429's."""
        hostile, _ = server
        hostile.script = [(503, {"Retry-After": value}, {})]
        async with live() as client:
            with pytest.raises(ServerError) as info:
                await client.appointments.get(1)
            assert info.value.retry_after == MAX_HINT_SECONDS
            assert hostile.requests == 1
            await _next_call_is_prompt(client, clock)

    async def test_nan_retry_after_is_ignored(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock
    ) -> None:
        """Retry-After: nan is no hint: the 429 is retried after a short backoff and succeeds."""
        hostile, _ = server
        hostile.script = [(429, {"Retry-After": "nan"}, {})]
        async with live() as client:
            start = clock.now()
            assert (await client.appointments.get(1, deadline=5.0)).appointment_id == 1
            assert clock.now() - start < 1.0
            assert hostile.requests == 2

    async def test_hint_beyond_the_deadline_is_a_rate_limit_error(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock
    ) -> None:
        """A 429 whose Retry-After does not fit the deadline fails as RateLimitError carrying it."""
        hostile, _ = server
        hostile.script = [(429, {"Retry-After": "30"}, {})]
        async with live() as client:
            with pytest.raises(RateLimitError) as info:
                await client.appointments.get(1, deadline=10.0)
            assert info.value.retry_after == 30.0
            assert hostile.requests == 1
            clock.advance(30.0)  # the server's pause, honoured by every sender, is over
            await _next_call_is_prompt(client, clock)

    async def test_max_retry_after_setting_is_honoured(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock
    ) -> None:
        """With max_retry_after=5 a 60 s hint fails its call and pauses nobody."""
        hostile, _ = server
        hostile.script = [(429, {"Retry-After": "60"}, {})]
        async with live(retry=RetryPolicy(max_retry_after=5.0)) as client:
            with pytest.raises(RateLimitError) as info:
                await client.appointments.get(1)
            assert info.value.retry_after == 60.0
            await _next_call_is_prompt(client, clock)


class TestQuota:
    @pytest.mark.parametrize("retry_after", ["36000", "5", None])
    async def test_exhausted_quota_fails_at_once(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock, retry_after: str | None
    ) -> None:
        """A quota 429 raises QuotaExceededError without retrying or pausing for hours."""
        hostile, _ = server
        headers = {"Retry-After": retry_after} if retry_after else {}
        body = {"error": {"status": 429, "code": "QUOTA_EXCEEDED", "detail": "Daily quota exhausted."}}
        hostile.script = [(429, headers, body), (429, headers, body)]
        async with live() as client:
            start = clock.now()
            for _ in range(2):  # every caller fails at once, not after a pause
                with pytest.raises(QuotaExceededError):
                    await client.appointments.get(1)
            assert hostile.requests == 2
            assert clock.now() - start <= 5.0 + 1e-9
            clock.advance(5.0)
            await _next_call_is_prompt(client, clock)


class TestRateHeaders:
    async def test_reset_in_the_far_future_does_not_poison(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock
    ) -> None:
        """X-RateLimit-Remaining: 0 with a reset of 1e12 neither hangs nor fails later calls."""
        hostile, _ = server
        hostile.script = [(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1e12"}, SANE)]
        async with live() as client:
            assert (await client.appointments.get(1)).appointment_id == 1
            await _next_call_is_prompt(client, clock)

    @pytest.mark.parametrize("limit", ["nan", "inf", "0", "-1", "1e400"])
    async def test_absurd_limit_header_keeps_the_rate_sane(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock, limit: str
    ) -> None:
        """X-RateLimit-Limit of nan/inf/0/-1 is ignored: the next 20 calls all succeed promptly."""
        hostile, _ = server
        hostile.script = [(200, {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "50"}, SANE)]
        async with live() as client:
            rate = client.limiter.rate  # type: ignore[attr-defined]
            await client.appointments.get(1)
            assert client.limiter.rate == rate  # type: ignore[attr-defined]
            start = clock.now()
            for _ in range(20):
                await client.appointments.get(1, deadline=5.0)
            assert clock.now() - start < 3.0  # 20 calls at the 10/s seed, ramping

    async def test_ietf_remaining_is_read_on_the_success_path(
        self, server: tuple[HostileServer, str], live: MakeLive, clock: FakeClock
    ) -> None:
        """A 200 with RateLimit-Remaining: 0 and RateLimit-Reset: 3 pauses the next call 3 s."""
        hostile, _ = server
        hostile.script = [(200, {"RateLimit-Remaining": "0", "RateLimit-Reset": "3"}, SANE)]
        async with live() as client:
            assert isinstance(client.limiter, AdaptiveRateLimiter)
            await client.appointments.get(1)
            start = clock.now()
            await client.appointments.get(1)
            assert clock.now() - start == pytest.approx(3.0, abs=0.01)
