"""RedisRateLimiter: one budget shared by processes through a real redis-server."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from pracsuite_async._clock import Deadline
from pracsuite_async._errors import DeadlineExceededError
from pracsuite_async._limiter import RateFeedback
from pracsuite_async.contrib.redis import DECREASE, SEED_RATE, RedisRateLimiter
from pracsuite_async.simulator import Simulator, SimulatorConfig
from pracsuite_async.testing import FakeClock

REPO = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture
async def make(redis_url: str, request: pytest.FixtureRequest) -> AsyncIterator[object]:
    """A factory of limiters on a budget named after the test, closed afterwards."""
    made: list[RedisRateLimiter] = []
    name = request.node.name.replace("[", "-").replace("]", "")

    def factory(**kwargs: object) -> RedisRateLimiter:
        limiter = RedisRateLimiter(redis_url, name=name, clock=FakeClock(), **kwargs)  # type: ignore[arg-type]
        made.append(limiter)
        return limiter

    yield factory
    for limiter in made:
        await limiter.aclose()


def _deadline(seconds: float | None = None) -> Deadline:
    return Deadline(FakeClock(), seconds, method="GET", path="/x")


class TestSharedBudget:
    async def test_two_limiters_share_one_schedule(self, make: object) -> None:
        """Slots reserved through two limiters with one name are spaced by 1/R, as if one limiter."""
        a, b = make(rate=10, burst=1), make(rate=10, burst=1)  # type: ignore[operator]
        waits = [await (a if i % 2 else b).acquire(_deadline()) for i in range(6)]
        assert waits[0] == 0.0
        steps = [waits[i + 1] - waits[i] for i in range(1, 5)]
        assert all(0.07 < s < 0.13 for s in steps), waits

    async def test_a_429_pauses_every_worker(self, make: object) -> None:
        """A 429 fed to one limiter makes another limiter's next slot wait out the Retry-After."""
        a, b = make(rate=100), make(rate=100)  # type: ignore[operator]
        a.feedback(RateFeedback(throttled=True, retry_after=30.0))
        await asyncio.gather(*a._tasks)
        wait = await b.acquire(_deadline())
        assert 29.0 < wait <= 30.0

    async def test_absurd_retry_after_is_clamped(self, make: object) -> None:
        """An infinite Retry-After pauses the budget for a bounded time, not for ever."""
        a = make(rate=100)  # type: ignore[operator]
        a.feedback(RateFeedback(throttled=True, retry_after=float("inf")))
        await asyncio.gather(*a._tasks)
        wait = await a.acquire(_deadline())
        assert 0 < wait <= 120.0

    async def test_wait_beyond_the_deadline_reserves_nothing(self, make: object) -> None:
        """A slot that cannot come within the deadline fails at once and leaves the schedule as it was."""
        a, b = make(rate=100), make(rate=100)  # type: ignore[operator]
        a.feedback(RateFeedback(throttled=True, retry_after=10.0))
        await asyncio.gather(*a._tasks)
        with pytest.raises(DeadlineExceededError):
            await b.acquire(_deadline(1.0))
        wait = await b.acquire(_deadline())
        assert 9.0 < wait <= 10.0  # the first slot after the pause, not a later one

    async def test_cancelled_wait_gives_its_slot_back(self, make: object) -> None:
        """A reservation whose waiter is cancelled is handed back while it is the newest one."""
        a = make(rate=1, burst=1)  # type: ignore[operator]
        assert await a.acquire(_deadline()) == 0.0
        clock: FakeClock = a._clock
        asleep = asyncio.Event()

        async def never(seconds: float) -> None:
            asleep.set()
            await asyncio.Future()  # the waiter is cancelled before its slot comes

        clock.sleep = never  # type: ignore[method-assign]
        task = asyncio.create_task(a.acquire(_deadline()))
        await asleep.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.gather(*a._tasks)
        del clock.sleep
        wait = await a.acquire(_deadline())
        assert wait < 1.05, (wait, clock)

    async def test_learned_rate_is_shared_with_new_workers(self, make: object) -> None:
        """In adaptive mode a 429 lowers the shared rate once per pause; a later worker starts at it."""
        a = make()  # type: ignore[operator]
        for _ in range(3):  # three 429s of one pause cut the rate once
            a.feedback(RateFeedback(throttled=True, retry_after=1.0))
        await asyncio.gather(*a._tasks)
        late = make()  # type: ignore[operator]
        assert await late.shared_rate() == pytest.approx(SEED_RATE * DECREASE)

    async def test_unreachable_redis_paces_locally(self, caplog: pytest.LogCaptureFixture) -> None:
        """With Redis down, acquire returns promptly at a local share of the rate and warns once."""
        limiter = RedisRateLimiter("redis://127.0.0.1:9/0", name="down", rate=40, clock=FakeClock())
        with caplog.at_level(logging.WARNING, logger="pracsuite_async.redis"):
            started = time.monotonic()
            waits = [await limiter.acquire(_deadline()) for _ in range(4)]
            assert time.monotonic() - started < 5
        assert limiter.degraded
        assert waits[-1] > 0  # paced locally at 10/s, burst 2
        assert len([r for r in caplog.records if "unreachable" in r.message]) == 1
        await limiter.aclose()

    def test_settings_are_validated(self) -> None:
        """Nonsense rates, bursts, shares and names are refused up front."""
        for kwargs in ({"rate": float("nan")}, {"rate": 0}, {"burst": 0.5}, {"fallback_share": 0}, {"name": ""}):
            args = {"name": "x", **kwargs}
            with pytest.raises(ValueError, match=next(iter(kwargs))):
                RedisRateLimiter("redis://127.0.0.1:9/0", **args)  # type: ignore[arg-type]


@pytest.mark.slow
async def test_four_processes_share_the_limit(redis_url: str) -> None:
    """4 worker processes on one Redis budget of R reach >= 0.95 R together with no 429 from a server at R."""
    rate, per_worker = 20.0, 25
    config = SimulatorConfig(records=50, rate=rate, burst=2, accept_any_key=True)
    async with Simulator(config) as sim:
        start_at = time.time() + 3.0  # all four start together, after their imports
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.contrib.redis_worker", redis_url, sim.base_url, "four", str(rate),
                str(per_worker), str(start_at), cwd=REPO, stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(4)
        ]
        outputs = [json.loads((await p.communicate())[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    sent = sum(o["sent"] for o in outputs)
    span = max(o["last"] for o in outputs) - min(o["first"] for o in outputs)
    assert sum(o["throttled"] for o in outputs) == 0
    assert sent == 4 * per_worker
    achieved = (sent - 2) / span  # the first two went at once (burst)
    assert achieved >= 0.95 * rate, achieved
    assert achieved <= 1.05 * rate, achieved
