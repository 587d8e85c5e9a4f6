"""The adaptive GCRA limiter, on a fake clock against a strict token-bucket server."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest

from pracsuite_async import AdaptiveRateLimiter, DeadlineExceededError
from pracsuite_async._clock import Deadline
from pracsuite_async._rate_headers import RateFeedback
from pracsuite_async.testing import FakeClock
from tests.limiter_sim import BucketServer, run_walk

T0 = 1000.0  # FakeClock's start


def _deadline(clock: FakeClock, seconds: float | None = None) -> Deadline:
    return Deadline(clock, seconds, method="GET", path="/x")


def _rate(server: BucketServer, clock: FakeClock) -> float:
    """Accepted requests per second over the whole walk, as the benchmark reports it."""
    return len(server.accepted) / (clock.now() - T0)


async def _walk(
    rate: float,
    burst: float,
    requests: int,
    *,
    configured: bool = False,
    seed: int = 0,
    change_at: int | None = None,
    new_rate: float | None = None,
) -> tuple[AdaptiveRateLimiter, BucketServer, FakeClock]:
    clock = FakeClock(T0)
    server = BucketServer(clock, rate=rate, burst=burst)
    limiter = (
        AdaptiveRateLimiter(rate, ceiling=rate, clock=clock)
        if configured
        else AdaptiveRateLimiter(clock=clock)
    )
    await run_walk(
        limiter, server, clock, requests=requests, seed=seed, change_at=change_at, new_rate=new_rate
    )
    return limiter, server, clock


class TestConfiguredPacing:
    @pytest.mark.parametrize("rate", [5.0, 20.0, 100.0])
    async def test_paces_at_the_configured_rate(self, rate: float) -> None:
        """200 tasks sharing one limiter: a burst of 2, then starts exactly 1/R apart; peak at most R + 1."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(rate, ceiling=rate, clock=clock)
        starts: list[float] = []

        async def one() -> None:
            await limiter.acquire(_deadline(clock))
            starts.append(clock.now())

        await asyncio.gather(*(one() for _ in range(int(rate * 10))))
        assert starts[1] == starts[0]  # the bucket starts full: the burst of 2 goes at once
        # After the burst, the pacing itself (the burst would add 1/(n-2) to (n-1)/span).
        assert (len(starts) - 2) / (starts[-1] - starts[1]) == pytest.approx(rate, rel=0.001)
        first_second = [t for t in starts if t < starts[0] + 1.0 - 1e-9]  # float-safe window edge
        assert len(first_second) <= rate + 1

    @pytest.mark.parametrize(("rate", "burst"), [(5.0, 2.0), (20.0, 5.0), (100.0, 5.0)])
    async def test_zero_429s_against_strict_server(self, rate: float, burst: float) -> None:
        """Configured at the server's rate (burst >= 2), a walk gets no 429, >= 0.98 R and peak <= R + B."""
        _, server, clock = await _walk(rate, burst, max(400, int(10 * rate)), configured=True)
        assert server.rejected == 0
        assert server.achieved_rate() >= 0.98 * rate
        assert _rate(server, clock) >= 0.98 * rate
        assert server.peak_1s() <= rate + burst

    @pytest.mark.parametrize("rate", [5.0, 20.0, 100.0])
    async def test_burst_429_learns_the_burst_and_keeps_the_rate(self, rate: float) -> None:
        """Against a burst-1 server our opening burst is throttled once; the rate is kept and reaches >= 0.98 R."""
        limiter, server, clock = await _walk(rate, 1.0, max(400, int(10 * rate)), configured=True)
        assert server.rejected == 1
        assert limiter.burst == 1.0
        assert limiter.rate == rate
        end = clock.now()
        assert server.rate_between(end - 5.0, end) >= 0.98 * rate
        assert server.peak_1s() <= rate + 1

    async def test_429_at_the_configured_rate_cuts_it(self) -> None:
        """A 429 that no burst explains (the very first request) cuts the rate below the ceiling."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(10.0, ceiling=10.0, clock=clock)
        await limiter.acquire(_deadline(clock))
        limiter.feedback(RateFeedback(throttled=True, retry_after=1.0))
        await limiter.acquire(_deadline(clock))
        assert limiter.rate < 10.0
        assert limiter.throttles == 1

    async def test_deadline_refuses_a_wait_that_cannot_fit(self) -> None:
        """acquire raises DeadlineExceededError instead of sleeping past the deadline."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(1.0, ceiling=1.0, burst=1, clock=clock)
        await limiter.acquire(_deadline(clock))
        with pytest.raises(DeadlineExceededError):
            await limiter.acquire(_deadline(clock, 0.5))
        assert clock.sleeps == []

    async def test_cancelled_waiter_gives_its_slot_back(self) -> None:
        """A waiter cancelled while queued does not cost the next caller a slot."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(1.0, ceiling=1.0, burst=1, clock=clock)
        await limiter.acquire(_deadline(clock))
        task = asyncio.create_task(limiter.acquire(_deadline(clock)))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        start = clock.now()
        await limiter.acquire(_deadline(clock))
        assert clock.now() - start == pytest.approx(1.0)

    async def test_pause_holds_every_waiter(self) -> None:
        """A 429 feedback makes every later acquire wait until Retry-After has passed."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(100.0, ceiling=100.0, clock=clock)
        t0 = clock.now()
        limiter.feedback(RateFeedback(throttled=True, retry_after=3.0))
        starts: list[float] = []

        async def one() -> None:
            await limiter.acquire(_deadline(clock))
            starts.append(clock.now())

        await asyncio.gather(*(one() for _ in range(10)))
        assert min(starts) >= t0 + 3.0

    async def test_free_slot_does_not_sleep(self) -> None:
        """An acquire with a slot available returns at once without sleeping or waiting."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(10.0, ceiling=10.0, clock=clock)
        assert await limiter.acquire(_deadline(clock)) == 0.0
        assert await limiter.acquire(_deadline(clock)) == 0.0
        assert clock.sleeps == []
        assert limiter.total_wait == 0.0


class TestAdaptive:
    @pytest.mark.parametrize("seed", range(5))
    async def test_unknown_limit_converges_with_few_429s(self, seed: int) -> None:
        """From the default seed, a 400-request walk at R=20, B=5 reaches >= 0.90 R with <= 1 % 429s."""
        limiter, server, clock = await _walk(20.0, 5.0, 400, seed=seed)
        assert server.throttled_share() <= 0.01
        assert _rate(server, clock) >= 0.90 * 20
        assert 0.97 * 20 <= limiter.rate <= 1.02 * 20
        assert server.peak_1s() <= 20 + 5 + 3

    @pytest.mark.parametrize(("rate", "requests", "floor"), [(5.0, 400, 0.95), (100.0, 2000, 0.84)])
    async def test_low_and_high_limits(self, rate: float, requests: int, floor: float) -> None:
        """R=5 and R=100 (B=5) also converge: the estimate is within 3 % and few requests are throttled."""
        clock = FakeClock(T0)
        server = BucketServer(clock, rate=rate, burst=5.0)
        rates = await run_walk(AdaptiveRateLimiter(clock=clock), server, clock, requests=requests)
        assert server.throttled_share() <= 0.02
        assert _rate(server, clock) >= floor * rate
        # The rate held after the last decision (a walk may end mid re-probe, above it).
        held = [r for (_, prev), (_, r) in itertools.pairwise(rates) if r < prev]
        assert 0.97 * rate <= held[-1] <= 1.03 * rate

    async def test_strict_server_learns_burst_one(self) -> None:
        """Against a burst-1 server the opening burst is blamed, then the rate is found by creeping."""
        limiter, server, clock = await _walk(20.0, 1.0, 400)
        assert limiter.burst == 1.0
        assert server.throttled_share() <= 0.01
        assert _rate(server, clock) >= 0.80 * 20
        assert limiter.rate <= 20.0

    async def test_recovers_after_the_limit_rises(self) -> None:
        """When the server's limit doubles mid-run, the rate climbs to it within about 30 s."""
        _, server, _ = await _walk(10.0, 5.0, 1500, change_at=300, new_rate=20.0)
        assert server.changed_at is not None
        reached = server.changed_at + 30.0
        assert server.rate_between(reached, reached + 10.0) >= 0.9 * 20
        tail = [t for t in server.accepted if t >= server.accepted[-1] - 10.0]
        assert len(tail) / 10.0 >= 0.9 * 20

    async def test_rate_drops_when_the_limit_falls(self) -> None:
        """When the server's limit halves mid-run, the rate follows it down and throttling stops."""
        limiter, server, clock = await _walk(20.0, 5.0, 800, change_at=300, new_rate=10.0)
        assert server.changed_at is not None
        assert 0.8 * 10 <= limiter.rate <= 1.05 * 10
        end = clock.now()
        assert server.rate_between(end - 10.0, end) >= 0.85 * 10
        late = [t for t in server.rejected_at if server.changed_at + 2.0 < t < server.changed_at + 20.0]
        assert len(late) <= 2

    async def test_episode_memory_stays_bounded(self) -> None:
        """A long unthrottled creep keeps at most a few dozen pacing stretches in memory."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(1.0, clock=clock)
        await limiter.acquire(_deadline(clock))
        limiter.feedback(RateFeedback(throttled=True, retry_after=1.0))
        while clock.now() < T0 + 60.0:  # saturated and never throttled again: creeps for a minute
            await limiter.acquire(_deadline(clock))
        assert limiter.rate > 5.0
        assert limiter._estimator.segments <= 33


class TestRampStall:
    async def test_ramp_is_not_held_back_by_waiters_sleeping_at_the_old_rate(self) -> None:
        """Against a server with no limit, every ramp step takes effect at once: 200 requests in < 2 s."""
        clock = FakeClock(T0)
        server = BucketServer(clock, rate=1e6, burst=1e6)
        limiter = AdaptiveRateLimiter(clock=clock)
        rates = await run_walk(limiter, server, clock, requests=200, latency=0.05)
        assert server.rejected == 0
        assert clock.now() - T0 < 2.0  # 3.2 s when waiters slept on delays at the old rate
        # Each doubling shows in the sends before the next one is due.
        assert [round(r) for _, r in rates[:5]] == [10, 20, 40, 80, 160]
        gaps = [b - a for (a, _), (b, _) in itertools.pairwise(rates)][:4]
        assert all(gap < 0.4 for gap in gaps)


class TestHostileFeedback:
    @pytest.mark.parametrize("limit", [math.nan, math.inf, 0.0, -1.0])
    async def test_unparsed_absurd_limit_is_ignored(self, limit: float) -> None:
        """A RateFeedback built by hand with a non-finite or non-positive limit leaves the rate alone."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(clock=clock)
        limiter.feedback(RateFeedback(throttled=False, limit=limit, remaining=5.0))
        assert limiter.rate == 10.0

    async def test_hint_beyond_max_pause_pauses_nobody(self) -> None:
        """A throttle asking for longer than max_pause neither pauses senders nor moves the rate."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(20.0, ceiling=20.0, clock=clock, max_pause=60.0)
        limiter.feedback(RateFeedback(throttled=True, retry_after=61.0))
        assert await limiter.acquire(_deadline(clock, 1.0)) == 0.0
        assert limiter.rate == 20.0
        assert limiter.throttles == 1
