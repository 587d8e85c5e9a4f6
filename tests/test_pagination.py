"""The pagination engine: bounded concurrency, page order, changing totals, clean exits.

Fetches are controlled with per-page events, so completion order is chosen by the
test; nothing sleeps for real.
"""

from __future__ import annotations

import asyncio
import gc
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from operator import itemgetter
from typing import Any, TypeVar

import pytest

from pracsuite_async._clock import Deadline
from pracsuite_async._errors import PaginationError, PracSuiteError, RequestTypeError, RequestValidationError
from pracsuite_async._pagination import Page, Pager, walk_deadline
from pracsuite_async.testing import FakeClock

T = TypeVar("T")


class FetchError(Exception):
    """A fetch failure raised by the fake server."""


class Server:
    """A fake list endpoint over ``records``, with per-page gates and bookkeeping."""

    def __init__(
        self,
        count: int,
        *,
        page_size: int = 10,
        gated: bool = False,
        report_total: bool = True,
        fixed_total: int | None = None,
        serve_size: int | None = None,
    ) -> None:
        self.records = list(range(1, count + 1))
        self.page_size = page_size
        self.serve_size = serve_size or page_size  # a server may ignore page_size
        self.gated = gated
        self.report_total = report_total
        self.fixed_total = fixed_total
        self.gates: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.failures: dict[int, BaseException] = {}
        self.on_serve: Callable[[int], None] | None = None
        self.delays: dict[int, int] = {}
        self.requested: list[int] = []
        self.cancelled: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def release(self, *numbers: int) -> None:
        """Let the fetches of these pages complete."""
        for number in numbers:
            self.gates[number].set()

    async def fetch(self, number: int, size: int) -> Page[int]:
        """Serve one page, waiting for its gate when gated."""
        assert size == self.page_size
        self.requested.append(number)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gated:
                await self.gates[number].wait()
            for _ in range(self.delays.get(number, 1)):
                await asyncio.sleep(0)
            if number in self.failures:
                raise self.failures[number]
            if self.on_serve is not None:
                self.on_serve(number)
            start = (number - 1) * self.serve_size
            items = self.records[start : start + self.serve_size]
            total = self.fixed_total if self.fixed_total is not None else len(self.records)
            # links.next follows the real records; fixed_total only skews total_entries.
            has_next = start + len(items) < len(self.records)
            return Page(number, items, total if self.report_total else None, has_next)
        except asyncio.CancelledError:
            self.cancelled.append(number)
            raise
        finally:
            self.in_flight -= 1


async def settle(rounds: int = 30) -> None:
    """Let every ready task run for a while without real time passing."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def finish(awaitable: Awaitable[T]) -> T:
    """Await without real time, failing (rather than hanging) if it never finishes."""
    task = asyncio.ensure_future(awaitable)
    for _ in range(500):
        if task.done():
            return task.result()
        await asyncio.sleep(0)
    pytest.fail("the task did not finish: something is waiting forever")


def pages_of(*pages: list[int], total: int | None = None) -> Callable[[int, int], Any]:
    """A fetcher serving fixed pages (for dedupe tests where records are repeated)."""

    async def fetch(number: int, size: int) -> Page[int]:
        await asyncio.sleep(0)
        items = pages[number - 1] if number <= len(pages) else []
        return Page(number, items, total, number < len(pages))

    return fetch


@pytest.fixture(autouse=True, scope="module")
def _frozen_heap() -> Iterator[None]:
    """Exclude objects from before this module from collection, so each test's gc.collect() is cheap."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
