"""The pagination engine: a bounded, ordered, cancellable walk over a list operation.

The API pages with ``page``/``page_size`` and answers ``total_entries`` plus
``links.next`` (README "Pagination"). :class:`Pager` drives any page-fetch function
``fetch(page_number, page_size) -> Page[T]``: it reads the first page, plans the
rest from ``total_entries`` and ``links.next``, fetches them concurrently (at most
``window`` fetches in flight, ``2 * window`` pages held), and yields them in page
order. The fetch
function owns HTTP, retries and rate limiting; this module only decides which pages
to request and when, so it has no I/O of its own and is tested with fake fetchers.

The walk never depends on the order of records: the API documents no default order
and no sort direction (README "Sorting"). Duplicates are dropped only when a key was
actually seen before, never because a record arrived "out of order".
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Hashable,
    Iterable,
)
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Protocol, TypeAlias, TypeVar, cast

import attrs

from pracsuite_async._clock import Deadline
from pracsuite_async._errors import PaginationError, RequestTypeError, RequestValidationError
from pracsuite_async._tasks import cancel_and_wait

__all__ = ["DEFAULT_MAX_PAGES", "Page", "PageFetcher", "PageLoader", "Pager", "walk_deadline"]

T = TypeVar("T")

#: The API caps ``page_size`` at 100 (README "Pagination").
MAX_PAGE_SIZE = 100
#: A walk fetches at most this many pages unless told otherwise: ten million records at
#: ``page_size=100``, and a bound on a server whose ``links.next`` never ends.
DEFAULT_MAX_PAGES = 100_000


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


class PageLoader(Protocol[T]):
    """A fetched page whose records are built at its turn: what a fetcher may return instead of a Page."""

    async def load(self) -> Page[T]:
        """The page; may raise the error its response means (or re-fetch it)."""
        ...


#: ``fetch(page_number, page_size)`` returning that page (or a :class:`PageLoader` for it);
#: HTTP, retries and pacing live in it.
PageFetcher: TypeAlias = Callable[[int, int], Awaitable[Page[T] | PageLoader[T]]]

# Set inside each fetch task (a task runs in its own copy of the context), so a
# fetcher reads the deadline of the walk that started it, even with walks of one
# Pager running concurrently.
_WALK_DEADLINE: ContextVar[Deadline | None] = ContextVar("pracsuite_walk_deadline", default=None)


def walk_deadline() -> Deadline | None:
    """The :class:`Deadline` of the walk whose page is being fetched (for fetch functions)."""
    return _WALK_DEADLINE.get()


def _count(value: object) -> int | None:
    """``total_entries`` when it is a usable count; ``-5``, ``true`` or ``"3"`` are not."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


