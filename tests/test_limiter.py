"""The adaptive GCRA limiter, on a fake clock against a strict token-bucket server."""

from __future__ import annotations

import asyncio

import pytest

from pracsuite_async import AdaptiveRateLimiter, DeadlineExceededError, RateFeedback
from pracsuite_async._clock import Deadline
from pracsuite_async.testing import FakeClock
from tests.limiter_sim import BucketServer, run_walk


def _deadline(clock: FakeClock, seconds: float | None = None) -> Deadline:
    return Deadline(clock, seconds, method="GET", path="/x")


class TestConfiguredPacing:
    @pytest.mark.parametrize("rate", [5.0, 20.0, 100.0])
    async def test_paces_at_the_configured_rate(self, rate: float) -> None:
        """200 tasks sharing one limiter start requests at R (within 1 %), peak at most R + 1."""
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(rate, ceiling=rate, clock=clock)
        starts: list[float] = []

        async def one() -> None:
            await limiter.acquire(_deadline(clock))
            starts.append(clock.now())

        await asyncio.gather(*(one() for _ in range(int(rate * 10))))
        span = starts[-1] - starts[0]
        assert (len(starts) - 1) / span == pytest.approx(rate, rel=0.01)
        first_second = [t for t in starts if t < starts[0] + 1.0]
        assert len(first_second) <= rate + 1

    async def test_zero_429s_against_strict_server(self) -> None:
        """Configured at the server's rate, a 400-request walk gets no 429 and reaches >= 0.98 R."""
        clock = FakeClock()
        server = BucketServer(clock, rate=20.0, burst=5.0)
        limiter = AdaptiveRateLimiter(20.0, ceiling=20.0, clock=clock)
        await run_walk(limiter, server, clock, requests=400)
        assert server.rejected == 0
        assert server.achieved_rate() >= 0.98 * 20
        assert server.peak_1s() <= 20 + 5

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


class TestAdaptive:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    async def test_unknown_limit_converges_with_few_429s(self, seed: int) -> None:
        """From the default seed, a 400-request walk at R=20 reaches >= 0.85 R with <= 3 % 429s."""
        clock = FakeClock()
        server = BucketServer(clock, rate=20.0, burst=5.0)
        limiter = AdaptiveRateLimiter(clock=clock)
        await run_walk(limiter, server, clock, requests=400, seed=seed)
        share = server.rejected / (len(server.accepted) + server.rejected)
        assert share <= 0.03
        assert len(server.accepted) / (clock.now() - 1000.0) >= 0.85 * 20

    async def test_recovers_after_the_limit_rises(self) -> None:
        """When the server's limit doubles mid-run, the rate climbs towards it again."""
        clock = FakeClock()
        server = BucketServer(clock, rate=10.0, burst=5.0)
        limiter = AdaptiveRateLimiter(clock=clock)
        await run_walk(limiter, server, clock, requests=1500, change_at=300, new_rate=20.0)
        tail = [t for t in server.accepted if t >= server.accepted[-1] - 10.0]
        assert len(tail) / 10.0 >= 0.8 * 20

    async def test_rate_drops_when_the_limit_falls(self) -> None:
        """When the server's limit halves mid-run, throttling stops after the rate adapts."""
        clock = FakeClock()
        server = BucketServer(clock, rate=20.0, burst=5.0)
        limiter = AdaptiveRateLimiter(clock=clock)
        await run_walk(limiter, server, clock, requests=800, change_at=300, new_rate=10.0)
        assert limiter.rate <= 11.0