async def no_loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """Fail the test if asyncio reports a destroyed pending task or an unretrieved exception."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    await settle()
    gc.collect()
    await settle()
    loop.set_exception_handler(None)
    assert errors == []


class TestOrder:
    async def test_strict_order_with_out_of_order_completion(self) -> None:
        """Pages finishing in reverse order are still yielded in page order, each once it is due."""
        server = Server(50, gated=True)
        got: list[int] = []

        async def consume() -> None:
            async for item in Pager(server.fetch, page_size=10):
                got.append(item)

        consumer = asyncio.create_task(consume())
        server.release(1)
        await settle()
        assert got == list(range(1, 11))
        assert sorted(server.requested) == [1, 2, 3, 4, 5]
        server.release(5, 4, 3)
        await settle()
        assert got == list(range(1, 11))
        server.release(2)
        await finish(consumer)
        assert got == list(range(1, 51))

    async def test_unordered_yields_as_completed(self) -> None:
        """With ordered=False pages come out in completion order."""
        server = Server(30, gated=True)
        got: list[int] = []

        async def consume() -> None:
            async for item in Pager(server.fetch, page_size=10, ordered=False):
                got.append(item)

        consumer = asyncio.create_task(consume())
        server.release(1)
        await settle()
        server.release(3)
        await settle()
        assert got == [*range(1, 11), *range(21, 31)]
        server.release(2)
        await finish(consumer)
        assert got == [*range(1, 11), *range(21, 31), *range(11, 21)]

    async def test_unordered_waits_on_one_future_not_the_whole_window(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An unordered walk never waits on every fetch of its window per page (O(window) callbacks each)."""
        waited: list[int] = []
        real_wait = asyncio.wait

        async def counting_wait(fs: Any, *args: Any, **kwargs: Any) -> Any:
            fs = list(fs)
            waited.append(len(fs))
            return await real_wait(fs, *args, **kwargs)

        monkeypatch.setattr(asyncio, "wait", counting_wait)
        server = Server(400)
        items = await Pager(server.fetch, page_size=10, window=16, ordered=False).collect()
        assert sorted(items) == list(range(1, 401))
        assert all(n <= 1 for n in waited[:-1]), waited  # close() may wait on what is left, once

    async def test_window_never_exceeded(self) -> None:
        """However pages complete, no more than ``window`` fetches are in flight, and the window fills."""
        rng = random.Random(7)
        server = Server(400, gated=True)
        consumer = asyncio.create_task(Pager(server.fetch, page_size=10, window=5).collect())
        await settle()
        while not consumer.done():
            assert server.in_flight <= 5
            waiting = [n for n in set(server.requested) if not server.gates[n].is_set()]
            if waiting:
                server.release(rng.choice(waiting))
            await settle(rng.randint(1, 5))
        assert await finish(consumer) == list(range(1, 401))
        assert server.max_in_flight == 5
        assert sorted(server.requested) == list(range(1, 41))

    async def test_held_pages_bounded_by_window(self) -> None:
        """At most ``window`` fetches in flight, and at most twice that many pages held.

        Held: in flight, fetched and waiting for their turn, and the one being read.
        """
        rng = random.Random(3)
        server = Server(300, page_size=10)
        server.delays = {n: rng.randint(1, 12) for n in range(1, 31)}
        worst_held = worst_in_flight = 0
        async for item in Pager(server.fetch, page_size=10, window=4):
            page = (item - 1) // 10 + 1
            worst_held = max(worst_held, len(server.requested) - (page - 1))
            worst_in_flight = max(worst_in_flight, server.in_flight)
            await asyncio.sleep(0)  # a slow consumer lets fetches run ahead
        assert worst_held == 8
        assert worst_in_flight == 4
        assert server.max_in_flight <= 4

    async def test_fetchers_go_on_to_the_next_page(self) -> None:
        """A walk of 40 pages runs on a window's worth of fetcher tasks, not a task per page.

        A fetcher that has handed over its page fetches the next in the same step, so one
        request's objects are freed as the next one's are made (as in a plain fan-out).
        """
        loop = asyncio.get_running_loop()
        created: list[asyncio.Task[Any]] = []
        factory = loop.get_task_factory()

        def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            task = factory(loop, coro, **kwargs) if factory else asyncio.Task(coro, loop=loop, **kwargs)
            created.append(task)  # named after the factory returns (Python 3.11)
            return task

        loop.set_task_factory(counting)  # type: ignore[arg-type]
        try:
            assert await Pager(Server(400).fetch, page_size=10, window=4).collect() == list(range(1, 401))
        finally:
            loop.set_task_factory(factory)
        assert 1 <= len(created) <= 1 + 4  # page 1 alone, then the window
        assert all(task.get_name().startswith("pracsuite-page-fetcher-") for task in created)

    async def test_window_one_is_sequential(self) -> None:
        """window=1 fetches one page at a time."""
        server = Server(35)
        assert await Pager(server.fetch, page_size=10, window=1).collect() == list(range(1, 36))
        assert server.max_in_flight == 1
        assert server.requested == [1, 2, 3, 4]


