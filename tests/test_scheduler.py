"""The scheduler in front of the limiter: priority lanes, round-robin accounts, clean cancellation."""

from __future__ import annotations

import asyncio

import pytest

from pracsuite_async._scheduler import BULK_EVERY, Priority, Scheduler


async def _run(sched: Scheduler, calls: list[tuple[str, Priority]]) -> list[str]:
    """Queue ``calls`` behind a held turn, release it, and return the order the turns were granted."""
    order: list[str] = []
    gate = asyncio.Event()

    async def holder() -> None:
        async with sched.turn("holder"):
            await gate.wait()

    async def call(name: str, priority: Priority) -> None:
        async with sched.turn(name.split(".", maxsplit=1)[0], priority):
            order.append(name)
            await asyncio.sleep(0)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(call(n, p)) for n, p in calls]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *tasks)
    return order


class TestScheduler:
    async def test_free_turn_is_granted_at_once(self) -> None:
        """With nobody waiting, a turn is granted without queueing."""
        sched = Scheduler()
        async with sched.turn("a"):
            assert sched.waiting == 0
        assert "busy=False" in repr(sched)

    async def test_accounts_take_turns_round_robin(self) -> None:
        """A bulk account's queued calls do not delay another account by more than one turn."""
        calls: list[tuple[str, Priority]] = [(f"bulk.{i}", "interactive") for i in range(6)]
        calls += [("a.0", "interactive"), ("b.0", "interactive")]
        order = await _run(Scheduler(), calls)
        assert order[:4] == ["bulk.0", "a.0", "b.0", "bulk.1"]
        assert sorted(order) == sorted(n for n, _ in calls)

    async def test_interactive_goes_before_bulk(self) -> None:
        """Queued interactive calls are served before queued bulk ones."""
        order = await _run(Scheduler(), [("x.0", "bulk"), ("y.0", "interactive")])
        assert order == ["y.0", "x.0"]

    async def test_bulk_is_never_starved(self) -> None:
        """After BULK_EVERY interactive turns in a row, a waiting bulk call goes next."""
        calls: list[tuple[str, Priority]] = [("bulk.0", "bulk")]
        calls += [(f"i{k}.0", "interactive") for k in range(BULK_EVERY + 3)]
        order = await _run(Scheduler(), calls)
        assert order.index("bulk.0") == BULK_EVERY

    async def test_cancelled_waiter_leaves_the_queue(self) -> None:
        """A waiter cancelled in the queue is removed and never granted a turn."""
        sched = Scheduler()
        granted: list[str] = []

        async def call(name: str) -> None:
            async with sched.turn(name):
                granted.append(name)

        async with sched.turn("holder"):
            doomed = asyncio.create_task(call("doomed"))
            kept = asyncio.create_task(call("kept"))
            await asyncio.sleep(0)
            assert sched.waiting == 2
            doomed.cancel()
            with pytest.raises(asyncio.CancelledError):
                await doomed
            assert sched.waiting == 1
        await kept
        assert granted == ["kept"]
        assert "busy=False" in repr(sched)

    async def test_waiting_counts_queued_callers_through_cancellations(self) -> None:
        """``waiting`` (kept as a counter) follows queueing, cancels anywhere in the queues and grants."""
        sched = Scheduler()
        holder = sched.turn("holder")
        await holder.__aenter__()

        async def call(account: str, priority: Priority) -> None:
            async with sched.turn(account, priority):
                await asyncio.sleep(0)

        tasks = [
            asyncio.create_task(call(f"a{i % 3}", "bulk" if i % 4 == 0 else "interactive")) for i in range(12)
        ]
        await asyncio.sleep(0)
        assert sched.waiting == 12
        for task in tasks[1::3]:
            task.cancel()
        await asyncio.sleep(0)
        assert sched.waiting == 8
        await holder.__aexit__(None, None, None)
        await asyncio.gather(*tasks, return_exceptions=True)
        assert sched.waiting == 0
        assert "busy=False" in repr(sched)

    async def test_granted_then_cancelled_passes_the_turn_on(self) -> None:
        """A waiter cancelled after its turn was granted, before running, hands the turn to the next."""
        sched = Scheduler()
        granted: list[str] = []

        async def call(name: str) -> None:
            async with sched.turn(name):
                granted.append(name)

        holder = sched.turn("holder")
        await holder.__aenter__()
        first = asyncio.create_task(call("first"))
        second = asyncio.create_task(call("second"))
        await asyncio.sleep(0)
        await holder.__aexit__(None, None, None)  # grants "first", which has not run yet
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await second
        assert granted == ["second"]
        assert sched.waiting == 0
        assert "busy=False" in repr(sched)
