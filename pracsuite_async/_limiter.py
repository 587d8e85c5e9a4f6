"""Client-side rate limiting: the :class:`RateLimiter` protocol and its default.

:class:`AdaptiveRateLimiter` paces request *starts* with a GCRA schedule (a token
bucket kept as a theoretical arrival time) on an injected clock. Waiters reserve
slots, so a queue costs one timer per task and a late wake-up pushes no later
slot back (capacity-1 buckets lose several percent to the 1 ms timer grain,
PERFORMANCE-NOTES §1d); a free slot is a few reads and additions (~1 us). The rate
can change at runtime, and every 429 pauses *all* senders until its Retry-After.

* Configured (``rate_limit=R``): pace at R, burst 2 (1.00 R, no 429 against a
  strict bucket of burst >= 2). A 429 our burst explains (more requests than even
  pacing at R allows since the server's bucket was full) means the server's burst
  is smaller: pace evenly and keep R, so one pause is the whole cost. Any other
  429 (a shared budget, a wrong setting) starts the recovery below, under R.
* Unknown limit: from 5/s, double every 0.3 s of saturated sending until a 429.
  Fast, because time below the limit is lost for good, while overshooting costs
  one pause whatever its size (the server's bucket starts full). Then measure:

  - An *episode* is what was sent since the server's bucket was last known full
    (start, or end of a pause: Retry-After refills it), as stretches of constant
    pacing. Were the limit R, it took D(R) = max over final stretches of
    (requests - R x seconds) tokens, and the 429 says under one token was left:
    burst B = D(R) + R/pace. So an episode is a curve B(R); two that drained at
    different speeds cross at the server's (R, B).
  - Estimate: the highest crossing of the last two curves, kept if their drain
    durations differ by >= 5 tokens of refill (else timing noise decides) and a
    token or more was drained (a strict server's 429 only says "too fast"). Once
    B is known (server configuration; the limit itself may change) each episode
    gives R alone. Hold at that R: an overestimate drains the bucket slowly, so
    its 429 is the most precise measurement there is.
  - Without an estimate, creep x1.04 every 0.5 s of saturated sending from the
    highest rate the episode allows (its drain there needs the burst known to
    pass: ours did, from the full bucket), never within a step of a throttled
    rate. The slow creep makes the next drain slow, so it crosses the ramp's
    fast one at a clear angle; after two drains too alike it starts 20 % lower.
  - Decide when the pause ends, once the 429s of requests in flight have
    corrected the episode's count of accepted ones: one decision per episode.
  - After 20 s of holding, creep again: only exceeding the old limit shows a
    raised one (found within ~30 s, for one pause per probe); a lowered limit
    shows itself with the next 429.

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
#: sees a 429 storm, doubling up to the limit within a second or two.
DEFAULT_SEED_RATE = 5.0
#: Capacity of the client bucket: 2 absorbs timer lateness without bursting above R+1.
DEFAULT_BURST = 2.0
_FLOOR = 0.5
_RAMP, _RAMP_EVERY = 2.0, 0.3
_CREEP, _CREEP_EVERY = 1.04, 0.5
_CUT = 0.7  # without anything better, a multiplicative decrease
_LOWER = 0.8
_HOLD_MARGIN = 0.99
_REPROBE_AFTER = 20.0
_MIN_SPREAD = 5.0  # tokens of refill between two drains' durations
_MAX_SEGMENTS = 32
_RAMPING, _PROBING, _HOLDING = "ramping", "probing", "holding"

#: One stretch of constant pacing: (requests, seconds, rate).
Segment = tuple[float, float, float]


class _Episode:
    """Requests sent since the server's bucket was last known full, up to a 429."""

    __slots__ = ("pace", "segments", "top")

    def __init__(self, segments: list[Segment], rejected: int, top: float) -> None:
        n, t, r = segments[-1]  # the rejected requests were the last ones sent
        self.segments = [*segments[:-1], (max(0.0, n - rejected), t, r)]
        self.top = top  # the rate when throttled
        # The rate that spaced the last request from the one before.
        self.pace = next((r for _, t, r in reversed(segments) if t > 0), top)

    def drain(self, rate: float) -> tuple[float, float]:
        """Tokens taken from a full bucket refilled at ``rate``, and over how many seconds."""
        best = span = total = seconds = 0.0
        for n, t, _ in reversed(self.segments):
            total, seconds = total + n - rate * t, seconds + t
            if total > best:
                best, span = total, seconds
        return best, span

    def burst(self, rate: float) -> float:
        """The server burst that explains the episode if ``rate`` (< pace) is the limit."""
        return self.drain(rate)[0] + rate / self.pace