class TestShapes:
    async def test_empty_result(self) -> None:
        """total_entries 0 ends the walk after page 1 with no items."""
        server = Server(0)
        pager = Pager(server.fetch, page_size=10)
        assert await pager.collect() == []
        assert server.requested == [1]
        assert (pager.pages_fetched, pager.items_yielded, pager.total_entries) == (1, 0, 0)

    async def test_last_partial_page(self) -> None:
        """A partial last page is yielded and nothing past it is fetched."""
        server = Server(25)
        assert await Pager(server.fetch, page_size=10).collect() == list(range(1, 26))
        assert sorted(server.requested) == [1, 2, 3]

    async def test_exactly_full_last_page(self) -> None:
        """When the total divides evenly no extra empty page is requested."""
        server = Server(30)
        assert await Pager(server.fetch, page_size=10).collect() == list(range(1, 31))
        assert sorted(server.requested) == [1, 2, 3]

    async def test_follows_has_next_without_total(self) -> None:
        """Without total_entries the pager follows links.next, prefetching only the next page."""
        server = Server(25, gated=True, report_total=False)
        pages = Pager(server.fetch, page_size=10, window=8).pages()
        server.release(1)
        first = await anext(pages)
        await settle()
        assert first.items == list(range(1, 11))
        assert server.requested == [1, 2]
        server.release(2, 3)
        rest = [page.items async for page in pages]
        assert rest == [list(range(11, 21)), list(range(21, 26))]
        assert server.requested == [1, 2, 3]
        assert server.max_in_flight == 1

    async def test_has_next_full_last_page(self) -> None:
        """Without total_entries a full page with no next link ends the walk."""
        server = Server(20, report_total=False)
        assert await Pager(server.fetch, page_size=10).collect() == list(range(1, 21))
        assert server.requested == [1, 2]

    async def test_empty_page_with_next_link_stops(self) -> None:
        """An empty page ends the walk even if it claims a next page, so a bad server cannot loop us."""
        fetch = pages_of([1, 2], [], [3])

        async def lying(number: int, size: int) -> Page[int]:
            page: Page[int] = await fetch(number, size)
            return Page(page.number, page.items, None, True)

        assert await Pager(lying, page_size=2).collect() == [1, 2]


class TestChangingData:
    async def test_total_grows(self) -> None:
        """A larger total_entries reported by a later page schedules the extra pages."""
        server = Server(30)
        server.on_serve = lambda n: server.records.extend(range(31, 51)) if n == 2 else None
        assert await Pager(server.fetch, page_size=10).collect() == list(range(1, 51))
        assert sorted(server.requested) == [1, 2, 3, 4, 5]

    async def test_total_shrinks(self) -> None:
        """A smaller total_entries cancels pages past the new end."""
        server = Server(50, gated=True)
        consumer = asyncio.create_task(Pager(server.fetch, page_size=10).collect())
        server.release(1)
        await settle()
        assert sorted(server.requested) == [1, 2, 3, 4, 5]
        del server.records[25:]
        server.release(2)
        await settle()
        assert sorted(server.cancelled) == [4, 5]
        server.release(3)
        assert await finish(consumer) == list(range(1, 26))

    async def test_short_page_before_expected_end(self) -> None:
        """A short page before the reported end stops the walk after it and cancels the rest."""
        server = Server(25, gated=True, fixed_total=50)
        consumer = asyncio.create_task(Pager(server.fetch, page_size=10).collect())
        server.release(1, 2)
        await settle()
        server.release(3)
        assert await finish(consumer) == list(range(1, 26))
        assert sorted(server.cancelled) == [4, 5]

    async def test_full_page_outranks_a_smaller_total(self) -> None:
        """Unordered, a tiny total cancels only the pages that no links.next proves; the rest still arrive."""
        server = Server(50, gated=True)
        got: list[int] = []

        async def consume() -> None:
            async for item in Pager(server.fetch, page_size=10, ordered=False):
                got.append(item)

        consumer = asyncio.create_task(consume())
        server.release(1)
        await settle()
        server.fixed_total = 10
        server.release(3)
        await settle()
        assert sorted(server.cancelled) == [5]  # page 3's links.next proves page 4
        server.release(2, 4, 5)
        await finish(consumer)
        assert got == [*range(1, 11), *range(21, 31), *range(11, 21), *range(31, 41), *range(41, 51)]

    async def test_shrink_then_grow_refetches_cancelled_pages(self) -> None:
        """Pages cancelled by a shrink are fetched again when the total grows back."""
        server = Server(50, gated=True)
        consumer = asyncio.create_task(Pager(server.fetch, page_size=10).collect())
        server.release(1)
        await settle()
        saved = server.records[30:]
        del server.records[30:]
        server.release(2)
        await settle()
        assert sorted(server.cancelled) == [4, 5]
        server.records.extend(saved)
        server.gates[4].clear()
        server.gates[5].clear()
        server.release(3, 4, 5)
        assert await finish(consumer) == list(range(1, 51))
        assert sorted(server.requested) == [1, 2, 3, 4, 4, 5, 5]

    async def test_a_fetch_that_swallows_the_cancel_of_a_dropped_page(
        self, no_loop_errors: list[dict[str, Any]]
    ) -> None:
        """A dropped page whose fetch ignores the cancel and returns anyway is let go quietly.

        Its fetcher ends while the walk goes on (pages 3 and 4), so nothing but the fetcher
        itself could retrieve a failure of its own.
        """
        dropped = asyncio.Event()

        async def fetch(number: int, size: int) -> Page[int]:
            items = list(range((number - 1) * size + 1, number * size + 1))
            if number == 5:
                try:
                    await asyncio.Event().wait()  # never set: only the drop ends it
                except asyncio.CancelledError:
                    dropped.set()  # and return a page anyway, as a careless fetcher might
            else:
                for _ in range(3):
                    await asyncio.sleep(0)
            return Page(number, items, 40 if number >= 2 else 50, False)

        assert await Pager(fetch, page_size=10, window=2).collect() == list(range(1, 41))
        assert dropped.is_set()

    async def test_grow_while_cancelled_fetchers_still_hold_the_window(self) -> None:
        """The total shrinks, then grows back before the cancelled fetchers have finished: the walk waits for them.

        Nothing is pending then and the window is full of fetchers on their way out; ending
        the walk there would truncate it silently at page 3.
        """
        totals = {2: 30}  # page 2 says 30 records; every other page says 100
        requested: list[int] = []

        async def fetch(number: int, size: int) -> Page[int]:
            requested.append(number)
            await asyncio.sleep(0)
            items = list(range((number - 1) * size + 1, number * size + 1))
            return Page(number, items, totals.get(number, 100), False)

        got = [item async for item in Pager(fetch, page_size=10, window=3)]
        assert got == list(range(1, 101))
        assert sorted(set(requested)) == list(range(1, 11))
        assert len(requested) > 10  # pages cancelled by the shrink were fetched again


