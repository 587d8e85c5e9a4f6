"""A strict token-bucket server in virtual time, to test pacing policies without sleeping."""

from __future__ import annotations

import asyncio
import math
import random

import attrs

from pracsuite_async import RateLimiter
from pracsuite_async._clock import Deadline
from pracsuite_async._rate_headers import RateFeedback
from pracsuite_async.testing import FakeClock


@attrs.define(slots=False)
class BucketServer:
    """Admits a request if a token is there (bucket starts full); otherwise a 429 with Retry-After."""

    clock: FakeClock
    rate: float
    burst: float
    tokens: float = 0.0
    last: float = 0.0
    accepted: list[float] = attrs.field(factory=list)
    rejected: int = 0
    rejected_at: list[float] = attrs.field(factory=list)
    #: When ``run_walk`` changed the rate (None: it did not).
    changed_at: float | None = None

    def __attrs_post_init__(self) -> None:
        self.tokens = self.burst
        self.last = self.clock.now()

    def admit(self) -> float | None:
        """None if admitted, else the Retry-After in whole seconds."""
        now = self.clock.now()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0 - 1e-6:  # float tolerance: requests exactly 1/R apart must pass
            self.tokens -= 1.0
            self.accepted.append(now)
            return None
        self.rejected += 1
        self.rejected_at.append(now)
        return float(math.ceil((1.0 - self.tokens) / self.rate))

    def achieved_rate(self) -> float:
        """(n - 1) / span of accepted arrivals."""
        return (len(self.accepted) - 1) / (self.accepted[-1] - self.accepted[0])

    def throttled_share(self) -> float:
        """Share of requests answered 429."""
        return self.rejected / max(1, self.rejected + len(self.accepted))

    def rate_between(self, start: float, end: float) -> float:
        """Accepted requests per second in [start, end)."""
        return sum(start <= t < end for t in self.accepted) / (end - start)

    def peak_1s(self) -> int:
        """Most accepted requests in any window [t, t + 1)."""
        best, lo = 0, 0
        for hi, t in enumerate(self.accepted):
            while t - self.accepted[lo] >= 1.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best


async def run_walk(
    limiter: RateLimiter,
    server: BucketServer,
    clock: FakeClock,
    *,
    requests: int,
    workers: int = 16,
    latency: float = 0.02,
    seed: int = 0,
    change_at: int | None = None,
    new_rate: float | None = None,
) -> list[tuple[float, float]]:
    """``workers`` tasks send ``requests`` successful requests through ``limiter``; 429s are retried.

    After ``change_at`` accepted requests the server's rate becomes ``new_rate``.
    Returns (time, rate) whenever the limiter's ``rate`` attribute (if any) changed.
    """
    rng = random.Random(seed)
    todo = list(range(requests))
    rates: list[tuple[float, float]] = []

    async def worker() -> None:
        while todo:
            todo.pop()
            while True:
                await limiter.acquire(Deadline(clock, None, method="GET", path="/x"))
                rate = getattr(limiter, "rate", None)
                if rate is not None and (not rates or rates[-1][1] != rate):
                    rates.append((clock.now(), rate))
                retry_after = server.admit()
                if new_rate and server.changed_at is None and len(server.accepted) == change_at:
                    server.rate, server.changed_at = new_rate, clock.now()
                await clock.sleep(latency * (0.5 + rng.random()))
                if retry_after is None:
                    break
                limiter.feedback(RateFeedback(throttled=True, retry_after=retry_after))

    await asyncio.gather(*(worker() for _ in range(workers)))
    return rates
