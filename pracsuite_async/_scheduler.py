"""Who takes the next rate token: priority lanes, and accounts served round-robin within a lane.

One rate budget belongs to the vendor key (README "Rate limits"), and every view of
a client (``with_options``, ``for_account``) shares it. Left to itself, the limiter
serves waiters in arrival order, so a bulk export that keeps a window of page
fetches queued would make every other clinic's interactive call wait behind it.

The :class:`Scheduler` sits in front of the limiter and lets one request at a time
take its turn at ``limiter.acquire``. Whoever holds the turn waits there for its
token; when it leaves, the next turn goes to

1. the ``interactive`` lane before the ``bulk`` lane, except that after
   :data:`BULK_EVERY` interactive turns in a row a waiting bulk request goes
   first, so bulk traffic always progresses;
2. within a lane, an account that just started waiting, else the next account in
   round-robin order, so one account's queue never delays another's call by more
   than the turn in progress.

Deciding at the last moment (when the previous holder has its token) is what
makes the wait of a newcomer about one token interval whatever is queued. With no
one waiting, a turn is granted without creating a future (the common case).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Literal

__all__ = ["BULK_EVERY", "LANES", "Priority", "Scheduler"]

#: The lane of a request: ``"interactive"`` (a user waits) or ``"bulk"`` (sync jobs, exports).
Priority = Literal["interactive", "bulk"]
LANES: tuple[Priority, ...] = ("interactive", "bulk")
#: After this many interactive turns in a row, a waiting bulk request takes the next one.
BULK_EVERY = 4


class _Lane:
    """Waiters of one lane: a FIFO per account, accounts served in rotation.

    An account that starts waiting goes ahead of the accounts already in rotation
    (``fresh``, first come first served among themselves): it has had no turn yet,
    while each account in rotation just had one. After its turn an account with
    more waiters joins the back of the rotation.
    """

    __slots__ = ("fresh", "queued", "queues", "rotation")

    def __init__(self) -> None:
        #: Waiters in the queues, cancelled ones included until popped (kept so len() is O(1)).
        self.queued = 0
        self.queues: dict[Hashable, deque[asyncio.Future[None]]] = {}
        self.fresh: deque[Hashable] = deque()
        self.rotation: deque[Hashable] = deque()

    def push(self, account: Hashable, waiter: asyncio.Future[None]) -> None:
        queue = self.queues.get(account)
        if queue is None:
            queue = self.queues[account] = deque()
            self.fresh.append(account)
        queue.append(waiter)
        self.queued += 1

    def pop(self) -> asyncio.Future[None] | None:
        """The next live waiter, fresh accounts first, then the rotation."""
        while self.fresh or self.rotation:
            account = (self.fresh or self.rotation).popleft()
            queue = self.queues[account]
            while queue and queue[0].done():  # cancelled while queued
                queue.popleft()
                self.queued -= 1
            if not queue:
                del self.queues[account]
                continue
            waiter = queue.popleft()
            self.queued -= 1
            if queue:
                self.rotation.append(account)
            else:
                del self.queues[account]
            return waiter
        return None

    def discard(self, account: Hashable, waiter: asyncio.Future[None]) -> None:
        queue = self.queues.get(account)
        if queue is not None and waiter in queue:
            queue.remove(waiter)  # an emptied queue is dropped by the next pop
            self.queued -= 1

    def __len__(self) -> int:
        return self.queued


class Scheduler:
    """Grants one turn at a time, by lane priority and per-account round-robin."""

    __slots__ = ("_busy", "_lanes", "_streak")

    def __init__(self) -> None:
        self._busy = False
        self._lanes: dict[Priority, _Lane] = {lane: _Lane() for lane in LANES}
        self._streak = 0  # interactive turns granted in a row while bulk waited

    def __repr__(self) -> str:
        waiting = {lane: len(q) for lane, q in self._lanes.items()}
        return f"<Scheduler busy={self._busy} waiting={waiting}>"

    @property
    def waiting(self) -> int:
        """Requests queued for a turn (not counting the holder)."""
        lanes = self._lanes
        return len(lanes["interactive"]) + len(lanes["bulk"])

    async def acquire(
        self, account: Hashable, priority: Priority = "interactive", *, timeout: float | None = None
    ) -> None:
        """Wait for the turn (fairly, if it is taken); pair every return with one :meth:`release`.

        ``timeout`` bounds the wait (``TimeoutError``); nothing is left queued after it.
        """
        if not (self._busy or self.waiting):
            self._busy = True
        elif timeout is None:
            await self._wait(account, priority)
        else:
            async with asyncio.timeout(timeout):
                await self._wait(account, priority)

    def release(self) -> None:
        """Give the turn up: to the next waiter by lane and round-robin, or mark it free."""
        self._pass_on()

    @asynccontextmanager
    async def turn(self, account: Hashable, priority: Priority = "interactive") -> AsyncIterator[None]:
        """Hold the turn for the body of the ``async with``."""
        await self.acquire(account, priority)
        try:
            yield
        finally:
            self._pass_on()

    async def _wait(self, account: Hashable, priority: Priority) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane = self._lanes[priority]
        lane.push(account, waiter)
        if not self._busy:  # queued behind nobody: take it now (keeps the order fair)
            self._pass_on()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._pass_on()  # granted, then cancelled before running: hand the turn on
            else:
                lane.discard(account, waiter)
            raise

    def _pass_on(self) -> None:
        """Give the turn to the next waiter, or mark it free."""
        interactive, bulk = self._lanes["interactive"], self._lanes["bulk"]
        order = (bulk, interactive) if self._streak >= BULK_EVERY and len(bulk) else (interactive, bulk)
        for lane in order:
            waiter = lane.pop()
            if waiter is not None:
                self._streak = self._streak + 1 if lane is interactive and len(bulk) else 0
                self._busy = True
                waiter.set_result(None)
                return
        self._busy = False
        self._streak = 0