class TestDedupe:
    async def test_insert_shifts_records_without_key(self) -> None:
        """Without a key, a record inserted at the front makes the boundary record appear twice."""
        server = Server(30)
        server.on_serve = lambda n: server.records.insert(0, 0) if n == 2 else None
        got = await Pager(server.fetch, page_size=10, window=1).collect()
        assert got.count(10) == 2

    async def test_key_drops_shifted_duplicates(self) -> None:
        """With a key, the shifted duplicate is dropped."""
        server = Server(30)
        server.on_serve = lambda n: server.records.insert(0, 0) if n == 2 else None
        pager = Pager(server.fetch, page_size=10, window=1, key=lambda x: x)
        assert await pager.collect() == list(range(1, 31))
        assert pager.items_yielded == 30

    @pytest.mark.parametrize("order", ["descending", "shuffled", "interleaved"])
    async def test_no_order_is_assumed(self, order: str) -> None:
        """Records in any server order are each yielded exactly once: nothing is dropped as "out of order"."""
        server = Server(250)
        if order == "descending":
            server.records.reverse()
        elif order == "shuffled":
            random.Random(5).shuffle(server.records)
        else:
            server.records = [*range(2, 251, 2), *range(1, 250, 2)]
        got = await Pager(server.fetch, page_size=10, key=lambda x: x).collect()
        assert got == server.records
        assert sorted(got) == list(range(1, 251))

    async def test_duplicate_across_a_page_boundary_in_any_order(self) -> None:
        """A key seen on the previous page is dropped even when keys go down, and only that one."""
        fetch = pages_of([9, 7], [7, 3], [8, 1], total=6)
        assert await Pager(fetch, page_size=2, key=lambda x: x).collect() == [9, 7, 3, 8, 1]

    @pytest.mark.parametrize("bad", [None, {"id": 1}, [1], "7"])
    async def test_unusable_keys_never_raise_or_drop(self, bad: object) -> None:
        """Items whose key is None or unhashable are kept as they are, never a raw TypeError."""
        fetch = pages_of([bad, 1], [bad, 2], [3, bad], total=6)
        got = await Pager(fetch, page_size=2, key=lambda x: x).collect()
        if isinstance(bad, str):  # a hashable key still dedupes: "7" seen twice
            assert got == [bad, 1, 2, 3]
        else:
            assert got == [bad, 1, bad, 2, 3, bad]

    async def test_key_memory_stays_flat(self) -> None:
        """Over a 200-page walk the keys held at once stay a small multiple of the window, not the walk."""

        class Token:
            live = 0

            def __init__(self, value: int) -> None:
                self.value = value
                Token.live += 1

            def __del__(self) -> None:
                Token.live -= 1

            def __hash__(self) -> int:
                return hash(self.value)

            def __eq__(self, other: object) -> bool:
                return isinstance(other, Token) and other.value == self.value

        server = Server(2000)
        worst = 0
        count = 0
        async for _item in Pager(server.fetch, page_size=10, window=3, key=Token):
            count += 1
            worst = max(worst, Token.live)
        assert count == 2000
        # Dedupe keeps 2 * window + 1 pages of keys and repeat detection 2 * window + 2 pages of
        # signatures: the same key lists, so about ten pages of keys at window=3.
        assert worst <= (2 * 3 + 4) * 10

    async def test_key_memory_is_bounded(self) -> None:
        """Keys older than 2 * window + 1 pages are forgotten, so memory stays bounded."""
        fetch = pages_of([1, 2], [3, 4], [5, 6], [7, 8], [2, 7], total=10)
        pager = Pager(fetch, page_size=2, window=1, key=lambda x: x)
        # window=1 remembers 2 * 1 + 1 pages, 2 to 4: 7 is a duplicate, 2 (page 1) is not.
        assert await pager.collect() == [1, 2, 3, 4, 5, 6, 7, 8, 2]

    async def test_key_with_attrgetter_style_function(self) -> None:
        """Any key function works, e.g. itemgetter on dict records."""

        async def fetch(number: int, size: int) -> Page[dict[str, int]]:
            await asyncio.sleep(0)
            rows = [[{"id": 1}, {"id": 2}], [{"id": 2}, {"id": 3}]][number - 1]
            return Page(number, rows, 4, number < 2)

        pager = Pager(fetch, page_size=2, key=itemgetter("id"))
        assert [row["id"] for row in await pager.collect()] == [1, 2, 3]