def _root(fn: Callable[[float], float], hi: float) -> float | None:
    """The highest zero of ``fn`` in (0, hi]: scan down in 3 % steps, then bisect."""
    r, f_r = hi, fn(hi)
    while r > hi * 1e-3:
        lo = r * 0.97
        f_lo = fn(lo)
        if (f_lo > 0) != (f_r > 0):
            for _ in range(30):
                mid = (lo + r) / 2
                lo, r = (lo, mid) if (fn(mid) > 0) == (f_r > 0) else (mid, r)
            return (lo + r) / 2
        r, f_r = lo, f_lo
    return None


def _rate_for(episode: _Episode, burst: float) -> float | None:
    """The limit at which ``episode`` emptied a bucket of ``burst``."""
    return _root(lambda r: episode.burst(r) - burst, episode.pace)


def _solve(a: _Episode, b: _Episode) -> tuple[float, float] | None:
    """The (rate, burst) at which both episodes' curves cross, if they pin it down."""
    rate = _root(lambda r: a.burst(r) - b.burst(r), min(a.pace, b.pace))
    if rate is None:
        return None
    (_, span_a), (drained, span_b) = a.drain(rate), b.drain(rate)
    if abs(span_a - span_b) * rate < _MIN_SPREAD or drained < 1.0:
        return None
    return rate, drained + rate / b.pace


