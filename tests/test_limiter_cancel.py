"""Limiter reservations on cancel and timeout: a caller leaving the queue costs nobody anything."""

from __future__ import annotations

import asyncio

import pytest

from pracsuite_async import AdaptiveRateLimiter, DeadlineExceededError
from pracsuite_async._clock import Deadline
from pracsuite_async._transport import RawResponse
from pracsuite_async.testing import FakeClock, RecordedRequest, json_response
from tests.conftest import MakeClient


def _deadline(clock: FakeClock, seconds: float | None = None) -> Deadline:
    return Deadline(clock, seconds, method="GET", path="/x")


async def _queue(limiter: AdaptiveRateLimiter, clock: FakeClock, n: int) -> list[asyncio.Task[float]]:
    tasks = [asyncio.create_task(limiter.acquire(_deadline(clock))) for _ in range(n)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert limiter.waiting == n
    return tasks


async def _cancel_all(tasks: list[asyncio.Task[float]]) -> None:
    for task in tasks:  # in arrival order: the oldest first
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert all(task.cancelled() for task in tasks)


class TestCancelledWaiters:
    @pytest.mark.parametrize("order", ["arrival", "newest first", "middle only"])
    async def test_cancelled_queue_leaves_no_debt(self, clock: FakeClock, order: str) -> None:
        """58 callers queued at 2/s and cancelled leave the next caller waiting one interval at most."""
        limiter = AdaptiveRateLimiter(2.0, ceiling=2.0, burst=1, clock=clock)
        await limiter.acquire(_deadline(clock))
        tasks = await _queue(limiter, clock, 58)
        if order == "newest first":
            tasks.reverse()
        if order == "middle only":
            keep = tasks[:1]
            tasks = tasks[1:]
            await _cancel_all(tasks)
            await asyncio.gather(*keep)
        else:
            await _cancel_all(tasks)
        start = clock.now()
        await limiter.acquire(_deadline(clock))
        assert clock.now() - start <= 0.5 + 1e-9
        assert limiter.waiting == 0

    async def test_waiters_behind_a_cancelled_one_move_up(self, clock: FakeClock) -> None:
        """Cancelling the head hands its turn on: the survivors keep one slot per interval."""
        limiter = AdaptiveRateLimiter(4.0, ceiling=4.0, burst=1, clock=clock)
        await limiter.acquire(_deadline(clock))
        start = clock.now()
        tasks = await _queue(limiter, clock, 4)
        tasks[0].cancel()
        tasks[2].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert [t.cancelled() for t in tasks] == [True, False, True, False]
        assert clock.now() - start == pytest.approx(0.5)  # two survivors, 0.25 s apart

    async def test_deadline_failure_in_the_queue_returns_the_slot(self, clock: FakeClock) -> None:
        """A queued caller whose deadline cannot cover the wait fails without reserving anything."""
        limiter = AdaptiveRateLimiter(1.0, ceiling=1.0, burst=1, clock=clock)
        await limiter.acquire(_deadline(clock))
        waiters = await _queue(limiter, clock, 3)
        for _ in range(5):
            with pytest.raises(DeadlineExceededError):
                await limiter.acquire(_deadline(clock, 2.0))
        await asyncio.gather(*waiters)
        start = clock.now()
        await limiter.acquire(_deadline(clock))
        assert clock.now() - start == pytest.approx(1.0)


class TestBrokenWalks:
    async def test_pager_walks_broken_after_page_one_cost_nothing(
        self, make_client: MakeClient, clock: FakeClock
    ) -> None:
        """Three list walks abandoned after their first item leave the next call undelayed."""

        async def pages(req: RecordedRequest) -> RawResponse:
            await clock.sleep(0.05)  # a little latency: later pages wait in the limiter meanwhile
            if not req.query("page"):
                return json_response(200, {"appointment_id": 1, "app_time": "2025-01-03T10:15:00"})
            page = int(req.query("page")[0])
            ids = range((page - 1) * 10 + 1, page * 10 + 1)
            return json_response(
                200,
                {
                    "appointments": [{"appointment_id": i, "app_time": "2025-01-03T10:15:00"} for i in ids],
                    "total_entries": 500,
                    "links": {"self": "x"},
                },
            )

        client, transport = make_client(pages, rate_limit=2.0, burst=1)
        for _ in range(3):
            async with client.appointments.list(page_size=10) as items:
                async for _item in items:
                    for _ in range(5):  # the window's fetches reach the limiter's queue
                        await asyncio.sleep(0)
                    break
        sent = len(transport.requests)
        # Let every walk's abandoned fetches finish leaving the queue.
        for _ in range(10):
            await asyncio.sleep(0)
        assert client.limiter.waiting == 0  # type: ignore[attr-defined]
        start = clock.now()
        appointment = await client.appointments.get(1, deadline=1.0)
        assert appointment.appointment_id == 1
        assert clock.now() - start <= 0.5 + 1e-9
        assert len(transport.requests) == sent + 1