class TestFailures:
    async def test_error_surfaces_at_its_position(self) -> None:
        """A failed page raises after every earlier page was yielded, and later fetches are cancelled."""
        server = Server(50, gated=True)
        failure = FetchError("page 3")
        server.failures[3] = failure
        got: list[int] = []

        async def consume() -> None:
            async for item in Pager(server.fetch, page_size=10):
                got.append(item)

        consumer = asyncio.create_task(consume())
        server.release(1)
        await settle()
        server.release(3)
        await settle()
        assert got == list(range(1, 11))
        assert not consumer.done()
        server.release(2)
        with pytest.raises(FetchError) as info:
            await finish(consumer)
        assert info.value is failure
        assert got == list(range(1, 21))
        assert sorted(server.cancelled) == [4, 5]
        assert server.in_flight == 0

    async def test_error_past_a_short_page_is_dropped(self) -> None:
        """A failure on a page after the data's end is discarded, without asyncio logging it."""
        server = Server(25, gated=True, fixed_total=50)
        server.failures[4] = FetchError("page 4")
        consumer = asyncio.create_task(Pager(server.fetch, page_size=10).collect())
        server.release(1)
        await settle()
        server.release(4, 5)
        await settle()
        server.release(2, 3)
        assert await finish(consumer) == list(range(1, 26))

    async def test_first_page_error(self) -> None:
        """A failure on page 1 raises before anything is yielded."""
        server = Server(50)
        server.failures[1] = FetchError("page 1")
        pager = Pager(server.fetch, page_size=10)
        with pytest.raises(FetchError):
            await pager.collect()
        assert pager.items_yielded == 0

    async def test_unordered_error_after_completed_pages(self) -> None:
        """Unordered, pages that finished together with a failure are yielded before it is raised."""
        server = Server(50, gated=True)
        server.failures[2] = FetchError("page 2")
        got: list[int] = []

        async def consume() -> None:
            async for item in Pager(server.fetch, page_size=10, ordered=False):
                got.append(item)

        consumer = asyncio.create_task(consume())
        server.release(1)
        await settle()
        server.release(2, 4)
        with pytest.raises(FetchError):
            await finish(consumer)
        assert got == [*range(1, 11), *range(31, 41)]
        assert sorted(server.cancelled) == [3, 5]

    async def test_consumer_cancellation_propagates(self) -> None:
        """Cancelling the consumer cancels and awaits every fetch, and the CancelledError is not swallowed."""
        server = Server(50, gated=True)
        consumer = asyncio.create_task(Pager(server.fetch, page_size=10).collect())
        server.release(1)
        await settle()
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await finish(consumer)
        assert consumer.cancelled()
        assert sorted(server.cancelled) == [2, 3, 4, 5]
        assert server.in_flight == 0


