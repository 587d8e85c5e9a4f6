"""One rate budget for every process and host that uses a vendor key, kept in Redis.

The API limits requests per *vendor key* (README "Rate limits"), however many
workers share it. :class:`RedisRateLimiter` keeps the budget as a GCRA schedule (a
theoretical arrival time) in Redis and reserves each slot with one atomic Lua
script timed by Redis' own clock (``TIME``), so N processes on M hosts together
pace at the limit, with no clock skew between hosts. A 429 sets a shared pause that
every worker's next reservation waits out, and in adaptive mode the learned rate
lives there too, so a worker started later begins at it.

Priority lanes across processes: an ``interactive`` request books the next free slot
however far ahead it lies, while a ``bulk`` one (``with_options(priority="bulk")``,
the sync engine's) books only a slot that is due now; otherwise it reserves nothing
and asks again when the slot is due. So bulk traffic never keeps the schedule booked
more than one token interval (plus the burst tolerance) past now, and an interactive
call from any process waits about one interval, however much bulk traffic waits.
Bulk still progresses: it takes every slot interactive traffic leaves, and after
:data:`BULK_PATIENCE` refusals in a row a bulk request books like an interactive
one, so even interactive traffic above the rate cannot starve it.

Install with ``pip install 'pracsuite-async[redis]'``::

    limiter = RedisRateLimiter("redis://127.0.0.1:6379/0", name="acme-vendor", rate=10)
    async with PracSuiteClient(rate_limit=limiter) as client:
        ...

``name`` identifies the budget: use one name per vendor key (never the key itself).
If Redis cannot be reached, the limiter paces locally at ``fallback_share`` of the
rate (a conservative share, since the other workers may still be sending), logs one
warning, and tries Redis again after :data:`RECONNECT_AFTER` seconds: nothing hangs.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Any

from pracsuite_async._clock import Clock, Deadline, SystemClock
from pracsuite_async._limiter import AdaptiveRateLimiter, RateFeedback
from pracsuite_async._scheduler import Priority

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["BULK_PATIENCE", "RECONNECT_AFTER", "RedisRateLimiter"]

logger: logging.Logger = logging.getLogger("pracsuite_async.redis")

#: Seconds between attempts to reach Redis again while pacing locally.
RECONNECT_AFTER = 5.0
#: Seconds one Redis command may take before the limiter falls back to local pacing.
REDIS_TIMEOUT = 0.5
#: Adaptive mode: the rate a new budget starts at, and the bounds it moves within.
SEED_RATE, FLOOR_RATE, CEILING_RATE = 5.0, 0.2, 1000.0
#: Adaptive mode: a 429 cuts the shared rate by this factor (once per pause) ...
DECREASE = 0.85
#: ... and saturated sending with no 429 for CALM seconds raises it by this factor every STEP seconds.
INCREASE, CALM, STEP = 1.05, 10.0, 2.0
#: A pause longer than this is a quota or a hostile header, not pacing: it is clamped here.
MAX_PAUSE = 120.0
#: A bulk request told to come back this many times in a row books like an interactive one
#: (several processes polling for one slot lose to each other a few times per slot won).
BULK_PATIENCE = 16

# KEYS: tat, pause_until, rate, calm_since, next_step.
# ARGV: configured rate (0 = adaptive), burst, max wait (-1 = unbounded), seed, floor, ceiling,
#       increase, calm, step, bulk lane (1/0).
# Returns {wait, reserved tat} as strings (Redis truncates Lua numbers to integers),
# {"-1", wait} when the wait exceeds the caller's bound, or {"-2", wait} when a bulk
# request's slot is not due yet: ask again then (nothing reserved in either case).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local configured = tonumber(ARGV[1])
local rate = configured
if configured <= 0 then
  rate = tonumber(redis.call('GET', KEYS[3]) or ARGV[4])
end
local interval = 1 / rate
local tau = (tonumber(ARGV[2]) - 1) * interval
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = math.max(now, pause)
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), start)
local allowed = math.max(tat - tau, start)
local wait = allowed - now
local bound = tonumber(ARGV[3])
if bound >= 0 and wait > bound then
  return {'-1', tostring(wait)}
end
if configured <= 0 and wait > 0 then
  local calm = tonumber(redis.call('GET', KEYS[4]) or '0')
  local due = tonumber(redis.call('GET', KEYS[5]) or '0')
  if now - calm >= tonumber(ARGV[8]) and now >= due then
    rate = math.min(rate * tonumber(ARGV[7]), tonumber(ARGV[6]))
    redis.call('SET', KEYS[3], tostring(rate))
    redis.call('SET', KEYS[5], tostring(now + tonumber(ARGV[9])))
  end
end
if tonumber(ARGV[10]) == 1 and wait > 0 then
  return {'-2', tostring(wait)}
end
local reserved = tat + interval
local ttl = math.ceil((reserved - now) * 1000) + 60000
redis.call('SET', KEYS[1], tostring(reserved), 'PX', ttl)
return {tostring(wait), tostring(reserved)}
"""

