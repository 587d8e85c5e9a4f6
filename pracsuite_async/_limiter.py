"""Client-side rate limiting: the :class:`RateLimiter` protocol and its default.

The default, :class:`AdaptiveRateLimiter`, paces request *starts* with a GCRA
schedule (a token bucket expressed as a theoretical arrival time) on an injected
:class:`~pracsuite_async._clock.Clock`:

* Waiters reserve future slots instead of all waking for each token, so a
  thousand queued tasks cost one timer each, and a waiter that wakes a
  millisecond late does not push every later slot back (the 1 ms timer grain
  cost capacity-1 buckets several percent of the rate, see PERFORMANCE-NOTES §1d).
* The rate can change at runtime (aiolimiter cannot, aio-libs/aiolimiter#98) and
  a 429 pauses *every* sender until its ``Retry-After`` has passed.
* Configured mode (``rate_limit=R``) starts at R with a burst of 2, which was
  measured at 1.00 R with no 429s against a strict token-bucket server.
* Unknown limit (``rate_limit=None``): start at a conservative seed, ramp x1.5
  every half second of saturated clean sending until the first 429, then bisect
  between the last clean and the throttled rate, raising only after two clean
  seconds (one decision per throttling episode) and re-probing +5 % after 30
  clean seconds. A 429 in configured mode drops into the same recovery.

An ``aiolimiter.AsyncLimiter`` can be passed instead; it is wrapped by
:class:`AiolimiterAdapter` (pacing only, plus the shared 429 pause).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from pracsuite_async._clock import Clock, Deadline, SystemClock

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_SEED_RATE",
    "AdaptiveRateLimiter",
    "AiolimiterAdapter",
    "RateFeedback",
    "RateLimiter",
]

#: Starting rate when the API's limit is unknown: low enough that a new user never
#: sees a 429 storm, ramping up within a second.
DEFAULT_SEED_RATE = 5.0
#: Capacity of the client bucket: 2 absorbs timer lateness without bursting above R+1.
DEFAULT_BURST = 2.0
_FLOOR = 0.5
_RAMP_FACTOR, _RAMP_EVERY = 2.0, 0.25
_CREEP_STEP, _CREEP_EVERY = 0.05, 0.5
_MARGIN = 0.99
_DECREASE = 0.7
_START = 1.0
_LMID = 0.0
_CREEP_MAX = 0.2
_REPROBE_AFTER = 20.0
_MIN_SPREAD = 5.0
_RAMPING, _PROBING, _STEADY = "ramping", "probing", "steady"

#: One stretch of constant pacing: (requests sent, seconds, rate).
Segment = tuple[float, float, float]


class _Episode:
    """Requests sent since the server's bucket was last known full, up to a 429.

    ``segments`` are stretches of constant pacing, (accepted requests, seconds,
    rate); ``refill`` is the pause before the episode (infinite at the start) and
    ``top`` the rate when throttled.
    """

    __slots__ = ("pace", "refill", "segments", "top")

    def __init__(self, segments: list[Segment], rejected: int, refill: float, top: float) -> None:
        # The rejected requests were the last ones sent.
        self.segments = list(segments)
        for i in range(len(segments) - 1, -1, -1):
            n, t, r = segments[i]
            self.segments[i] = (max(0.0, n - rejected), t, r)
            rejected -= int(n)
            if rejected <= 0:
                break
        # The rate that spaced the last request from the one before it.
        self.pace = next((r for _, t, r in reversed(segments) if t > 0), top)
        self.refill, self.top = refill, top

    def drain(self, rate: float) -> tuple[float, float]:
        """Tokens taken from a full bucket refilled at ``rate``, and over how long.

        The deficit is the largest excess of requests over refill across any final
        stretch of the episode (the bucket was full when that stretch began).
        """
        best = span = total = seconds = 0.0
        for n, t, _ in reversed(self.segments):
            total += n - rate * t
            seconds += t
            if total > best:
                best, span = total, seconds
        return best, span

    def burst(self, rate: float) -> float:
        """The server burst that would explain the episode if ``rate`` (< pace) were the limit.

        The bucket then held between ``rate / pace`` and 1 token at the last request.
        """
        return self.drain(rate)[0] + rate / self.pace + _LMID * (1 - rate / self.pace) / 2


def _root(fn: Callable[[float], float], hi: float, tol: float = 0.0) -> float | None:
    """The highest rate in (0, hi] where ``fn`` crosses zero, scanning down in 3 % steps.

    With ``tol``, a stretch where ``|fn| <= tol`` without a crossing (two curves that
    touch within the measurement noise) yields its closest point instead.
    """
    r, f_r = hi, fn(hi)
    near = (abs(f_r), r) if abs(f_r) <= tol else None
    while r > hi * 1e-3:
        lo = r * 0.97
        f_lo = fn(lo)
        if (f_lo > 0) != (f_r > 0):
            for _ in range(30):
                mid = (lo + r) / 2
                if (fn(mid) > 0) == (f_r > 0):
                    r = mid
                else:
                    lo = mid
            return (lo + r) / 2
        if abs(f_lo) <= tol:
            near = min(near or (abs(f_lo), lo), (abs(f_lo), lo))
        elif near is not None:
            return near[1]
        r, f_r = lo, f_lo
    return near[1] if near else None


def _rate_for(episode: _Episode, burst: float) -> float | None:
    """The limit at which ``episode`` emptied a bucket of ``burst`` (None: no such rate)."""
    return _root(lambda r: episode.burst(r) - burst, episode.pace)


def _solve(a: _Episode, b: _Episode) -> tuple[float, float] | None:
    """The (rate, burst) that explains both episodes, when they pin it down.

    Two drains at different speeds cross at one rate. Rejected when the drains
    lasted about as long (no angle between them), when under one token was drained
    (a strict server: nothing to measure) or when the burst could not have refilled
    during the pause before an episode.
    """
    rate = _root(lambda r: a.burst(r) - b.burst(r), min(a.pace, b.pace), tol=0.5)
    if rate is None:
        return None
    (_, span_a), (excess, span_b) = a.drain(rate), b.drain(rate)
    burst = excess + rate / b.pace + _LMID * (1 - rate / b.pace) / 2
    refill = min(a.refill, b.refill)
    if abs(span_a - span_b) * rate < _MIN_SPREAD or excess < 1.0 or burst > 1.0 + rate * refill:
        return None
    return rate, burst


def _fallback(episode: _Episode, burst: float) -> float:
    """Where to creep from without an estimate: the highest rate sent in the episode that
    could have been within the limit, else a multiplicative cut.

    ``burst`` is the least the server's bucket is known to hold. For a strict server
    (one token) a stretch sent cleanly proves its rate; otherwise a rate qualifies if
    the episode's drain at that rate needs a bucket that large (less timing noise).
    """
    top = episode.top if burst < 2 else (_rate_for(episode, burst - 0.25) or episode.top)
    below = [r for _, t, r in episode.segments[:-1] if t > 0 and r < top * 0.999]
    return max(below) * _START if below else episode.top * _DECREASE


@attrs.frozen
class RateFeedback:
    """What one response told the limiter.

    ``throttled`` is a 429; ``retry_after`` is in seconds from now. ``limit``,
    ``remaining`` and ``reset_after`` come from ``X-RateLimit-*`` headers when the
    server sends them (``reset_after`` in seconds from now).
    """

    throttled: bool
    retry_after: float | None = None
    limit: float | None = None
    remaining: float | None = None
    reset_after: float | None = None


@runtime_checkable
class RateLimiter(Protocol):
    """Paces request starts; shared by every request of a client.

    Implement these two methods to plug in another backend (for example a
    Redis-backed budget shared by several processes).
    """

    async def acquire(self, deadline: Deadline) -> float:
        """Wait for permission to send one request; return the seconds waited.

        Must call ``deadline.ensure(wait)`` before a wait that may not fit.
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
    """

    def __init__(
        self,
        rate: float = DEFAULT_SEED_RATE,
        *,
        ceiling: float | None = None,
        burst: float = DEFAULT_BURST,
        clock: Clock | None = None,
    ) -> None:
        if not rate > 0 or (ceiling is not None and not ceiling > 0) or burst < 1:
            msg = "rate and ceiling must be > 0 and burst >= 1"
            raise ValueError(msg)
        self._clock = clock or SystemClock()
        self.ceiling = ceiling
        self.burst = burst
        self._rate = min(rate, ceiling) if ceiling else rate
        self._interval = 1.0 / self._rate
        self._tau = (burst - 1.0) * self._interval
        now = self._clock.now()
        # The bucket starts full: the first `burst` requests go at once.
        self._tat = now
        self._paused_until = now
        self._epoch = 0
        self._saturated = False
        self._last_change = now
        climbing = ceiling is None or self._rate < ceiling
        self._phase = _RAMPING if climbing else _STEADY
        self._next_tick = now + _RAMP_EVERY if climbing else math.inf
        self._hi = math.inf  # the lowest rate throttled since the last probe
        self._steps = 0  # creep steps since the last decision
        self._server_burst: float | None = None
        # The current episode: constant-rate segments since the server's bucket was
        # last known full (start or end of a pause); None when not known full.
        self._segments: list[Segment] | None = []
        self._seg_start = now
        self._seg_sent = 0
        self._sent = 0
        self._last_send = now
        self._ended: list[Segment] | None = None  # an episode ended by a 429
        self._rejects = 0
        self._decision_due = False
        self._previous: _Episode | None = None
        self._refill = math.inf  # the pause before the current episode
        #: Counters for progress displays and benchmarks.
        self.throttles = 0
        self.total_wait = 0.0

    @property
    def rate(self) -> float:
        """The current pacing rate in requests per second."""
        return self._rate

    def __repr__(self) -> str:
        return f"AdaptiveRateLimiter(rate={self._rate:.3g}, ceiling={self.ceiling}, burst={self.burst})"

    def _set_rate(self, rate: float, now: float) -> None:
        if self.ceiling is not None:
            rate = min(rate, self.ceiling)
        rate = max(rate, _FLOOR)
        self._last_change = now
        self._saturated = False
        if rate == self._rate:
            return
        self._rate = rate
        self._interval = 1.0 / rate
        self._tau = (self.burst - 1.0) * self._interval
        # Reservations made at the old rate are recomputed by their waiters; the
        # next slot is one new interval after the last send (no burst on a change).
        self._tat = min(self._tat, max(now, self._last_send + self._interval) + self._tau)
        self._epoch += 1

    def _new_segment(self, now: float) -> None:
        if self._segments is not None:
            self._segments.append((self._sent - self._seg_sent, now - self._seg_start, self._rate))
        self._seg_start = now
        self._seg_sent = self._sent

    def _tick(self, now: float) -> None:
        """Timed rules: the decision after a pause, ramp and creep steps, re-probes."""
        if self._decision_due:
            if now >= self._paused_until:
                self._decide(now)
            return
        if not self._saturated:  # demand is below the rate: no reason to raise it
            self._next_tick = now + _CREEP_EVERY
            return
        if self._phase == _STEADY:
            self._phase, self._hi, self._steps = _PROBING, math.inf, 0
        ramping = self._phase == _RAMPING
        self._steps += 1
        target = self._rate * (_RAMP_FACTOR if ramping else 1.0 + min(_CREEP_STEP * self._steps, _CREEP_MAX))
        target = min(target, self._hi / (1.0 + _CREEP_STEP), self.ceiling or math.inf)
        if target <= self._rate * 1.001:
            # Within a step of a throttled rate (or at the ceiling): hold until a re-probe.
            self._phase = _STEADY
            self._next_tick = now + _REPROBE_AFTER if self._hi < math.inf else math.inf
            return
        self._new_segment(now)
        self._set_rate(target, now)
        self._next_tick = now + (_RAMP_EVERY if ramping else _CREEP_EVERY)

    async def acquire(self, deadline: Deadline) -> float:
        """Wait for the next slot; fail at once if the deadline cannot cover the wait."""
        clock = self._clock
        waited = 0.0
        while True:
            now = clock.now()
            if now >= self._next_tick:
                self._tick(now)
            start = now if now >= self._paused_until else self._paused_until
            tat = self._tat if self._tat > start else start
            allowed = max(tat - self._tau, start)
            if allowed <= now:
                self._tat = tat + self._interval
                self._sent += 1
                self._last_send = now
                return waited
            wait = allowed - now
            deadline.ensure(wait, what="rate-limit wait")
            self._saturated = True
            reserved = tat + self._interval
            self._tat = reserved
            epoch = self._epoch
            try:
                await clock.sleep(wait)
            except asyncio.CancelledError:
                if self._tat == reserved and self._epoch == epoch:
                    self._tat = tat  # give the slot back to the queue
                raise
            waited += wait
            self.total_wait += wait
            if self._epoch == epoch and allowed + self._interval > self._next_tick:
                self._tick(allowed)  # a step (or the decision) due before the next slot
            if self._epoch != epoch:
                continue  # paused or re-paced meanwhile: take a slot on the new schedule
            self._sent += 1
            self._last_send = allowed
            return waited

    def _throttled(self, retry_after: float | None, now: float) -> None:
        self.throttles += 1
        if not self._decision_due and now >= self._paused_until:
            # First 429 of an episode: close it at the last request sent. Later 429s
            # of the same pause answer requests already in flight.
            self._ended = None
            if self._segments is not None:
                sent, seconds = self._sent - self._seg_sent, max(0.0, self._last_send - self._seg_start)
                self._ended = [*self._segments, (sent, seconds, self._rate)]
            self._rejects = 0
            self._decision_due = True
        self._rejects += 1
        pause = retry_after if retry_after is not None else self._interval * 2
        self._paused_until = max(self._paused_until, now + pause)
        self._next_tick = self._paused_until
        self._tat = self._paused_until
        self._epoch += 1

    def _decide(self, now: float) -> None:
        """After a throttling pause: learn from the episode, set the rate and phase."""
        self._decision_due = False
        rate = self._rate
        episode = _Episode(self._ended, self._rejects, self._refill, rate) if self._ended else None
        self._segments, self._seg_start, self._seg_sent = [], now, self._sent
        self._refill = now - self._last_send
        excess, span = episode.drain(rate) if episode else (0.0, 0.0)
        at_ceiling = self.ceiling is not None and rate >= self.ceiling
        if self.burst > 1 and excess >= 0.5 and (at_ceiling or span <= 2 * self._interval):
            # We sent more than even pacing at our rate allows, straight after a full
            # bucket (or at the configured rate): the server's burst is smaller than
            # ours, which says nothing against the rate. Pace evenly from now on.
            self.burst = self._server_burst = max(1.0, min(self.burst - 1.0, math.floor(excess)))
            self._tau = (self.burst - 1.0) * self._interval
            self._epoch += 1
            step = {_RAMPING: _RAMP_EVERY, _PROBING: _CREEP_EVERY, _STEADY: _REPROBE_AFTER}
            self._next_tick = now + step[self._phase]
            if self.ceiling is not None and rate >= self.ceiling:
                self._next_tick = math.inf
            return
        self._hi, self._steps = min(self._hi, rate), 0
        estimate: float | None = None
        if episode:
            if self._previous is not None:
                pair = _solve(self._previous, episode)
                if pair is not None:
                    estimate, self._server_burst = pair
            if estimate is None and self._server_burst is not None:
                estimate = _rate_for(episode, self._server_burst)
                if estimate is not None and episode.drain(estimate)[0] < 1.0:
                    estimate = None  # a drain of under a token says nothing about the rate
            self._previous = episode
        if estimate is not None:
            self._phase, target = _STEADY, estimate * _MARGIN
            self._next_tick = now + _REPROBE_AFTER
        else:
            self._phase = _PROBING
            # Our own burst went through from a full bucket, else it would have been blamed.
            floor = self._server_burst if self._server_burst is not None else self.burst
            target = _fallback(episode, floor) if episode else rate * _DECREASE
            self._next_tick = now + _CREEP_EVERY
        self._set_rate(target, now)

    def feedback(self, signal: RateFeedback) -> None:
        """Pause everyone on a 429 (deciding on a new rate when it ends) or on exhausted headers."""
        now = self._clock.now()
        if signal.throttled:
            self._throttled(signal.retry_after, now)
        elif signal.remaining is not None and signal.remaining <= 0 and signal.reset_after:
            self._paused_until = max(self._paused_until, now + signal.reset_after)
            self._tat = self._paused_until
            self._segments, self._seg_start, self._seg_sent = [], self._paused_until, self._sent
            self._epoch += 1
        if signal.limit is not None and signal.reset_after is None and self.ceiling is None:
            # A per-second limit header is the best estimate there is.
            self._phase, self._next_tick, self._segments = _STEADY, math.inf, None
            self._set_rate(signal.limit, now)


class AiolimiterAdapter:
    """Use an ``aiolimiter.AsyncLimiter`` as the client's limiter.

    aiolimiter paces on the event loop's clock and cannot change its rate, so this
    adapter adds only the shared 429 pause; prefer the default limiter.
    """

    def __init__(self, limiter: AsyncLimiter, *, clock: Clock | None = None) -> None:
        self._limiter = limiter
        self._clock = clock or SystemClock()
        self._paused_until = self._clock.now()

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
        """Pause every sender until ``Retry-After`` has passed."""
        if signal.throttled:
            pause = signal.retry_after if signal.retry_after is not None else 1.0
            self._paused_until = max(self._paused_until, self._clock.now() + pause)