class TestEarlyExit:
    async def test_break_cancels_in_flight(self, no_loop_errors: list[dict[str, Any]]) -> None:
        """Breaking out of ``async for`` cancels and awaits every in-flight fetch once asyncio finalises it."""
        server = Server(80, gated=True)
        server.release(1)
        async for _item in Pager(server.fetch, page_size=10, window=4):
            break
        await settle()
        assert sorted(server.cancelled) == [2, 3, 4, 5]  # the window's four fetches
        assert server.in_flight == 0
        assert no_loop_errors == []

    async def test_async_with_closes_deterministically(self) -> None:
        """Leaving ``async with`` cancels in-flight fetches before the next statement runs."""
        server = Server(80, gated=True)
        server.release(1)
        pager = Pager(server.fetch, page_size=10, window=4)

        async def use() -> None:
            async with pager as items:
                assert await anext(items) == 1
                await settle()
                assert server.in_flight == 4  # the window, while the caller has page 1
            assert sorted(server.cancelled) == [2, 3, 4, 5]

        await finish(use())
        assert sorted(server.cancelled) == [2, 3, 4, 5]
        assert server.in_flight == 0

    async def test_async_with_cannot_nest(self) -> None:
        """Entering the same pager twice at once is an error rather than a silent leak."""
        pager = Pager(Server(10).fetch, page_size=10)
        async with pager:
            with pytest.raises(RuntimeError, match="already open"):
                await pager.__aenter__()

    async def test_pages_aclose_cancels(self) -> None:
        """Closing a pages() iterator early cancels in-flight fetches."""
        server = Server(80, gated=True)
        server.release(1)
        pages = Pager(server.fetch, page_size=10, window=3).pages()
        assert (await anext(pages)).number == 1
        await settle()
        await finish(pages.aclose())
        assert sorted(server.cancelled) == [2, 3, 4]

    async def test_max_items(self) -> None:
        """max_items yields exactly that many items and fetches only the pages it needs."""
        server = Server(100)
        pager = Pager(server.fetch, page_size=10, max_items=15)
        assert await pager.collect() == list(range(1, 16))
        assert sorted(server.requested) == [1, 2]
        assert (pager.items_yielded, pager.pages_fetched) == (15, 2)
        assert server.in_flight == 0

    async def test_max_items_tops_up_after_duplicates(self) -> None:
        """When dedupe drops items, max_items fetches further pages until it is reached."""
        fetch = pages_of([1, 2], [2, 3], [3, 4], [5, 6], total=8)
        pager = Pager(fetch, page_size=2, max_items=4, key=lambda x: x)
        assert await pager.collect() == [1, 2, 3, 4]
        assert pager.pages_fetched == 3

    async def test_max_items_cancels_in_flight(self) -> None:
        """Reaching max_items cancels fetches still in flight (here a server sending oversized pages)."""
        server = Server(100, gated=True, serve_size=20)
        consumer = asyncio.create_task(Pager(server.fetch, page_size=10, max_items=35).collect())
        server.release(1)
        await settle()
        assert sorted(server.requested) == [1, 2, 3]
        server.release(2)
        assert await finish(consumer) == list(range(1, 36))
        assert server.cancelled == [3]
        assert server.in_flight == 0

    async def test_max_items_zero(self) -> None:
        """max_items=0 fetches nothing."""
        server = Server(10)
        assert await Pager(server.fetch, max_items=0, page_size=10).collect() == []
        assert server.requested == []


