"""Client-side rate limiting: the :class:`RateLimiter` protocol and the GCRA pacer.

:class:`AdaptiveRateLimiter` paces request *starts* with a GCRA schedule (a token
bucket kept as a theoretical arrival time, TAT) on an injected clock. A slot is a
few reads and additions (~1 us) when nobody waits. Otherwise callers queue first
in, first out, and only the head of the queue sleeps, until its slot or the next
timed rule of the estimator, whichever comes first:

* nothing is reserved ahead, so a caller cancelled (or timed out) anywhere in the
  queue simply leaves it and costs the next caller nothing;
* a rate change (a ramp step, a decision, a limit header) takes effect for the
  very next slot: no waiter sleeps on a delay computed at the old rate;
* a late wake-up of the head pushes no later slot back once the burst is >= 2
  (the TAT banks the lateness; capacity-1 buckets lose several percent to the
  1 ms timer grain, PERFORMANCE-NOTES §1d).

Every 429 pauses *all* senders until its ``Retry-After`` (the server's bucket is
empty for everyone), unless the hint is longer than ``max_pause``: a wait that
long is a quota or a broken server, so it costs only the call that got it (the
retry policy fails that call) and neither pauses the client nor moves its rate.

Which rate to pace at is decided by :class:`~pracsuite_async._estimator.RateEstimator`
(configured mode holds at the ceiling; unknown limits are discovered).
An ``aiolimiter.AsyncLimiter`` can be passed instead; it is wrapped by
:class:`AiolimiterAdapter` (pacing only, plus the shared 429 pause).
"""

from __future__ import annotations

import asyncio
import collections
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pracsuite_async._clock import Clock, Deadline, SystemClock
from pracsuite_async._errors import ConfigurationError
from pracsuite_async._estimator import FLOOR, RateEstimator
from pracsuite_async._rate_headers import RateFeedback

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_MAX_PAUSE",
    "DEFAULT_SEED_RATE",
    "AdaptiveRateLimiter",
    "AiolimiterAdapter",
    "RateFeedback",
    "RateLimiter",
    "check_burst",
    "check_rate",
]

#: Starting rate when the API's limit is unknown: low enough that a new user never
#: sees a 429 storm, doubling up to the limit within a second (a 5/s seed cost an
#: 80-page export a tenth of a second more below the limit).
DEFAULT_SEED_RATE = 10.0
#: Capacity of the client bucket: 2 absorbs timer lateness without bursting above R+1.
DEFAULT_BURST = 2.0
#: The longest server-requested pause (seconds) shared by every sender; longer
#: hints fail only their own call. The client passes ``RetryPolicy.max_retry_after``.
DEFAULT_MAX_PAUSE = 120.0
#: The pause after a 429 without a usable ``Retry-After``, in slots at the current rate.
_PAUSE_SLOTS = 2.0


def check_rate(name: str, value: object) -> float:
    """``value`` as a finite rate > 0, else :class:`ConfigurationError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        msg = f"{name} must be a finite number of requests per second > 0"
        raise ConfigurationError(msg)
    return float(value)


def check_burst(value: object) -> float:
    """``value`` as a finite bucket capacity >= 1, else :class:`ConfigurationError`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value < math.inf:
        msg = "burst must be a finite number >= 1"
        raise ConfigurationError(msg)
    return float(value)


@runtime_checkable
class RateLimiter(Protocol):
    """Paces request starts; shared by every request of a client.

    Implement these two methods to plug in another backend (for example a
    Redis-backed budget shared by several processes).
    """

    async def acquire(self, deadline: Deadline) -> float:
        """Wait for permission to send one request; return the seconds waited.

        Must call ``deadline.ensure(wait)`` before a wait that may not fit, and
        leave no trace when cancelled.
        """

    def feedback(self, signal: RateFeedback) -> None:
        """Learn from a 429 or from rate-limit headers."""


