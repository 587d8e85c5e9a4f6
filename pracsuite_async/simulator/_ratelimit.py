"""Admission control per vendor key: a token bucket plus an optional daily quota.

The bucket is decided on arrival (before any latency), so what a client sees is
exactly what a server-side limiter at the API gateway would decide.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from email.utils import formatdate

import attrs

_DAY = 86_400.0


@attrs.define
class TokenBucket:
    """``capacity`` tokens refilled at ``rate`` per second; starts full."""

    rate: float
    capacity: float
    tokens: float
    last: float

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last update (never above capacity)."""
        if now > self.last:
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = max(self.last, now)

    def take(self, now: float) -> float:
        """Spend one token; return 0.0 when admitted, else seconds until one is available."""
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@attrs.frozen
class Decision:
    """The verdict for one request: admitted, or rejected with a wait in seconds."""

    admitted: bool
    wait: float = 0.0
    quota: bool = False
    remaining: int | None = None
    reset: float | None = None


class RateLimiter:
    """Token buckets and daily quotas keyed by vendor key."""

    def __init__(
        self,
        *,
        rate: float | None,
        burst: int,
        daily_quota: int | None,
        wall_clock: Callable[[], float],
    ) -> None:
        """Configure the limits; ``wall_clock`` (epoch seconds) decides the quota day."""
        self.rate = rate
        self.burst = burst
        self.daily_quota = daily_quota
        self._wall_clock = wall_clock
        self._buckets: dict[str, TokenBucket] = {}
        self._quota: dict[str, tuple[int, int]] = {}

    def reset(self) -> None:
        """Refill every bucket and forget quota usage."""
        self._buckets.clear()
        self._quota.clear()

    def reconfigure(self, *, rate: float | None, burst: int, daily_quota: int | None, now: float) -> None:
        """Switch to new limits mid-run; tokens earned so far are kept (clamped to the new burst)."""
        for bucket in self._buckets.values():
            bucket.refill(now)
            if rate is not None:
                bucket.rate = rate
            bucket.capacity = float(burst)
            bucket.tokens = min(bucket.tokens, bucket.capacity)
        if rate is None:
            self._buckets.clear()
        self.rate, self.burst, self.daily_quota = rate, burst, daily_quota

    def admit(self, key: str, now: float) -> Decision:
        """Decide on one request of vendor ``key`` arriving at clock time ``now``."""
        quota = self.daily_quota
        if quota is not None:
            wall = self._wall_clock()
            day = int(wall // _DAY)
            used_day, used = self._quota.get(key, (day, 0))
            if used_day != day:
                used = 0
            if used >= quota:
                # Exhausted quotas reset at the next UTC midnight.
                return Decision(False, wait=(day + 1) * _DAY - wall, quota=True)
        rate = self.rate
        if rate is None:
            decision = Decision(True)
        else:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(rate, float(self.burst), float(self.burst), now)
            wait = bucket.take(now)
            remaining = int(bucket.tokens)
            reset = (bucket.capacity - bucket.tokens) / rate
            if wait > 0.0:
                return Decision(False, wait=wait, remaining=remaining, reset=reset)
            decision = Decision(True, remaining=remaining, reset=reset)
        if quota is not None:
            self._quota[key] = (day, used + 1)
        return decision


def retry_after_value(wait: float, fmt: str, wall_now: float) -> str:
    """Render a wait as a ``Retry-After`` value: whole seconds (rounded up) or an HTTP-date."""
    if fmt == "http-date":
        return formatdate(math.ceil(wall_now + wait), usegmt=True)
    return str(max(1, math.ceil(wait - 1e-9)))


def rate_limit_headers(limiter: RateLimiter, decision: Decision) -> dict[str, str]:
    """``X-RateLimit-*`` headers: bucket capacity, whole tokens left, seconds until full."""
    if limiter.rate is None or decision.remaining is None or decision.reset is None:
        return {}
    return {
        "X-RateLimit-Limit": str(limiter.burst),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(math.ceil(decision.reset - 1e-9)),
    }