class TestSurface:
    async def test_collect_to_list_pages_and_async_with_agree(self) -> None:
        """collect, to_list, pages and async with all give the same items."""
        pager = Pager(Server(23).fetch, page_size=10)
        expected = list(range(1, 24))
        assert await pager.collect() == expected
        assert await pager.to_list() == expected
        assert [item for page in [p async for p in pager.pages()] for item in page.items] == expected
        async with pager as items:
            assert [item async for item in items] == expected

    async def test_await_says_how_to_iterate(self) -> None:
        """Awaiting a pager raises a TypeError that names 'async for' and collect(), and fetches nothing."""
        server = Server(23)
        with pytest.raises(TypeError, match=r"async for .*await pager\.collect\(\)"):
            await Pager(server.fetch, page_size=10)  # type: ignore[misc]
        assert server.requested == []

    async def test_pages_carry_numbers_and_totals(self) -> None:
        """pages() yields Page objects with their numbers, totals and next flags."""
        pages = [p async for p in Pager(Server(23).fetch, page_size=10).pages()]
        assert [(p.number, len(p.items), p.total_entries, p.has_next) for p in pages] == [
            (1, 10, 23, True),
            (2, 10, 23, True),
            (3, 3, 23, False),
        ]

    async def test_fetch_may_be_any_function_returning_an_awaitable(self) -> None:
        """A plain function returning an awaitable is run inside the page's task, like a coroutine function."""
        server = Server(23)
        calls: list[int] = []

        def fetch(number: int, size: int) -> Awaitable[Page[int]]:
            calls.append(number)
            return server.fetch(number, size)

        assert await Pager(fetch, page_size=10).collect() == list(range(1, 24))
        assert calls == [1, 2, 3]

    async def test_a_walk_inside_a_fetch_sees_its_own_deadline(self) -> None:
        """A walk started by another walk's fetch does not inherit the outer walk's deadline."""
        outer_deadline = Deadline(FakeClock(), 60.0, method="GET", path="/appointments")
        seen: list[Deadline | None] = []

        async def inner_fetch(number: int, size: int) -> Page[int]:
            seen.append(walk_deadline())
            return Page(number, [number], 1, False)

        async def outer_fetch(number: int, size: int) -> Page[int]:
            seen.append(walk_deadline())
            inner = await Pager(inner_fetch, page_size=1).collect()
            return Page(number, inner, 1, False)

        walk = Pager(outer_fetch, page_size=1, deadline=lambda: outer_deadline)
        assert await walk.collect() == [1]
        assert seen == [outer_deadline, None]

    async def test_stats_reset_per_walk(self) -> None:
        """pages_fetched and items_yielded (whole pages handed out) count the latest walk, for progress bars."""
        pager = Pager(Server(23).fetch, page_size=10)
        seen = []
        async for _ in pager:
            seen.append((pager.pages_fetched, pager.items_yielded))
        assert seen[0][1] == 10
        assert seen[-1][1] == 23
        assert (pager.pages_fetched, pager.items_yielded, pager.total_entries) == (3, 23, 23)
        await pager.collect()
        assert (pager.pages_fetched, pager.items_yielded) == (3, 23)
        assert "pages_fetched=3" in repr(pager)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"page_size": 0}, "page_size"),
            ({"page_size": 101}, "page_size"),
            ({"window": 0}, "window"),
            ({"max_items": -1}, "max_items"),
            ({"start_page": 0}, "start_page"),
            ({"max_pages": 0}, "max_pages"),
        ],
    )
    def test_invalid_arguments(self, kwargs: dict[str, Any], field: str) -> None:
        """Out-of-range or contradictory settings raise RequestValidationError naming the argument."""
        with pytest.raises(RequestValidationError) as info:
            Pager(Server(1).fetch, **kwargs)
        assert info.value.field == field

    @pytest.mark.parametrize(
        "kwargs", [{"page_size": True}, {"window": 2.0}, {"max_items": "5"}, {"start_page": "2"}, {"max_pages": 1.5}]
    )
    def test_wrong_argument_types(self, kwargs: dict[str, Any]) -> None:
        """Non-integer sizes raise RequestTypeError."""
        with pytest.raises(RequestTypeError):
            Pager(Server(1).fetch, **kwargs)


async def drain(pager: Pager[int], into: list[int]) -> None:
    """Append every item of a walk to ``into``, so items before an error stay visible."""
    async for item in pager:
        into.append(item)


def ignoring_page(count: int, *, shuffle: bool = False) -> Callable[[int, int], Any]:
    """A fetcher that serves page 1 whatever page is asked for (optionally reshuffled each time)."""
    calls = [0]

    async def fetch(number: int, size: int) -> Page[int]:
        await asyncio.sleep(0)
        calls[0] += 1
        items = list(range(1, min(size, count) + 1))
        if shuffle:
            random.Random(calls[0]).shuffle(items)
        return Page(number, items, count, size < count)

    return fetch


def claims(count: int, *, total: object, has_next: str = "real") -> Callable[[int, int], Any]:
    """A fetcher over ``count`` records whose ``total_entries`` is ``total`` and whose next link is
    ``real`` (there are more records), ``never`` or ``always``."""

    async def fetch(number: int, size: int) -> Page[int]:
        await asyncio.sleep(0)
        start = (number - 1) * size
        items = list(range(start + 1, min(start + size, count) + 1))
        more = {"real": start + len(items) < count, "never": False, "always": True}[has_next]
        return Page(number, items, total, more)  # type: ignore[arg-type]

    return fetch