class Pager(Generic[T]):
    """Every item of a list operation, fetched page by page with bounded concurrency.

    Use it as ``async for item in pager``, ``async with pager as items``,
    ``await pager.collect()`` or ``async for page in pager.pages()``. Each of these
    starts a fresh walk from ``start_page``.

    How it walks: the first page is fetched alone; the rest are fetched
    concurrently by at most ``window`` workers, so never more than ``window`` fetches
    are in flight, and never more than ``2 * window`` pages are held at once (in
    flight, fetched and waiting for their turn, and the one being consumed all
    count), so memory is bounded by ``2 * window * page_size`` records. A worker
    that has fetched a page goes straight on to the next while the caller keeps up,
    as a plain fan-out of ``window`` tasks would. Pages are yielded in page order
    (with ``ordered=False``, as they arrive).

    Where it ends (guarantees, README "Pagination guarantees"): when
    ``total_entries`` and ``links.next`` disagree, the reading that fetches more
    wins: a page with ``links.next`` is always followed, and pages up to
    ``total_entries`` are fetched even without ``links.next``. A malformed
    ``total_entries`` (negative, a bool, not an integer) is ignored and ``links.next``
    is followed. The walk ends at an empty page, at a short page without
    ``links.next``, or at a full page when neither signal says there is more. A
    walk that would pass ``max_pages`` while the server still reports more raises
    :class:`~pracsuite_async.PaginationError` after the pages it did fetch, rather
    than stopping silently; so does a server that ignores ``page`` (a page holding
    the same records as the page before it).

    Errors and exits: a failed fetch raises its exception when its page's turn
    comes, after every earlier page was yielded; nothing is skipped silently. On an
    error, ``max_items``, ``break`` or cancellation, every in-flight fetch is
    cancelled and awaited before control returns (after ``break`` in a plain
    ``async for`` this happens when asyncio finalises the generator, on the next
    loop iteration; ``async with`` and :meth:`collect` close deterministically).
    After an error, ``resume_page`` is the page to pass as ``start_page`` (with the
    same ``page_size``) to continue where the walk stopped.

    Data changing during the walk: offset pagination cannot give a consistent
    snapshot. A record inserted before the current position shifts later records
    by one, so a record can be seen twice; pass ``key`` to drop such duplicates. A
    record deleted before the current position shifts later records back, so a
    record can be missed; this cannot be detected from the pages, so re-run the
    walk, or filter on ``modified`` for the window of the walk, when completeness
    matters. Records that exist and do not move for the whole walk are yielded
    exactly once, whatever order the server returns them in.

    Progress: ``pages_fetched``, ``items_yielded`` and ``total_entries`` describe the
    latest walk and are updated as it runs, for progress bars; ``pages_fetched``
    counts pages fetched and read, as their turn comes, and ``items_yielded`` whole
    pages handed out, the page being iterated included.

    Args:
        fetch: ``fetch(page_number, page_size)`` returning that :class:`Page`.
        page_size: Records per page, 1..100.
        window: The most page fetches in flight at once; 1 fetches strictly one page
            at a time. Up to twice as many pages are held (see above).
        ordered: Yield pages in page order (default) or as they arrive.
        max_items: Stop after this many items, cancelling fetches still in flight;
            pages that could not be needed are never requested.
        key: Identity of an item (e.g. ``operator.attrgetter("appointment_id")``). An
            item whose key was seen among the last ``(2 * window + 1) * page_size`` kept
            keys is dropped as a duplicate, so memory stays flat; an item whose key
            is ``None`` or unhashable is never dropped.
        start_page: The first page to fetch, to resume an interrupted walk.
        max_pages: The most pages one walk fetches; ``None`` for no limit.
        deadline: Starts a walk's time budget; called once per walk, before page 1 is
            requested. Every fetch of that walk reads it with :func:`walk_deadline`,
            and the walk raises :class:`~pracsuite_async.DeadlineExceededError` at the
            next page boundary once it is spent, so the budget covers the first fetch
            up to the last item, the caller's own loop body included.

    Raises:
        RequestTypeError: An argument has the wrong type.
        RequestValidationError: An argument is out of range.
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
        start_page: int = 1,
        max_pages: int | None = DEFAULT_MAX_PAGES,
        deadline: Callable[[], Deadline | None] | None = None,
    ) -> None:
        _check_int("page_size", page_size, 1, MAX_PAGE_SIZE)
        _check_int("window", window, 1, None)
        _check_int("start_page", start_page, 1, None)
        if max_items is not None:
            _check_int("max_items", max_items, 0, None)
        if max_pages is not None:
            _check_int("max_pages", max_pages, 1, None)
        self._fetch = fetch
        self._page_size = page_size
        self._window = window
        self._ordered = ordered
        self._max_items = max_items
        self._key = key
        self._start_page = start_page
        self._max_pages = max_pages
        self._deadline = deadline
        self._opened: AsyncGenerator[T, None] | None = None
        #: Pages fetched and read successfully in the latest walk (counted at their turn).
        self.pages_fetched: int = 0
        #: Items handed to the caller in the latest walk.
        self.items_yielded: int = 0
        #: The latest valid ``total_entries`` the server reported, if any.
        self.total_entries: int | None = None
        #: Ordered walks: the first page not yet fully handed out; pass it as ``start_page``.
        self.resume_page: int = start_page

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
                items = page.items
                self.items_yielded += len(items)
                del page
                for item in items:
                    yield item
                # Let go before the next page is built: a walk keeps one page alive, not two.
                del items

    async def _walk(self, *, count_items: bool) -> AsyncGenerator[Page[T], None]:
        self.pages_fetched = self.items_yielded = 0
        self.total_entries = None
        self.resume_page = self._start_page
        run = _Run(self)
        try:
            while not run.full():
                run.start(holding=0)
                if not run.pending():
                    if run.workers and run.next_start <= run.last and not run.failed:
                        # Workers cancelled for pages past the end still hold the window
                        # while they finish, and more pages are known: wait, then go on.
                        await asyncio.wait(list(run.workers))
                        continue
                    run.check_complete()
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
                del page  # before the next page is built: one page alive, not two
                if self._ordered:
                    # The caller asked for more, so every item of this page was handed out.
                    self.resume_page = number + 1
        finally:
            await run.close()


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = "must be an integer"
        raise RequestTypeError(name, msg)
    if value < low or (high is not None and value > high):
        msg = f"must be between {low} and {high}" if high is not None else f"must be at least {low}"
        raise RequestValidationError(name, msg)


def _key_set(keys: Iterable[Any]) -> frozenset[Any] | None:
    """The page's keys as a set, when every key is hashable and none is ``None``."""
    try:
        found = frozenset(keys)
    except TypeError:  # an unhashable key (a malformed id)
        return None
    return None if None in found else found


