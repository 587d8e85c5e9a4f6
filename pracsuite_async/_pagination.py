"""The pagination engine: a bounded, ordered, cancellable walk over a list operation.

The API pages with ``page``/``page_size`` and answers ``total_entries`` plus
``links.next`` (README "Pagination"). :class:`Pager` drives any page-fetch function
``fetch(page_number, page_size) -> Page[T]``: it reads page 1, derives the page
count from ``total_entries``, then fetches the remaining pages concurrently with at
most ``window`` pages held at once, and yields them in page order. The fetch function
owns HTTP, retries and rate limiting; this module only decides which pages to
request and when, so it has no I/O of its own and is tested with fake fetchers.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeAlias, TypeVar

import attrs

from pracsuite_async._clock import Deadline
from pracsuite_async._errors import RequestTypeError, RequestValidationError

__all__ = ["Page", "PageFetcher", "Pager", "walk_deadline"]

T = TypeVar("T")

#: The API caps ``page_size`` at 100 (README "Pagination").
MAX_PAGE_SIZE = 100


@attrs.frozen
class Page(Generic[T]):
    """One page of a list response.

    Attributes:
        number: The 1-based page number.
        items: The page's records, in the server's order.
        total_entries: The server's count of all matching records, when it sent one.
        has_next: Whether the response carried a ``links.next`` link.
    """

    number: int
    items: list[T]
    total_entries: int | None
    has_next: bool


#: ``fetch(page_number, page_size)`` returning that page; HTTP, retries and pacing live in it.
PageFetcher: TypeAlias = Callable[[int, int], Awaitable[Page[T]]]

_NO_KEY: Any = object()

# Set inside each fetch task (a task runs in its own copy of the context), so a
# fetcher reads the deadline of the walk that started it, even with walks of one
# Pager running concurrently.
_WALK_DEADLINE: ContextVar[Deadline | None] = ContextVar("pracsuite_walk_deadline", default=None)


def walk_deadline() -> Deadline | None:
    """The :class:`Deadline` of the walk whose page is being fetched (for fetch functions)."""
    return _WALK_DEADLINE.get()


def _failed(task: asyncio.Task[Any]) -> bool:
    return task.cancelled() or task.exception() is not None


class Pager(Generic[T]):
    """Every item of a list operation, fetched page by page with bounded concurrency.

    Use it as ``async for item in pager``, ``async with pager as items``,
    ``await pager.collect()`` or ``async for page in pager.pages()``. Each of these
    starts a fresh walk from page 1.

    How it walks: page 1 is fetched alone; its ``total_entries`` gives the page count
    and the rest are fetched concurrently, never more than ``window`` pages held at
    once (in flight, finished but waiting for their turn, and the one being consumed
    all count), so memory is bounded by ``window * page_size`` items. Pages are
    yielded in page order (with ``ordered=False``, as they arrive), and each page's
    ``total_entries`` is read as it is yielded: a different count changes the plan
    (more pages are fetched, pages past the new end are cancelled). A page shorter
    than ``page_size`` ends the walk: later pages are cancelled, or dropped if
    fetched but not yet yielded. Without ``total_entries`` the pager follows
    ``links.next`` (``has_next``) one page at a time, prefetching the next page while
    the current one is consumed; with it, ``has_next`` is not consulted.

    Errors and exits: a failed fetch raises its exception when its page's turn
    comes, after every earlier page was yielded; nothing is skipped silently. On an
    error, ``max_items``, ``break`` or cancellation, every in-flight fetch is
    cancelled and awaited before control returns (after ``break`` in a plain
    ``async for`` this happens when asyncio finalises the generator, on the next
    loop iteration; ``async with`` and :meth:`collect` close deterministically).

    Data changing during the walk: offset pagination cannot give a consistent
    snapshot. A record inserted before the current position shifts later records
    by one, so a record can be seen twice; pass ``key`` to drop such duplicates. A
    record deleted before the current position shifts later records back, so a
    record can be missed; this cannot be detected from the pages, so re-run the
    walk, or filter on ``modified`` for the window of the walk, when completeness
    matters. Records that exist and do not move for the whole walk are yielded
    exactly once.

    Progress: ``pages_fetched``, ``items_yielded`` and ``total_entries`` describe the
    latest walk and are updated as it runs, for progress bars; ``items_yielded``
    counts whole pages handed out, the page being iterated included.

    Args:
        fetch: ``fetch(page_number, page_size)`` returning that :class:`Page`.
        page_size: Records per page, 1..100.
        window: The most pages held at once; 1 fetches strictly one page at a time.
        ordered: Yield pages in page order (default) or as they arrive.
        max_items: Stop after this many items, cancelling fetches still in flight;
            pages that could not be needed are never requested.
        key: Identity of an item (e.g. ``operator.attrgetter("appointment_id")``),
            used to drop duplicates caused by records shifting between pages. Only
            keys of the last ``window + 1`` pages are remembered.
        key_ascending: The results are sorted by ``key`` ascending (the id sort), so
            any item whose key is not greater than the last one yielded is a
            duplicate; this needs O(1) memory. Requires ``key`` and ``ordered=True``.
            Use it only when that order is certain (the API's default order is not
            documented, so sort on the id explicitly): with any other order it drops
            records.
        deadline: Starts a walk's time budget; called once per walk, before page 1 is
            requested. Every fetch of that walk reads it with :func:`walk_deadline`,
            and the walk raises :class:`~pracsuite_async.DeadlineExceededError` at the
            next page boundary once it is spent, so the budget covers the first fetch
            up to the last item, the caller's own loop body included.

    Raises:
        RequestTypeError: An argument has the wrong type.
        RequestValidationError: An argument is out of range or the combination is invalid.
    """

    def __init__(
        self,
        fetch: PageFetcher[T],
        *,
        page_size: int = 100,
        window: int = 8,
        ordered: bool = True,
        max_items: int | None = None,
        key: Callable[[T], Any] | None = None,
        key_ascending: bool = False,
        deadline: Callable[[], Deadline | None] | None = None,
    ) -> None:
        _check_int("page_size", page_size, 1, MAX_PAGE_SIZE)
        _check_int("window", window, 1, None)
        if max_items is not None:
            _check_int("max_items", max_items, 0, None)
        if key_ascending and (key is None or not ordered):
            name = "key_ascending"
            msg = "needs key (each item's sort key) and ordered=True (pages arriving out of order)"
            raise RequestValidationError(name, msg)
        self._fetch = fetch
        self._page_size = page_size
        self._window = window
        self._ordered = ordered
        self._max_items = max_items
        self._key = key
        self._key_ascending = key_ascending
        self._deadline = deadline
        self._opened: AsyncGenerator[T, None] | None = None
        #: Pages fetched successfully in the latest walk.
        self.pages_fetched = 0
        #: Items handed to the caller in the latest walk.
        self.items_yielded = 0
        #: The latest ``total_entries`` the server reported, if any.
        self.total_entries: int | None = None

    def __repr__(self) -> str:
        return (
            f"<Pager page_size={self._page_size} window={self._window} ordered={self._ordered} "
            f"pages_fetched={self.pages_fetched} items_yielded={self.items_yielded}>"
        )

    def __aiter__(self) -> AsyncIterator[T]:
        """Walk every item; a new walk each time."""
        return self._items()

    if not TYPE_CHECKING:  # type checkers keep reporting ``await pager`` as an error

        def __await__(self) -> NoReturn:
            """Refuse ``await pager``, saying what to write instead (Python's own message does not)."""
            msg = (
                "a Pager is not awaitable: iterate it with 'async for item in pager', "
                "or use 'await pager.collect()' for a list"
            )
            raise TypeError(msg)

    def pages(self) -> AsyncGenerator[Page[T], None]:
        """Walk page by page; items in each page are already deduplicated and capped.

        Returns:
            An async generator of :class:`Page` objects; ``aclose()`` it to stop early.
        """
        return self._walk(count_items=True)

    async def collect(self) -> list[T]:
        """Walk every item into a list (mind memory on large result sets).

        Returns:
            All items, in order.
        """
        async with contextlib.aclosing(self._items()) as items:
            return [item async for item in items]

    async def to_list(self) -> list[T]:
        """Alias of :meth:`collect`.

        Returns:
            All items, in order.
        """
        return await self.collect()

    async def __aenter__(self) -> AsyncIterator[T]:
        """Start a walk whose cleanup runs deterministically when the block exits."""
        if self._opened is not None:
            msg = "this Pager is already open in an 'async with' block"
            raise RuntimeError(msg)
        self._opened = self._items()
        return self._opened

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Cancel and await any fetch still in flight."""
        opened, self._opened = self._opened, None
        if opened is not None:
            await opened.aclose()

    async def _items(self) -> AsyncGenerator[T, None]:
        # aclosing: closing this generator must close the page walk in the same task,
        # not leave it to the garbage collector.
        async with contextlib.aclosing(self._walk(count_items=False)) as pages:
            async for page in pages:
                # Counted per page (the one being iterated included): progress displays
                # need no per-item precision, and the hot loop stays a bare yield.
                self.items_yielded += len(page.items)
                for item in page.items:
                    yield item

    async def _walk(self, *, count_items: bool) -> AsyncGenerator[Page[T], None]:
        self.pages_fetched = self.items_yielded = 0
        self.total_entries = None
        run = _Run(self)
        try:
            while not run.full():
                run.start(holding=0)
                if not run.tasks:
                    return
                number, page = await run.next_page()
                run.absorb(number, page)
                page = run.keep(page)
                # Prefetch while the caller works on this page; it still holds a slot.
                run.start(holding=1)
                if count_items:
                    self.items_yielded += len(page.items)
                if run.deadline is not None:
                    run.deadline.ensure(what="list walk")
                yield page
        finally:
            await run.close()


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = "must be an integer"
        raise RequestTypeError(name, msg)
    if value < low or (high is not None and value > high):
        msg = f"must be between {low} and {high}" if high is not None else f"must be at least {low}"
        raise RequestValidationError(name, msg)


class _Run(Generic[T]):
    """The state of one walk: fetches in flight, the known end, dedupe memory."""

    def __init__(self, pager: Pager[T]) -> None:
        self.pager = pager
        self.deadline = pager._deadline() if pager._deadline is not None else None
        self.tasks: dict[int, asyncio.Task[Page[T]]] = {}
        # Cancelled because they fell past the end; awaited on close, counted in the window.
        self.dropped: list[asyncio.Task[Page[T]]] = []
        self.next_start = 1  # the next page number to fetch
        self.next_yield = 1  # ordered mode: the page whose turn it is
        self.end = 1  # the last page believed to exist; page 1 is always fetched
        self.stop_at: int | None = None  # a short page ended the data here; never raised
        self.emitted = 0
        self.last_key: Any = _NO_KEY
        self.recent: deque[set[Any]] = deque(maxlen=pager._window + 1)

    def full(self) -> bool:
        limit = self.pager._max_items
        return limit is not None and self.emitted >= limit

    def limit(self) -> int:
        return self.end if self.stop_at is None else min(self.end, self.stop_at)

    def start(self, *, holding: int) -> None:
        """Start fetches until the window is full or no further page is known to exist."""
        pager = self.pager
        self.dropped = [t for t in self.dropped if not t.done()]
        wanted = math.inf
        if pager._max_items is not None:
            # Do not fetch pages that could not be needed; dedupe losses top up later.
            wanted = math.ceil((pager._max_items - self.emitted) / pager._page_size)
        while (
            self.next_start <= self.limit()
            and len(self.tasks) < wanted
            and len(self.tasks) + len(self.dropped) + holding < pager._window
        ):
            number = self.next_start
            self.next_start += 1
            task = asyncio.create_task(self._fetch(number), name=f"pracsuite-page-{number}")
            task.add_done_callback(self._fetched)
            self.tasks[number] = task

    async def _fetch(self, number: int) -> Page[T]:
        # Called inside the task so an early cancel never leaves an un-awaited coroutine.
        _WALK_DEADLINE.set(self.deadline)
        return await self.pager._fetch(number, self.pager._page_size)

    def _fetched(self, task: asyncio.Task[Page[T]]) -> None:
        # Only counts. A failure is re-raised by task.result() when its page is due; a
        # dropped page's task gets cancel(), which also marks its exception retrieved.
        if not _failed(task):
            self.pager.pages_fetched += 1

    async def next_page(self) -> tuple[int, Page[T]]:
        """Wait for the next page to yield: the next in order, or the first to finish."""
        if self.pager._ordered:
            number = self.next_yield
            # asyncio.wait, not await task: it neither raises nor cancels the task, so
            # cleanup stays in one place (close) whatever interrupts us.
            await asyncio.wait([self.tasks[number]])
        else:
            await asyncio.wait(self.tasks.values(), return_when=asyncio.FIRST_COMPLETED)
            finished = [(n, t) for n, t in sorted(self.tasks.items()) if t.done()]
            # Successful pages first: an error ends the walk, so yield what arrived before it.
            number = min(finished, key=lambda pair: _failed(pair[1]))[0]
        task = self.tasks.pop(number)
        self.next_yield = number + 1
        return number, task.result()

    def absorb(self, number: int, page: Page[T]) -> None:
        """Update the plan from a page's ``total_entries``, ``has_next`` and length."""
        size = self.pager._page_size
        if page.total_entries is not None:
            self.pager.total_entries = page.total_entries
        if len(page.items) < size:
            # Short or empty: this is the end of the data as it is now (the last page, or
            # records were deleted). Later pages would be empty or stale.
            self.stop_at = number if self.stop_at is None else min(self.stop_at, number)
        elif page.total_entries is not None:
            # Follow the latest count up or down, but this full page proves itself.
            self.end = max(number, math.ceil(page.total_entries / size))
        else:
            self.end = number + 1 if page.has_next else number
        limit = self.limit()
        if self.next_start - 1 <= limit:
            return  # pages start in order, so none in flight lies past the end
        beyond = sorted(n for n in self.tasks if n > limit)
        for n in beyond:
            task = self.tasks.pop(n)
            task.cancel()
            self.dropped.append(task)
        if beyond:
            self.next_start = min(self.next_start, beyond[0])

    def keep(self, page: Page[T]) -> Page[T]:
        """Drop duplicates by ``key`` and cap at ``max_items``."""
        pager = self.pager
        items = page.items
        if pager._key is not None:
            items = self._ascending(items) if pager._key_ascending else self._unseen(items)
        if pager._max_items is not None:
            items = items[: pager._max_items - self.emitted]
        self.emitted += len(items)
        return page if items is page.items else attrs.evolve(page, items=items)

    def _ascending(self, items: list[T]) -> list[T]:
        key = self.pager._key
        assert key is not None  # noqa: S101 - guaranteed by keep()
        if not items:
            return items
        keys = list(map(key, items))
        last = self.last_key
        # The usual page: strictly ascending and all past the last key. Checked with
        # C-level set/sort instead of a Python loop per item.
        if (last is _NO_KEY or keys[0] > last) and len(set(keys)) == len(keys) and keys == sorted(keys):
            self.last_key = keys[-1]
            return items
        kept: list[T] = []
        for item, value in zip(items, keys, strict=True):
            if last is _NO_KEY or value > last:
                kept.append(item)
                last = value
        self.last_key = last
        return kept

    def _unseen(self, items: list[T]) -> list[T]:
        key = self.pager._key
        assert key is not None  # noqa: S101 - guaranteed by keep()
        seen: set[Any] = set()
        kept: list[T] = []
        for item in items:
            value = key(item)
            if value in seen or any(value in keys for keys in self.recent):
                continue
            seen.add(value)
            kept.append(item)
        self.recent.append(seen)
        return kept

    async def close(self) -> None:
        """Cancel every fetch still in flight and wait until they have all finished."""
        pending = [*self.tasks.values(), *self.dropped]
        self.tasks.clear()
        self.dropped = []
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            for task in pending:
                # The walk is over: mark late failures retrieved so none is logged as lost.
                if not task.cancelled():
                    task.exception()
