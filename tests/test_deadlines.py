"""``deadline=`` bounds the whole operation: a call, a list walk, ``search`` and ``book``.

Fake-clock tests prove the bounds in virtual time; a few wall-clock tests against a scripted
loopback server that stalls prove them for real sockets (each well under a second).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from pracsuite_async import (
    DeadlineExceededError,
    NotFoundError,
    PracSuiteClient,
    RequestTimeoutError,
)
from pracsuite_async._transport import RawResponse
from pracsuite_async.testing import FakeClock, RecordedRequest, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient
from tests.scripted_server import Reply, Request, ScriptedServer, SlotBook, leak_check, page_of

MONDAY = date(2026, 1, 5)
RECORDS = [{"appointment_id": i, "app_time": "2025-01-03T10:15:00"} for i in range(1, 201)]
FakeHandler = Callable[[RecordedRequest], Awaitable[RawResponse]]


def _timed(clock: FakeClock, handler: FakeHandler) -> FakeHandler:
    """``handler`` cut off at each request's timeout in virtual time, as the aiohttp transport does."""

    async def run(req: RecordedRequest) -> RawResponse:
        if req.timeout is None:
            return await handler(req)
        work = asyncio.ensure_future(handler(req))
        timer = asyncio.ensure_future(clock.sleep(req.timeout))
        try:
            await asyncio.wait((work, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, timer):
                task.cancel()
            await asyncio.wait((work, timer))
        if work.cancelled():
            msg = "timed out"
            raise RequestTimeoutError(msg, method=req.method, path=req.path, request_sent=True)
        return work.result()

    return run


def _slow_pages(clock: FakeClock, seconds: float) -> FakeHandler:
    """200 appointments in pages that each take ``seconds`` of virtual time."""

    async def handler(req: RecordedRequest) -> RawResponse:
        await clock.sleep(seconds)
        page = int(req.query("page")[0])
        size = int(req.query("page_size")[0])
        chunk = RECORDS[(page - 1) * size : page * size]
        return json_response(200, {"appointments": chunk, "total_entries": len(RECORDS), "links": {}})

    return _timed(clock, handler)


def _slot_handler(book: SlotBook, clock: FakeClock) -> FakeHandler:
    async def handler(req: RecordedRequest) -> RawResponse:
        status, data = await book.answer(req.method, req.path, dict(req.params), req.json())
        return json_response(status, data)

    return _timed(clock, handler)


def _ours(tasks: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """Unfinished tasks other than the fake clock's own driver."""
    return [t for t in tasks if not t.done() and t.get_coro().__qualname__ != "FakeClock._drive"]  # type: ignore[union-attr]


class TestListWalk:
    async def test_deadline_bounds_the_whole_walk(self, make_client: MakeClient, clock: FakeClock) -> None:
        """list(deadline=2) over 20 pages of 0.5 s each fails at 2 s, not 10 s, sharing one budget."""
        client, transport = make_client(_slow_pages(clock, 0.5), page_window=1)
        start = clock.now()
        with pytest.raises(DeadlineExceededError):
            await client.appointments.list(page_size=10, deadline=2).collect()
        assert clock.now() - start <= 2.0
        assert len(transport.requests) <= 5

    async def test_walk_budget_includes_the_loop_body(self, make_client: MakeClient, clock: FakeClock) -> None:
        """The walk's budget runs from the first fetch to the last item: a slow loop body spends it too."""
        client, _ = make_client(_slow_pages(clock, 0.0))
        seen = 0

        async def consume() -> None:
            nonlocal seen
            async for _ in client.appointments.list(page_size=10, deadline=2.5):
                seen += 1
                if seen % 10 == 0:
                    await clock.sleep(1.0)

        with pytest.raises(DeadlineExceededError):
            await consume()
        assert seen == 30

    async def test_default_deadline_applies_per_page(self, make_client: MakeClient, clock: FakeClock) -> None:
        """Without deadline=, each page gets the client's default, so a long walk completes."""
        client, _ = make_client(_slow_pages(clock, 0.5), page_window=1, deadline=2)
        start = clock.now()
        assert len(await client.appointments.list(page_size=10).collect()) == 200
        assert clock.now() - start == pytest.approx(10.0)

    async def test_each_walk_gets_a_fresh_budget(self, make_client: MakeClient, clock: FakeClock) -> None:
        """Walking the same pager twice starts the deadline again for the second walk."""
        client, _ = make_client(_slow_pages(clock, 0.5), page_window=1)
        pager = client.appointments.list(page_size=50, deadline=2.5)
        assert len(await pager.collect()) == 200
        assert len(await pager.collect()) == 200

    async def test_single_call_deadline(self, make_client: MakeClient, clock: FakeClock) -> None:
        """A single call's deadline caps its attempt: against a 5 s answer it fails at 1 s."""
        client, transport = make_client(_slow_pages(clock, 5.0))
        start = clock.now()
        with pytest.raises(DeadlineExceededError):
            await client.appointments.get(1, deadline=1)
        assert transport.requests[0].timeout == pytest.approx(1.0)
        assert clock.now() - start == pytest.approx(1.0)

    @pytest.mark.parametrize("bad", [True, "5", float("nan"), 0, -1, float("inf")])
    async def test_bad_deadline_is_rejected_before_sending(self, make_client: MakeClient, bad: object) -> None:
        """A deadline that is not a finite positive number fails with a validation error naming it."""
        client, transport = make_client(_slow_pages(FakeClock(), 0.0))
        for call in (
            lambda: client.appointments.get(1, deadline=bad),  # type: ignore[arg-type]
            lambda: client.appointments.list(deadline=bad).collect(),  # type: ignore[arg-type]
            lambda: client.available_appointments.search(
                from_=MONDAY, to=MONDAY, appointment_type_id=2, deadline=bad  # type: ignore[arg-type]
            ),
        ):
            with pytest.raises(ValueError, match="deadline") as info:
                await call()
            assert getattr(info.value, "field", None) == "deadline"
        assert transport.requests == []


class TestSearch:
    async def test_deadline_bounds_every_window(self, make_client: MakeClient, clock: FakeClock) -> None:
        """search(deadline=1.5) over three windows of 2 s each fails at 1.5 s."""
        book = SlotBook(20, delays={"search": 2.0}, sleep=clock.sleep)
        client, _ = make_client(_slot_handler(book, clock))
        start = clock.now()
        with pytest.raises(DeadlineExceededError):
            await client.available_appointments.search(
                from_=MONDAY, to=date(2026, 1, 25), appointment_type_id=2, deadline=1.5
            )
        assert clock.now() - start <= 1.5

    async def test_client_default_bounds_the_whole_search(self, make_client: MakeClient, clock: FakeClock) -> None:
        """Without deadline=, the client's default bounds the whole search, not each of its pages."""
        book = SlotBook(150, delays={"search": 2.0}, sleep=clock.sleep)  # two pages per window
        client, _ = make_client(_slot_handler(book, clock), deadline=3)
        start = clock.now()
        with pytest.raises(DeadlineExceededError):
            await client.available_appointments.search(from_=MONDAY, to=date(2026, 1, 25), appointment_type_id=2)
        assert clock.now() - start <= 3.0

    async def test_failed_window_stops_the_others(self, make_client: MakeClient, clock: FakeClock) -> None:
        """When one window fails, the other windows' fetches are cancelled and nothing more is sent."""
        cancelled = 0

        async def handler(req: RecordedRequest) -> RawResponse:
            nonlocal cancelled
            if req.query("from") == ["2026-01-12"]:
                await clock.sleep(1)  # the other windows are in flight by now
                return json_response(404, {"error": {"status": 404, "code": "NOT_FOUND"}})
            try:
                await clock.sleep(100)
            except asyncio.CancelledError:
                cancelled += 1
                raise
            return json_response(200, {"available_times": [], "total_entries": 0})

        client, transport = make_client(handler)
        before = asyncio.all_tasks()
        with pytest.raises(NotFoundError):
            await client.available_appointments.search(from_=MONDAY, to=date(2026, 1, 25), appointment_type_id=2)
        assert cancelled == 2
        assert _ours(asyncio.all_tasks() - before) == []
        await clock.sleep(200)
        assert len(transport.requests) == 3

    async def test_cancelled_search_stops_every_window(self, make_client: MakeClient, clock: FakeClock) -> None:
        """Cancelling the caller cancels every window's fetch; no task of the search survives."""
        book = SlotBook(20, delays={"search": 100.0}, sleep=clock.sleep)
        client, transport = make_client(_slot_handler(book, clock))
        before = asyncio.all_tasks()
        search = asyncio.create_task(
            client.available_appointments.search(from_=MONDAY, to=date(2026, 1, 25), appointment_type_id=2)
        )
        while len(transport.requests) < 3:
            await asyncio.sleep(0)
        search.cancel()
        with pytest.raises(asyncio.CancelledError):
            await search
        assert _ours(asyncio.all_tasks() - before - {search}) == []
        await clock.sleep(200)
        assert len(transport.requests) == 3


class TestBook:
    async def test_deadline_bounds_the_booking_and_the_hold_is_released(
        self, make_client: MakeClient, clock: FakeClock
    ) -> None:
        """book(deadline=1.5) with a hanging finalise fails by 1.5 s, after releasing its hold in time."""
        book = SlotBook(5, delays={"search": 0.2, "reserve": 0.2, "finalise": 100.0}, sleep=clock.sleep)
        client, transport = make_client(_slot_handler(book, clock))
        start = clock.now()
        with pytest.raises(DeadlineExceededError):
            await client.appointments.book(
                from_=MONDAY, to=MONDAY, appointment_type_id=2, client_id=7, deadline=1.5
            )
        assert clock.now() - start <= 1.5
        assert book.released == [1001]
        assert book.taken == set()
        release = transport.requests[-1]
        assert release.path == "/appointment/1001/cancel"
        assert release.timeout is not None
        assert 0 < release.timeout <= 1.5

    async def test_client_default_bounds_the_whole_booking(self, make_client: MakeClient, clock: FakeClock) -> None:
        """Without deadline=, the client's default bounds search, reserve and finalise together."""
        book = SlotBook(5, delays={"search": 1.0, "reserve": 1.0, "finalise": 1.0}, sleep=clock.sleep)
        client, _ = make_client(_slot_handler(book, clock), deadline=2.5)
        start = clock.now()
        with pytest.raises(DeadlineExceededError):
            await client.appointments.book(from_=MONDAY, to=MONDAY, appointment_type_id=2, client_id=7)
        assert clock.now() - start <= 2.5
        assert book.booked == {}
        assert book.taken == set()


def _client(server: ScriptedServer, **kwargs: Any) -> PracSuiteClient:
    return PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, base_url=server.base_url, rate_limit=10_000.0, **kwargs)


class TestWallClock:
    # Times are wide apart: the right end and the wrong one (a budget restarted per step)
    # differ by 0.6 s and the bound sits 0.5 s after the right one, so a loaded machine
    # (the soak on the other worker) cannot fail a correct client; 0.2 s of headroom did once.

    async def test_stalled_page_ends_the_walk_on_time(self) -> None:
        """deadline=0.8 with a 0.6 s page 1 and a stalled page 2 ends the walk at 0.8 s, not 1.4 s."""

        async def handler(req: Request) -> Reply:
            await asyncio.sleep(0.6 if req.arg("page") == "1" else 10)  # real-time-ok: a wall-clock deadline through real sockets (aiohttp timeouts)
            return 200, page_of(RECORDS, req, "appointments")

        async with ScriptedServer(handler) as server, leak_check(server), _client(server) as client:
            start = time.monotonic()
            with pytest.raises(DeadlineExceededError):
                await client.appointments.list(page_size=10, deadline=0.8).collect()
            assert time.monotonic() - start < 1.3

    async def test_stalled_window_ends_the_search_on_time(self) -> None:
        """search(deadline=0.8) whose second window has a 0.6 s page 1 and a stalled page 2 ends at 0.8 s,
        and leaves no connection busy."""
        slots = SlotBook(150).slots

        async def handler(req: Request) -> Reply:
            if req.arg("from") == "2026-01-12":
                await asyncio.sleep(0.6 if req.arg("page") == "1" else 10)  # real-time-ok: a wall-clock deadline through real sockets (aiohttp timeouts)
                return 200, page_of(slots, req, "available_times")
            return 200, {"available_times": [], "total_entries": 0}

        async with ScriptedServer(handler) as server, leak_check(server):
            async with _client(server) as client:
                start = time.monotonic()
                with pytest.raises(DeadlineExceededError):
                    await client.available_appointments.search(
                        from_=MONDAY, to=date(2026, 1, 25), appointment_type_id=2, deadline=0.8
                    )
                assert time.monotonic() - start < 1.3
            await server.wait_idle()
            assert len(server.requests) == 4

    async def test_stalled_finalise_ends_the_booking_on_time(self) -> None:
        """book(deadline=1.0) with a 0.6 s search and a stalled finalise ends at 1.0 s, not 1.6 s, and the
        server got the release first."""
        book = SlotBook(5, delays={"search": 0.6, "finalise": 10.0})
        async with ScriptedServer(book.scripted) as server, leak_check(server), _client(server) as client:
            start = time.monotonic()
            with pytest.raises(DeadlineExceededError):
                await client.appointments.book(
                    from_=MONDAY, to=MONDAY, appointment_type_id=2, client_id=7, deadline=1.0
                )
            assert time.monotonic() - start < 1.5
            assert book.released == [1001]