class AdaptiveRateLimiter:
    """GCRA pacing with runtime rate changes, a shared 429 pause and limit estimation.

    Args:
        rate: starting rate in requests per second.
        ceiling: the rate never rises above this (``None``: no ceiling, probe upwards).
        burst: bucket capacity; requests allowed back to back after an idle spell.
        clock: time source (tests inject a fake one).
        max_pause: longest ``Retry-After`` or reset (seconds) that pauses every sender.
    """

    def __init__(
        self,
        rate: float = DEFAULT_SEED_RATE,
        *,
        ceiling: float | None = None,
        burst: float = DEFAULT_BURST,
        clock: Clock | None = None,
        max_pause: float = DEFAULT_MAX_PAUSE,
    ) -> None:
        rate = check_rate("rate", rate)
        if ceiling is not None:
            ceiling = check_rate("ceiling", ceiling)
        self.burst: float = check_burst(burst)
        if not 0 <= max_pause < math.inf:
            msg = "max_pause must be a finite number >= 0"
            raise ConfigurationError(msg)
        self.ceiling = ceiling
        self.max_pause: float = float(max_pause)
        self._clock = clock or SystemClock()
        self._rate = min(rate, ceiling) if ceiling else rate
        self._interval = 1.0 / self._rate
        self._tau = (self.burst - 1.0) * self._interval
        now = self._clock.now()
        self._tat = now  # the bucket starts full: `burst` go at once
        #: No request starts before this (a 429's Retry-After, an exhausted window).
        self.paused_until: float = now
        self._queue: collections.deque[asyncio.Future[None]] = collections.deque()
        #: Requests granted so far, and when the last one was.
        self.sent: int = 0
        self.last_send: float = now
        #: Whether a request waited since the last rate change (demand exceeds the rate).
        self.saturated: bool = False
        self._estimator = RateEstimator(self, now)
        self._estimator.on_settle = self._settled
        #: Called with (rate, burst) when the estimator settles on a limit (the client
        #: remembers it between runs, :mod:`pracsuite_async._limit_memory`).
        self.on_settle: Callable[[float, float], None] | None = None
        #: Counters for progress displays and benchmarks.
        self.throttles: int = 0
        self.total_wait: float = 0.0

    @property
    def rate(self) -> float:
        """The current pacing rate in requests per second."""
        return self._rate

    @property
    def interval(self) -> float:
        """Seconds between slots at the current rate."""
        return self._interval

    @property
    def waiting(self) -> int:
        """Callers queued for a slot."""
        return len(self._queue)

    def __repr__(self) -> str:
        return f"AdaptiveRateLimiter(rate={self._rate:.3g}, ceiling={self.ceiling}, burst={self.burst})"

    def _next_slot(self) -> float:
        """When the next request may start (GCRA: TAT minus the burst tolerance)."""
        start = self.paused_until
        tat = self._tat if self._tat > start else start
        allowed = tat - self._tau
        return allowed if allowed > start else start

    def _grant(self, now: float) -> None:
        start = now if now > self.paused_until else self.paused_until
        self._tat = (self._tat if self._tat > start else start) + self._interval
        self.sent += 1
        self.last_send = now

    async def acquire(self, deadline: Deadline) -> float:
        """Wait for the next slot; fail at once if the deadline cannot cover the wait."""
        clock = self._clock
        now = clock.now()
        estimator = self._estimator
        if not self._queue:
            if now >= estimator.next_tick:
                estimator.tick(now)
            if self._next_slot() <= now:
                self._grant(now)
                return 0.0
        entered = now
        # Queued behind the others: one slot each, then ours.
        expected = max(0.0, self._next_slot() - now) + len(self._queue) * self._interval
        deadline.ensure(expected, what="rate-limit wait")
        self.saturated = True
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queue
        queue.append(turn)
        if len(queue) == 1:
            turn.set_result(None)
        try:
            await turn
            while True:  # the head of the queue: sleep until our slot or the next rule
                now = clock.now()
                if now >= estimator.next_tick:
                    estimator.tick(now)
                allowed = self._next_slot()
                if allowed <= now:
                    break
                deadline.ensure(allowed - now, what="rate-limit wait")
                await clock.sleep(min(allowed, estimator.next_tick) - now)
            self._grant(now)
        finally:
            if queue and queue[0] is turn:
                queue.popleft()
                if queue and not queue[0].done():
                    queue[0].set_result(None)  # the next caller's turn
            else:
                queue.remove(turn)  # cancelled while queued: nothing was reserved
        waited = now - entered
        self.total_wait += waited
        return waited

    def feedback(self, signal: RateFeedback) -> None:
        """Pause everyone on a 429 (deciding on a new rate when it ends) or on exhausted headers."""
        now = self._clock.now()
        if signal.throttled:
            self.throttles += 1
            hint = signal.retry_after
            if hint is not None and hint > self.max_pause:
                return  # a quota or a broken server: the retry policy fails that call alone
            self._estimator.throttled(now)
            pause = hint if hint is not None else self._interval * _PAUSE_SLOTS
            self._pause(now + pause)
            self._estimator.next_tick = self.paused_until  # decide when the pause ends
        elif (
            signal.remaining is not None
            and signal.remaining <= 0
            and signal.reset_after
            and signal.reset_after <= self.max_pause
        ):
            self._pause(now + signal.reset_after)
            self._estimator.restart_episode(self.paused_until)
        limit = signal.limit
        if limit is not None and 0 < limit < math.inf and signal.reset_after is None and self.ceiling is None:
            self._estimator.adopt_limit(limit, now)

    def _pause(self, until: float) -> None:
        self.paused_until = max(self.paused_until, until)
        self._tat = self.paused_until  # the server's bucket refills meanwhile

    @property
    def settled(self) -> float | None:
        """The rate last held at an estimated or announced limit (``None``: none found yet)."""
        return self._estimator.settled

    def resume(self, rate: float, burst: float) -> None:
        """Start at a limit learned earlier (a remembered one): held there, not ramped from the seed."""
        if self.ceiling is None:
            self._estimator.resume(rate, burst, self._clock.now())

    def _settled(self, rate: float) -> None:
        if self.on_settle is not None:
            self.on_settle(rate, self.burst)

    def set_rate(self, rate: float, now: float) -> None:
        """Pace at ``rate`` (bounded by the floor and the ceiling) from the next slot on."""
        if not 0 < rate < math.inf:  # a hand-made RateFeedback may carry anything
            return
        rate = max(min(rate, self.ceiling or math.inf), FLOOR)
        self.saturated = False
        if rate == self._rate:
            return
        self._rate = rate
        self._interval = 1.0 / rate
        self._tau = (self.burst - 1.0) * self._interval
        # The next slot is one new interval after the last request: a rate change
        # grants no burst.
        self._tat = min(self._tat, max(now, self.last_send + self._interval) + self._tau)

    def set_burst(self, burst: float) -> None:
        """Use ``burst`` as the bucket capacity from the next slot on."""
        self.burst = burst
        self._tau = (burst - 1.0) * self._interval