def _restart(episode: _Episode, burst: float) -> float:
    """The highest rate in ``episode`` that could be within the limit, else a cut.

    Against a strict server (burst < 2) a stretch sent cleanly proves its rate;
    otherwise the drain there must need ``burst`` (less a quarter token of noise).
    """
    top = episode.top if burst < 2 else (_rate_for(episode, burst - 0.25) or episode.top)
    below = [r for _, t, r in episode.segments[:-1] if t > 0 and r < top * 0.999]
    return max(below) if below else episode.top * _CUT


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
        self.ceiling, self.burst = ceiling, burst
        self._rate = min(rate, ceiling) if ceiling else rate
        self._interval = 1.0 / self._rate
        self._tau = (burst - 1.0) * self._interval
        now = self._clock.now()
        self._tat = self._paused_until = now  # the bucket starts full: `burst` go at once
        self._epoch = 0  # bumped when reservations must be recomputed
        self._saturated = False  # a request waited since the last rate change
        climbing = ceiling is None or self._rate < ceiling
        self._phase = _RAMPING if climbing else _HOLDING
        self._next_tick = now + _RAMP_EVERY if climbing else math.inf
        self._hi = math.inf  # the lowest rate throttled since the last probe
        self._server_burst: float | None = None
        # The episode: stretches since the server's bucket was last known full.
        self._segments: list[Segment] | None = []
        self._seg_start, self._seg_sent, self._sent, self._last_send = now, 0, 0, now
        self._ended: list[Segment] | None = None  # closed by a 429, awaiting the decision
        self._rejects, self._decision_due = 0, False
        self._previous: _Episode | None = None
        #: Counters for progress displays and benchmarks.
        self.throttles, self.total_wait = 0, 0.0

    @property
    def rate(self) -> float:
        """The current pacing rate in requests per second."""
        return self._rate

    def __repr__(self) -> str:
        return f"AdaptiveRateLimiter(rate={self._rate:.3g}, ceiling={self.ceiling}, burst={self.burst})"

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
            self._hold(now, math.inf)
            self._segments = None  # and the episode model no longer applies
            self._set_rate(signal.limit, now)

    def _set_rate(self, rate: float, now: float) -> None:
        rate = max(min(rate, self.ceiling or math.inf), _FLOOR)
        self._saturated = False
        if rate == self._rate:
            return
        self._rate = rate
        self._interval = 1.0 / rate
        self._tau = (self.burst - 1.0) * self._interval
        # Waiters recompute their reservations; the next slot is one new interval
        # after the last request (a rate change grants no burst).
        self._tat = min(self._tat, max(now, self._last_send + self._interval) + self._tau)
        self._epoch += 1

    def _new_segment(self, now: float) -> None:
        segments = self._segments
        if segments is not None:
            segments.append((self._sent - self._seg_sent, now - self._seg_start, self._rate))
            if len(segments) > _MAX_SEGMENTS:  # the oldest stretches matter least
                (n1, t1, _), (n2, t2, r2) = segments[:2]
                segments[:2] = [(n1 + n2, t1 + t2, r2)]
        self._seg_start, self._seg_sent = now, self._sent

    def _hold(self, now: float, probe_after: float) -> None:
        self._phase, self._next_tick = _HOLDING, now + probe_after

    def _tick(self, now: float) -> None:
        """Timed rules: the decision after a pause, ramp and creep steps, re-probes."""
        if self._decision_due:
            if now >= self._paused_until:
                self._decide(now)
            return
        if not self._saturated:  # demand is below the rate: no reason to raise it
            self._next_tick = now + _CREEP_EVERY
            return
        if self._phase == _HOLDING:  # re-probe: forget the throttled rates
            self._phase, self._hi = _PROBING, math.inf
        ramping = self._phase == _RAMPING
        target = min(self._rate * (_RAMP if ramping else _CREEP), self._hi / _CREEP)
        if min(target, self.ceiling or math.inf) <= self._rate * 1.001:
            self._hold(now, _REPROBE_AFTER if self._hi < math.inf else math.inf)
            return
        self._new_segment(now)
        self._set_rate(target, now)
        self._next_tick = now + (_RAMP_EVERY if ramping else _CREEP_EVERY)

    def _throttled(self, retry_after: float | None, now: float) -> None:
        self.throttles += 1
        sent = self._sent - self._seg_sent
        if not self._decision_due and now >= self._paused_until and (sent or self._segments):
            # The first 429 of an episode closes it at the last request sent; later
            # ones before the pause ends (or with nothing sent since) answer requests
            # that were in flight.
            self._ended, self._rejects, self._decision_due = None, 0, True
            if self._segments is not None:
                seconds = max(0.0, self._last_send - self._seg_start)
                self._ended = [*self._segments, (sent, seconds, self._rate)]
        self._rejects += 1
        pause = retry_after if retry_after is not None else self._interval * 2
        self._paused_until = max(self._paused_until, now + pause)
        self._next_tick = self._tat = self._paused_until
        self._epoch += 1

    def _decide(self, now: float) -> None:
        """When the pause ends: learn from the episode, then set the rate and phase."""
        self._decision_due = False
        rate, known = self._rate, self._server_burst
        episode = _Episode(self._ended, self._rejects, rate) if self._ended else None
        self._segments, self._seg_start, self._seg_sent = [], now, self._sent
        drained, span = episode.drain(rate) if episode else (0.0, 0.0)
        at_ceiling = self.ceiling is not None and rate >= self.ceiling
        if self.burst > 1 and drained >= 0.5 and (at_ceiling or span <= 2 * self._interval):
            # More than even pacing at our rate allows, from a full bucket: the
            # server's burst is smaller than ours. Pace evenly, keep the rate.
            self.burst = self._server_burst = max(1.0, min(self.burst - 1.0, math.floor(drained)))
            self._tau = (self.burst - 1.0) * self._interval
            self._epoch += 1
            if self._phase == _HOLDING:
                self._hold(now, math.inf if at_ceiling else _REPROBE_AFTER)
            else:
                self._next_tick = now + (_RAMP_EVERY if self._phase == _RAMPING else _CREEP_EVERY)
            return
        self._hi = min(self._hi, rate)
        estimate = None
        if episode is not None:
            if known is None and self._previous is not None:
                pair = _solve(self._previous, episode)
                if pair is not None:
                    estimate, self._server_burst = pair
            elif known is not None:
                estimate = _rate_for(episode, known)
                if estimate is not None and episode.drain(estimate)[0] < 1.0:
                    estimate = None  # under a token drained: nothing measured
        if estimate is not None:
            self._hold(now, _REPROBE_AFTER)
            # A little under the estimate: real timing noise makes it a few tenths of a
            # percent high as often as low, and each 429 costs a whole pause.
            target = estimate * _HOLD_MARGIN
        else:
            self._phase, self._next_tick = _PROBING, now + _CREEP_EVERY
            floor = known if known is not None else self.burst  # ours passed at the start
            target = _restart(episode, floor) if episode else rate * _CUT
            if self._previous is not None and episode is not None and floor >= 2:
                target *= _LOWER  # two drains too alike to solve: make the next one slower
        if episode is not None:
            self._previous = episode
        self._set_rate(target, now)


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