class TestServerDisagrees:
    @pytest.mark.parametrize(
        ("key", "shuffle"),
        [(None, False), (lambda x: x, False), (lambda x: x, True)],
        ids=["no-key", "key", "key-reshuffled"],
    )
    async def test_page_ignored_raises(self, key: Callable[[int], int] | None, *, shuffle: bool) -> None:
        """A server answering every page with page 1 raises PaginationError after page 1, not 100 of 500."""
        pager = Pager(ignoring_page(500, shuffle=shuffle), page_size=100, key=key)
        got: list[int] = []
        with pytest.raises(PaginationError) as info:
            await drain(pager, got)
        assert info.value.page == 2
        assert sorted(got) == list(range(1, 101))
        assert pager.resume_page == 2
        assert isinstance(info.value, PracSuiteError)

    async def test_page_ignored_unordered(self) -> None:
        """Unordered, a repeated page is still recognised whichever neighbour arrives first."""
        with pytest.raises(PaginationError):
            await Pager(ignoring_page(500), page_size=100, ordered=False, key=lambda x: x).collect()

    @pytest.mark.parametrize("total", [-5, True, False, "300", 3.0, None])
    async def test_malformed_total_follows_next(self, total: object) -> None:
        """A negative, bool or non-int total_entries is ignored and links.next is followed: 300 of 300."""
        pager = Pager(claims(300, total=total), page_size=100)
        assert await pager.collect() == list(range(1, 301))
        assert pager.total_entries is None

    async def test_small_total_with_next_follows_next(self) -> None:
        """A total saying one page while links.next says more: the walk follows next to the end."""
        assert await Pager(claims(300, total=100), page_size=100).collect() == list(range(1, 301))

    async def test_next_missing_while_total_says_more(self) -> None:
        """No links.next but total_entries says 300: the pages the count implies are fetched."""
        assert await Pager(claims(300, total=300, has_next="never"), page_size=100).collect() == list(range(1, 301))

    async def test_endless_next_is_bounded_by_max_pages(self) -> None:
        """A server whose links.next never ends raises PaginationError at max_pages after yielding those pages."""
        pager = Pager(claims(10**9, total=None, has_next="always"), page_size=10, max_pages=5)
        got: list[int] = []
        with pytest.raises(PaginationError) as info:
            await drain(pager, got)
        assert got == list(range(1, 51))
        assert info.value.page == 6
        assert pager.resume_page == 6

    async def test_total_beyond_max_pages_raises(self) -> None:
        """A count implying more pages than max_pages raises instead of stopping silently."""
        with pytest.raises(PaginationError):
            await Pager(claims(100, total=100), page_size=10, max_pages=3).collect()

    async def test_max_pages_exactly_enough(self) -> None:
        """A walk needing exactly max_pages pages completes without error."""
        assert await Pager(claims(30, total=30), page_size=10, max_pages=3).collect() == list(range(1, 31))

    async def test_short_page_with_next_continues(self) -> None:
        """A server capping pages below page_size (short pages with links.next) is followed to the end."""

        async def capped(number: int, size: int) -> Page[int]:
            del size
            await asyncio.sleep(0)
            start = (number - 1) * 5
            items = list(range(start + 1, min(start + 5, 23) + 1))
            return Page(number, items, 23, start + len(items) < 23)

        assert await Pager(capped, page_size=10).collect() == list(range(1, 24))


class TestResume:
    async def test_start_page(self) -> None:
        """start_page begins the walk there and fetches nothing before it."""
        server = Server(50)
        pager = Pager(server.fetch, page_size=10, start_page=3)
        assert await pager.collect() == list(range(21, 51))
        assert min(server.requested) == 3
        assert pager.resume_page == 6

    async def test_resume_after_failure_repeats_nothing(self) -> None:
        """After a failed page, resume_page restarts exactly there: every record once across both walks."""
        server = Server(50)
        server.failures[4] = FetchError("page 4")
        pager = Pager(server.fetch, page_size=10)
        got: list[int] = []
        with pytest.raises(FetchError):
            await drain(pager, got)
        del server.failures[4]
        got += await Pager(server.fetch, page_size=10, start_page=pager.resume_page).collect()
        assert got == list(range(1, 51))

    async def test_start_page_past_the_end(self) -> None:
        """A start_page beyond the data yields nothing and stops after one request."""
        server = Server(20)
        assert await Pager(server.fetch, page_size=10, start_page=7).collect() == []
        assert server.requested == [7]