class AiolimiterAdapter:
    """Use an ``aiolimiter.AsyncLimiter`` as the client's limiter.

    aiolimiter paces on the event loop's clock and cannot change its rate, so this
    adapter adds only the shared 429 pause (bounded by ``max_pause`` like the
    default limiter's); prefer the default limiter.
    """

    def __init__(
        self, limiter: AsyncLimiter, *, clock: Clock | None = None, max_pause: float = DEFAULT_MAX_PAUSE
    ) -> None:
        self._limiter = limiter
        self._clock = clock or SystemClock()
        self._paused_until = self._clock.now()
        self.max_pause = max_pause

    def __repr__(self) -> str:
        return f"AiolimiterAdapter({self._limiter!r})"

    async def acquire(self, deadline: Deadline) -> float:
        """Wait out any 429 pause, then take one aiolimiter token within the deadline."""
        start = self._clock.now()
        pause = self._paused_until - start
        if pause > 0:
            deadline.ensure(pause, what="rate-limit pause")
            await self._clock.sleep(pause)
        if not self._limiter.has_capacity():
            left = deadline.remaining()
            try:
                async with asyncio.timeout(left):
                    await self._limiter.acquire()
            except TimeoutError:
                deadline.ensure(math.inf, what="rate-limit wait")
                raise
        else:
            await self._limiter.acquire()
        return self._clock.now() - start

    def feedback(self, signal: RateFeedback) -> None:
        """Pause every sender until ``Retry-After`` has passed (if within ``max_pause``)."""
        if signal.throttled:
            pause = signal.retry_after if signal.retry_after is not None else 1.0
            if pause <= self.max_pause:
                self._paused_until = max(self._paused_until, self._clock.now() + pause)
