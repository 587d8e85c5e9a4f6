"""The adaptive estimator: finds a server's unknown rate limit from its 429s.

It decides *what rate* to pace at; :mod:`pracsuite_async._limiter` does the
pacing. It never sleeps and never reads a clock: the pacer calls it with ``now``
when a timed rule is due (:meth:`RateEstimator.tick`) and when a 429 or a limit
header arrives, and it answers by calling the pacer's ``set_rate``/``set_burst``.
So it runs unchanged on a fake clock.

* Configured (``rate_limit=R``, a ceiling): pace at R, burst 2. A 429 our burst
  explains (more requests than even pacing at R allows since the server's bucket
  was full) means the server's burst is smaller: pace evenly and keep R, so one
  pause is the whole cost. Any other 429 (a shared budget, a wrong setting)
  starts the recovery below, under R.
* Unknown limit: from the seed, double after ``RAMP_EVERY`` of saturated
  sending, each step ``RAMP_SLOWDOWN`` longer than the last, until a 429.
  Fast, because time below the limit is lost for good, while overshooting
  costs one pause whatever its size (the server's bucket starts full). After
  that pause, hold ``CREEP_AFTER`` before probing again. Then measure:

  - An *episode* is what was sent since the server's bucket was last known full
    (start, or end of a pause: Retry-After refills it), as stretches of constant
    pacing. Were the limit R, it took D(R) = max over final stretches of
    (requests - R x seconds) tokens, and the 429 says under one token was left:
    burst B = D(R) + R/pace. So an episode is a curve B(R); two that drained at
    different speeds cross at the server's (R, B).
  - Estimate: the highest crossing of the last two curves, kept if their drain
    durations differ by >= ``MIN_SPREAD`` tokens of refill (else timing noise
    decides) and a token or more was drained (a strict server's 429 only says
    "too fast"). Once B is known (server configuration; the limit itself may
    change) each episode gives R alone. Hold at that R: an overestimate drains
    the bucket slowly, so its 429 is the most precise measurement there is.
  - Without an estimate, creep x ``CREEP`` every ``CREEP_EVERY`` of saturated
    sending from the highest rate the episode allows (its drain there needs the
    burst known to pass: ours did, from the full bucket), never within a step of
    a throttled rate. The slow creep makes the next drain slow, so it crosses
    the ramp's fast one at a clear angle; after two drains too alike it starts
    ``LOWER`` lower.
  - Decide when the pause ends, once the 429s of requests in flight have
    corrected the episode's count of accepted ones: one decision per episode.
  - After ``REPROBE_AFTER`` of holding, creep again: only exceeding the old limit
    shows a raised one; a lowered limit shows itself with the next 429.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

__all__ = ["FLOOR", "Paced", "RateEstimator"]

#: The lowest pacing rate (requests/s) any decision may set: a 429 storm or a
#: hostile header must never stop the client, only slow it.
FLOOR = 0.5
#: Ramp factor and first period while the limit is unknown: time below the limit
#: is lost for good, an overshoot costs one pause whatever its size.
RAMP, RAMP_EVERY = 2.0, 0.1
#: Each ramp step lasts this much longer than the one before (0.1, 0.15, 0.225,
#: 0.34 s...: 80/s from the 10/s seed within 0.5 s). Early steps are far below any
#: limit and cheap to leave; later ones must last long enough to drain a few
#: tokens if they are too fast, so the episode that ends the ramp tells which
#: step was within the limit (a short 40/s step followed by an 80/s one that is
#: throttled cannot tell R=20 from R=40).
RAMP_SLOWDOWN = 1.5
#: Creep factor and period once throttled without an estimate: slow enough that
#: the next drain is slow, so it crosses the ramp's fast one at a clear angle.
CREEP, CREEP_EVERY = 1.04, 0.5
#: Seconds to hold the restart rate after a throttle without an estimate before
#: creeping: the rate just below a 429 is usually close, and a second pause
#: right away costs a short job a whole ``Retry-After``.
CREEP_AFTER = 2.0
#: Multiplicative decrease when an episode tells nothing better.
CUT = 0.7
#: Applied to the restart rate after two drains too alike to solve: slower, so
#: the next drain differs from the last one.
LOWER = 0.8
#: Hold a little under an estimate: timing noise makes it a few tenths of a percent
#: high as often as low, and each 429 costs a whole pause.
HOLD_MARGIN = 0.99
#: Seconds of holding at an estimate before creeping again to find a raised limit.
REPROBE_AFTER = 20.0
#: Tokens of refill two drains' durations must differ by to be solved together.
MIN_SPREAD = 5.0
#: Pacing stretches kept per episode; the oldest matter least and are merged.
MAX_SEGMENTS = 32
_RAMPING, _PROBING, _HOLDING = "ramping", "probing", "holding"

#: One stretch of constant pacing: (requests, seconds, rate).
Segment = tuple[float, float, float]


class Paced(Protocol):
    """What the estimator reads from and sets on the pacer."""

    ceiling: float | None
    burst: float
    sent: int
    last_send: float
    saturated: bool
    paused_until: float

    @property
    def rate(self) -> float:
        """The current pacing rate."""

    @property
    def interval(self) -> float:
        """Seconds between slots at the current rate."""

    def set_rate(self, rate: float, now: float) -> None:
        """Pace at ``rate`` from now on."""

    def set_burst(self, burst: float) -> None:
        """Use ``burst`` as the bucket capacity from now on."""


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
    if abs(span_a - span_b) * rate < MIN_SPREAD or drained < 1.0:
        return None
    return rate, drained + rate / b.pace


def _restart(episode: _Episode, burst: float) -> float:
    """The highest rate in ``episode`` that could be within the limit, else a cut.

    Against a strict server (burst < 2) a stretch sent cleanly proves its rate;
    otherwise the drain there must need ``burst`` (less a quarter token of noise).
    """
    top = episode.top if burst < 2 else (_rate_for(episode, burst - 0.25) or episode.top)
    below = [r for _, t, r in episode.segments[:-1] if t > 0 and r < top * 0.999]
    return max(below) if below else episode.top * CUT


class RateEstimator:
    """The policy that sets the pacer's rate: ramp, measure episodes, hold, re-probe."""

    def __init__(self, pacer: Paced, now: float) -> None:
        self._pacer = pacer
        climbing = pacer.ceiling is None or pacer.rate < pacer.ceiling
        self._phase = _RAMPING if climbing else _HOLDING
        #: When :meth:`tick` is next due (the pacer wakes for it).
        self._ramp_every = RAMP_EVERY
        self.next_tick = now + RAMP_EVERY if climbing else math.inf
        self._hi = math.inf  # the lowest rate throttled since the last probe
        self._server_burst: float | None = None
        # The episode: stretches since the server's bucket was last known full.
        self._segments: list[Segment] | None = []
        self._seg_start, self._seg_sent = now, 0
        self._ended: list[Segment] | None = None  # closed by a 429, awaiting the decision
        self._rejects, self._decision_due = 0, False
        self._previous: _Episode | None = None
        #: The rate last held at an estimate or a limit header (what a later run may start at).
        self.settled: float | None = None
        #: Called with that rate whenever it is set.
        self.on_settle: Callable[[float], None] | None = None

    def _settle(self) -> None:
        self.settled = self._pacer.rate
        if self.on_settle is not None:
            self.on_settle(self.settled)

    def resume(self, rate: float, burst: float, now: float) -> None:
        """Start held at a limit remembered from an earlier run; re-probe after ``REPROBE_AFTER``."""
        pacer = self._pacer
        if burst < pacer.burst:  # the server's burst was found smaller than ours
            self._server_burst = burst
            pacer.set_burst(burst)
        pacer.set_rate(rate, now)
        self.settled = pacer.rate
        self._hold(now, REPROBE_AFTER)

    @property
    def segments(self) -> int:
        """Pacing stretches held for the current episode (memory is bounded)."""
        return len(self._segments or ())

    def _new_segment(self, now: float) -> None:
        pacer = self._pacer
        segments = self._segments
        if segments is not None:
            segments.append((pacer.sent - self._seg_sent, now - self._seg_start, pacer.rate))
            if len(segments) > MAX_SEGMENTS:  # the oldest stretches matter least
                (n1, t1, _), (n2, t2, r2) = segments[:2]
                segments[:2] = [(n1 + n2, t1 + t2, r2)]
        self._seg_start, self._seg_sent = now, pacer.sent

    def _hold(self, now: float, probe_after: float) -> None:
        self._phase, self.next_tick = _HOLDING, now + probe_after

    def restart_episode(self, at: float) -> None:
        """The server's bucket is known full again at ``at`` (a header said so)."""
        if self._segments is not None:
            self._segments = []
        self._seg_start, self._seg_sent = at, self._pacer.sent

    def adopt_limit(self, limit: float, now: float) -> None:
        """A per-second limit header is the best estimate there is: hold at it."""
        self._hold(now, math.inf)
        self._segments = None  # and the episode model no longer applies
        self._pacer.set_rate(limit, now)
        self._settle()

    def tick(self, now: float) -> None:
        """Timed rules: the decision after a pause, ramp and creep steps, re-probes."""
        pacer = self._pacer
        if self._decision_due:
            if now >= pacer.paused_until:
                self._decide(now)
            return
        if not pacer.saturated:  # demand is below the rate: no reason to raise it
            self.next_tick = now + CREEP_EVERY
            return
        if self._phase == _HOLDING:  # re-probe: forget the throttled rates
            self._phase, self._hi = _PROBING, math.inf
        ramping = self._phase == _RAMPING
        rate = pacer.rate
        target = min(rate * (RAMP if ramping else CREEP), self._hi / CREEP)
        if min(target, pacer.ceiling or math.inf) <= rate * 1.001:
            self._hold(now, REPROBE_AFTER if self._hi < math.inf else math.inf)
            return
        self._new_segment(now)
        pacer.set_rate(target, now)
        if ramping:
            self._ramp_every *= RAMP_SLOWDOWN
        self.next_tick = now + (self._ramp_every if ramping else CREEP_EVERY)

    def throttled(self, now: float) -> None:
        """Record a 429 received at ``now``, before the pacer extends its pause."""
        pacer = self._pacer
        sent = pacer.sent - self._seg_sent
        if not self._decision_due and now >= pacer.paused_until and (sent or self._segments):
            # The first 429 of an episode closes it at the last request sent; later
            # ones before the pause ends (or with nothing sent since) answer requests
            # that were in flight.
            self._ended, self._rejects, self._decision_due = None, 0, True
            if self._segments is not None:
                seconds = max(0.0, pacer.last_send - self._seg_start)
                self._ended = [*self._segments, (sent, seconds, pacer.rate)]
        self._rejects += 1

    def _decide(self, now: float) -> None:
        """When the pause ends: learn from the episode, then set the rate and phase."""
        pacer = self._pacer
        self._decision_due = False
        rate, known = pacer.rate, self._server_burst
        episode = _Episode(self._ended, self._rejects, rate) if self._ended else None
        self._segments, self._seg_start, self._seg_sent = [], now, pacer.sent
        drained, span = episode.drain(rate) if episode else (0.0, 0.0)
        at_ceiling = pacer.ceiling is not None and rate >= pacer.ceiling
        if pacer.burst > 1 and drained >= 0.5 and (at_ceiling or span <= 2 * pacer.interval):
            # More than even pacing at our rate allows, from a full bucket: the
            # server's burst is smaller than ours. Pace evenly, keep the rate.
            self._server_burst = max(1.0, min(pacer.burst - 1.0, math.floor(drained)))
            pacer.set_burst(self._server_burst)
            if self._phase == _HOLDING:
                self._hold(now, math.inf if at_ceiling else REPROBE_AFTER)
            else:
                self.next_tick = now + (self._ramp_every if self._phase == _RAMPING else CREEP_EVERY)
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
            self._hold(now, REPROBE_AFTER)
            target = estimate * HOLD_MARGIN
        else:
            self._phase, self.next_tick = _PROBING, now + CREEP_AFTER
            floor = known if known is not None else pacer.burst  # ours passed at the start
            target = _restart(episode, floor) if episode else rate * CUT
            if self._previous is not None and episode is not None and floor >= 2:
                target *= LOWER  # two drains too alike to solve: make the next one slower
        if episode is not None:
            self._previous = episode
        pacer.set_rate(target, now)
        if estimate is not None:
            self._settle()