# KEYS: tat, rate. ARGV: reserved tat, configured rate (0 = adaptive), seed.
# Gives a cancelled reservation back if no later one was made meanwhile.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local rate = tonumber(ARGV[2])
  if rate <= 0 then rate = tonumber(redis.call('GET', KEYS[2]) or ARGV[3]) end
  redis.call('SET', KEYS[1], tostring(tonumber(ARGV[1]) - 1 / rate), 'KEEPTTL')
  return 1
end
return 0
"""

# KEYS: pause_until, rate, calm_since. ARGV: pause seconds, adaptive (1/0), decrease, floor, seed.
# The first 429 of a pause cuts the adaptive rate; the ones already in flight do not.
_THROTTLED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local pause = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[2]) == 1 and pause <= now then
  local rate = tonumber(redis.call('GET', KEYS[2]) or ARGV[5])
  redis.call('SET', KEYS[2], tostring(math.max(rate * tonumber(ARGV[3]), tonumber(ARGV[4]))))
end
redis.call('SET', KEYS[3], tostring(now))
local until_ = now + tonumber(ARGV[1])
if until_ > pause then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


class RedisRateLimiter:
    """A GCRA rate budget in Redis, shared by every process that uses the same ``name``.

    Args:
        redis: a ``redis.asyncio.Redis`` client or a ``redis://`` URL (then owned and closed
            by :meth:`aclose`).
        name: the budget's name; one per vendor key (never the key itself).
        rate: requests per second for all workers together; ``None`` to learn the limit
            (shared AIMD: the first 429 of a pause cuts it, calm saturated sending raises it).
        burst: requests allowed back to back after an idle spell.
        fallback_share: the share of the rate paced locally while Redis is unreachable.
        clock: time source of the local waits.
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        name: str,
        rate: float | None = None,
        burst: float = 1.0,
        fallback_share: float = 0.25,
        clock: Clock | None = None,
    ) -> None:
        if rate is not None and not (math.isfinite(rate) and rate > 0):
            msg = "rate must be a finite number > 0 or None"
            raise ValueError(msg)
        if not (math.isfinite(burst) and burst >= 1):
            msg = "burst must be a finite number >= 1"
            raise ValueError(msg)
        if not 0 < fallback_share <= 1:
            msg = "fallback_share must be in (0, 1]"
            raise ValueError(msg)
        if not name or any(c.isspace() for c in name):
            msg = "name must be a non-empty string without spaces"
            raise ValueError(msg)
        if isinstance(redis, str):
            from redis.asyncio import Redis  # noqa: PLC0415 - optional dependency

            self._redis: Redis = Redis.from_url(
                redis, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
            self._owned = True
        else:
            self._redis, self._owned = redis, False
        self.name: str = name
        self.configured_rate: float | None = rate
        self.burst: float = burst
        prefix = f"pracsuite:rate:{{{name}}}:"  # one hash slot, so the scripts work on Redis Cluster
        self._keys = {k: prefix + k for k in ("tat", "pause", "rate", "calm", "step")}
        self._clock = clock or SystemClock()
        local_rate = (rate or SEED_RATE) * fallback_share
        self._local = AdaptiveRateLimiter(local_rate, ceiling=local_rate, burst=burst, clock=self._clock)
        self._down_until = -math.inf
        self._reserve: Any = self._redis.register_script(_RESERVE)
        self._release: Any = self._redis.register_script(_RELEASE)
        self._throttled: Any = self._redis.register_script(_THROTTLED)
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Seconds spent waiting, summed over requests (for progress displays).
        self.total_wait: float = 0.0

    def __repr__(self) -> str:
        mode = "adaptive" if self.configured_rate is None else f"rate={self.configured_rate:g}"
        return f"RedisRateLimiter(name={self.name!r}, {mode}, burst={self.burst:g})"

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and the limiter paces locally."""
        return self._clock.now() < self._down_until

    async def shared_rate(self) -> float:
        """The budget's current rate: the configured one, or the learned one stored in Redis."""
        if self.configured_rate is not None:
            return self.configured_rate
        value = await self._redis.get(self._keys["rate"])
        return float(value) if value is not None else SEED_RATE

    #: Tells the client's pipeline to pass each request's lane to :meth:`acquire`.
    priority_lanes = True

    async def acquire(self, deadline: Deadline, priority: Priority = "interactive") -> float:
        """Reserve the next shared slot in ``priority``'s lane (local while Redis is down); wait for it."""
        waited, refusals = 0.0, 0
        while True:
            if self.degraded:
                return waited + await self._local.acquire(deadline)
            k = self._keys
            left = deadline.remaining()
            bulk = priority == "bulk" and refusals < BULK_PATIENCE
            args = [
                self.configured_rate or 0, self.burst, -1 if left is None else left,
                SEED_RATE, FLOOR_RATE, CEILING_RATE, INCREASE, CALM, STEP, 1 if bulk else 0,
            ]
            try:
                keys = [k["tat"], k["pause"], k["rate"], k["calm"], k["step"]]
                wait_s, reserved = await self._reserve(keys=keys, args=args)
            except Exception as exc:  # noqa: BLE001 - any Redis failure means: pace locally for a while
                self._fall_back(exc)
                continue
            if wait_s == b"-1":
                deadline.ensure(float(reserved), what="rate-limit wait")  # raises: the wait cannot fit
            if wait_s != b"-2":
                break
            refusals += 1  # bulk, and its slot is not due yet: ask again when it is
            again = float(reserved)
            deadline.ensure(again, what="rate-limit wait")
            await self._clock.sleep(again)
            waited += again
            self.total_wait += again
        wait = max(0.0, float(wait_s))
        if wait <= 0:
            return waited
        try:
            await self._clock.sleep(wait)
        except asyncio.CancelledError:
            self._spawn(self._release(keys=[k["tat"], k["rate"]],
                                      args=[reserved, self.configured_rate or 0, SEED_RATE]))
            raise
        self.total_wait += wait
        return waited + wait

    def feedback(self, signal: RateFeedback) -> None:
        """Share a 429's pause (and, in adaptive mode, a lower rate) with every worker."""
        self._local.feedback(signal)
        if not signal.throttled or self.degraded:
            return
        retry_after = signal.retry_after if signal.retry_after is not None else 1.0
        pause = min(max(retry_after, 0.0), MAX_PAUSE) if math.isfinite(retry_after) else MAX_PAUSE
        k = self._keys
        adaptive = 1 if self.configured_rate is None else 0
        self._spawn(self._throttled(keys=[k["pause"], k["rate"], k["calm"]],
                                    args=[pause, adaptive, DECREASE, FLOOR_RATE, SEED_RATE]))

    async def aclose(self) -> None:
        """Finish pending Redis writes and close the connection if this limiter opened it."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._owned:
            await self._redis.aclose()

    def _fall_back(self, exc: BaseException) -> None:
        if not self.degraded:
            logger.warning(
                "Redis unreachable (%s); pacing locally at a %.0f%% share for %.0fs",
                type(exc).__name__,
                100 * self._local.rate / (self.configured_rate or SEED_RATE),
                RECONNECT_AFTER,
            )
        self._down_until = self._clock.now() + RECONNECT_AFTER

    def _spawn(self, coro: Any) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception as exc:  # noqa: BLE001 - a lost pause is not worth failing a call
                self._fall_back(exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