class _Run(Generic[T]):
    """The state of one walk: its fetch workers, fetched pages, the known end, dedupe memory.

    Pages are fetched by at most ``window`` worker tasks. A worker that has handed over
    its page claims the next one itself, in the same step, while the pages held (in
    flight, waiting for their turn, with the caller) stay under ``2 * window``. So, as in a plain
    fan-out, one request's objects are freed and the next one's allocated together: a
    task per page, started only when the caller took a page, freed a whole batch of
    requests before allocating the next, and every such swing triggered a collection.
    """

    def __init__(self, pager: Pager[T]) -> None:
        self.pager = pager
        self.deadline = pager._deadline() if pager._deadline is not None else None
        self.loop = asyncio.get_running_loop()
        # Page number -> the worker fetching it, and -> its result (a Page, a PageLoader or
        # the exception the fetch raised) once fetched and until its turn.
        self.flying: dict[int, asyncio.Task[None]] = {}
        self.ready: dict[int, Page[T] | PageLoader[T] | BaseException] = {}
        # Every live worker, those cancelled for a page past the end included: they count
        # against the window until they have finished.
        self.workers: set[asyncio.Task[None]] = set()
        self.holding = 0  # 1 while the caller has a page
        self.failed = False  # a fetch failed: the walk ends at its turn, so fetch no more
        self.closed = False
        first = pager._start_page
        self.next_start = first  # the next page number to fetch
        self.next_yield = first  # ordered mode: the page whose turn it is
        self.last_allowed = math.inf if pager._max_pages is None else first + pager._max_pages - 1
        self.proven = first  # the last page some page's links.next (or its own items) proved
        self.counted: int | None = None  # the last page the latest total_entries implies
        self.stop_at: int | None = None  # an empty or final short page ended the data here
        self.last: float = first  # the last page to fetch as things stand: min(limit(), last_allowed)
        self.emitted = 0
        # Dedupe memory: a set of recent keys, evicted page by page (oldest first) once
        # it holds more than a page beyond the held pages' worth (2 * window + 1 pages),
        # so memory stays flat and neighbours read out of order still meet.
        self.seen: set[Any] = set()
        self.chunks: deque[Collection[Any]] = deque()
        self.held = 0
        self.key_limit = (2 * pager._window + 1) * pager._page_size
        # Page-ignored detection: the signatures of recently arrived pages by number.
        self.signatures: dict[int, tuple[bool, Collection[Any]]] = {}
        # The consumer sleeps on this future until the page it waits for (any page, in
        # an unordered walk: waiting_for None) has been fetched.
        self.wakeup: asyncio.Future[None] | None = None
        self.waiting_for: int | None = None

    def full(self) -> bool:
        limit = self.pager._max_items
        return limit is not None and self.emitted >= limit

    def end(self) -> int:
        """The last page believed to exist: the safer of ``links.next`` and ``total_entries``."""
        return self.proven if self.counted is None else max(self.proven, self.counted)

    def limit(self) -> int:
        return self.end() if self.stop_at is None else min(self.end(), self.stop_at)

    def pending(self) -> bool:
        """Whether some page was claimed and not yet taken at its turn."""
        return bool(self.flying or self.ready)

    def start(self, *, holding: int) -> None:
        """Start workers until the window is full or no further page may be fetched now."""
        self.holding = holding
        workers, window = self.workers, self.pager._window
        while len(workers) < window and (number := self._claim()) is not None:
            worker = self.loop.create_task(self._work(number), name=f"pracsuite-page-fetcher-{number}")
            self.flying[number] = worker
            workers.add(worker)
            worker.add_done_callback(workers.discard)

    def _claim(self) -> int | None:
        """The next page to fetch, or None: past the known end, a failure, or no room to hold it."""
        number = self.next_start
        if number > self.last or self.failed or self.closed:
            return None
        pager = self.pager
        if len(self.flying) + len(self.ready) + self.holding >= 2 * pager._window:
            return None  # pages held: in flight, waiting for their turn, with the caller
        if pager._max_items is not None:
            # Do not fetch pages that could not be needed; dedupe losses top up later.
            need = math.ceil((pager._max_items - self.emitted) / pager._page_size)
            if len(self.flying) + len(self.ready) >= need:
                return None
        self.next_start = number + 1
        return number

    async def _work(self, number: int) -> None:
        """Fetch pages until none may be claimed: this page, then whatever :meth:`_claim` gives."""
        # A task runs in its own copy of the context: the walk's deadline is set once, here.
        if _WALK_DEADLINE.get() is not self.deadline:
            _WALK_DEADLINE.set(self.deadline)
        me = cast("asyncio.Task[None]", asyncio.current_task())
        fetch, size, flying = self.pager._fetch, self.pager._page_size, self.flying
        try:
            while True:
                result: Page[T] | PageLoader[T] | BaseException
                try:
                    result = await fetch(number, size)
                except Exception as exc:  # noqa: BLE001 - raised at the page's turn, not here
                    result = exc
                    self.failed = True
                if flying.get(number) is not me:
                    return  # dropped past the end (or the walk closed) by a fetch that swallowed the cancel
                self._deliver(number, result)
                next_number = self._claim()
                if next_number is None:
                    return
                number = next_number
                flying[number] = me
        except BaseException as exc:
            # Cancelled (or worse) while fetching a page still ours: its turn raises it. A
            # page dropped past the end, or a closed walk, is no longer ours.
            if flying.get(number) is me:
                self._deliver(number, exc)
            raise
        finally:
            # Out of the window at once: the done-callback would run a loop iteration
            # later, and the caller may ask for the next page before that.
            self.workers.discard(me)

    def _deliver(self, number: int, result: Page[T] | PageLoader[T] | BaseException) -> None:
        del self.flying[number]
        self.ready[number] = result
        wakeup = self.wakeup
        if wakeup is not None and self.waiting_for in (None, number) and not wakeup.done():
            wakeup.set_result(None)

    def check_complete(self) -> None:
        """Raise when the walk stopped at ``max_pages`` while the server reports more."""
        if self.limit() > self.last_allowed:
            msg = "the server reports more pages than max_pages allows; raise it or resume with start_page"
            raise PaginationError(msg, page=int(self.last_allowed) + 1)

    async def next_page(self) -> tuple[int, Page[T]]:
        """Wait for the next page to yield: the next in order, or the first to finish."""
        if self.pager._ordered:
            number = self.next_yield
            if number not in self.ready:
                await self._wait(number)
        else:
            while not self.ready:
                await self._wait(None)
            # Successful pages first: an error ends the walk, so yield what arrived before it.
            fine = [n for n, result in self.ready.items() if not isinstance(result, BaseException)]
            number = min(fine) if fine else min(self.ready)
        result = self.ready.pop(number)
        self.next_yield = number + 1
        if isinstance(result, BaseException):
            raise result  # a failed fetch raises here, at its turn
        if not isinstance(result, Page):
            # Built now, at its turn: a page's records live only while the caller has it.
            result = await result.load()
        # Counted at its turn, not on arrival.
        self.pager.pages_fetched += 1
        return number, result

    async def _wait(self, number: int | None) -> None:
        # A future of our own, not the workers: cancelling this walk leaves them to close().
        self.waiting_for = number
        self.wakeup = self.loop.create_future()
        try:
            await self.wakeup
        finally:
            self.wakeup = None

    def absorb(self, number: int, page: Page[T]) -> None:
        """Update the plan from a page's ``total_entries``, ``links.next`` and length."""
        size = self.pager._page_size
        total = _count(page.total_entries)
        if total is not None:
            self.pager.total_entries = total
            # The latest count wins, up or down; pages proven by links.next stay.
            self.counted = math.ceil(total / size)
        count = len(page.items)
        if count == 0 or (count < size and not page.has_next):
            # The end of the data as it is now (the last page, or records were deleted).
            # An empty page ends the walk even if it claims a next page, so a bad server
            # cannot loop us.
            self.stop_at = number if self.stop_at is None else min(self.stop_at, number)
        else:
            # links.next proves the next page; a full page at least proves itself.
            self.proven = max(self.proven, number + 1 if page.has_next else number)
        limit = self.limit()
        self.last = min(limit, self.last_allowed)
        if self.next_start - 1 <= limit:
            return  # pages are claimed in order, so none lies past the end
        beyond = sorted(n for n in (*self.flying, *self.ready) if n > limit)
        for n in beyond:
            worker = self.flying.pop(n, None)
            if worker is not None:
                worker.cancel()  # it stays in workers, counted in the window, until it has finished
            else:
                del self.ready[n]
        if beyond:
            self.next_start = min(self.next_start, beyond[0])

    def keep(self, page: Page[T]) -> Page[T]:
        """Check for a repeated page, drop duplicates by ``key`` and cap at ``max_items``."""
        pager = self.pager
        items = page.items
        if pager._key is not None and items:
            keys = list(map(pager._key, items))
            if not self._all_new(page.number, keys):
                found = _key_set(keys)
                # What makes two pages "the same records": their key set, else the items.
                self._check_repeat(page.number, (True, found) if found is not None else (False, items))
                items = self._unseen(items, keys)
        elif items:
            self._check_repeat(page.number, (False, items))
        limit = pager._max_items
        if limit is not None and self.emitted + len(items) > limit:
            items = items[: limit - self.emitted]
        self.emitted += len(items)
        return page if items is page.items else attrs.evolve(page, items=items)

    def _all_new(self, number: int, keys: list[Any]) -> bool:
        """Remember a page whose keys are all usable, distinct and unseen (the usual page); else False.

        Such a page cannot repeat a neighbour already read: that neighbour's keys are
        remembered, and none of these is. So the repeat check is left to the careful
        path, which every page that shares a key with what came before takes.
        """
        seen = self.seen
        try:
            if not seen.isdisjoint(keys):
                return False
        except TypeError:  # an unhashable key (a malformed id)
            return False
        before = len(seen)
        seen.update(keys)  # every key hashed above, so this cannot raise
        seen.discard(None)
        if len(seen) - before != len(keys):  # a None key, or one key twice in the page
            seen.difference_update(keys)  # none of them was there before
            return False
        self._signed(number, (True, keys))
        self._remember(keys)
        return True

    def _check_repeat(self, number: int, signature: tuple[bool, Collection[Any]]) -> None:
        # A server that ignores ``page`` answers every page with page 1; dedupe would
        # then drop everything after it and the walk would end "complete".
        by_keys, mine = signature
        for neighbour in (number - 1, number + 1):
            other = self.signatures.get(neighbour)
            if other is None or other[0] is not by_keys:
                continue
            # Key signatures are kept as the page's key list; compared as sets here, off the usual path.
            if (frozenset(other[1]) == mine) if by_keys else (other[1] == mine):
                msg = "the page repeats the records of the page before it; the server may be ignoring 'page'"
                raise PaginationError(msg, page=max(number, neighbour))
        self._signed(number, signature)

    def _signed(self, number: int, signature: tuple[bool, Collection[Any]]) -> None:
        signatures = self.signatures
        signatures[number] = signature
        if len(signatures) > 2 * self.pager._window + 2:
            # Ordered walks insert in page order, so the first key is the lowest; min()
            # over the window, per page, was a measurable share of the walk.
            del signatures[next(iter(signatures)) if self.pager._ordered else min(signatures)]

    def _unseen(self, items: list[T], keys: list[Any]) -> list[T]:
        seen = self.seen
        kept, fresh = [], []
        mine: set[Any] = set()
        for item, value in zip(items, keys, strict=True):
            if value is None or not isinstance(value, Hashable):
                kept.append(item)  # no usable identity: never dropped
                continue
            try:
                repeated = value in seen or value in mine
            except TypeError:  # hashable type, unhashable contents (a tuple of lists)
                kept.append(item)
                continue
            if not repeated:
                mine.add(value)
                fresh.append(value)
                kept.append(item)
        seen.update(fresh)
        self._remember(fresh)
        return kept

    def _remember(self, added: list[Any]) -> None:
        """Keep a page's new keys in the window's memory, forgetting the oldest pages past its bound."""
        self.chunks.append(added)
        self.held += len(added)
        while self.held > self.key_limit and len(self.chunks) > 1:
            old = self.chunks.popleft()
            self.held -= len(old)
            self.seen.difference_update(old)

    async def close(self) -> None:
        """Cancel every worker and wait until they have all finished."""
        self.closed = True
        workers = list(self.workers)
        self.flying.clear()
        self.ready.clear()
        await cancel_and_wait(workers)
