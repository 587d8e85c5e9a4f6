"""Lifecycle: closed is closed, one client per event loop, nothing left open or running.

Every test talks to a scripted loopback server (tests/scripted_server.py) and runs inside
``leak_check``: any warning (ResourceWarning included), any loop error report (an unclosed
session or connector, a lost task exception) or any task left running fails it.
"""

from __future__ import annotations

import asyncio
import pickle
from datetime import date
from typing import Any

import pytest

from pracsuite_async import (
    ClientClosedError,
    EventLoopMismatchError,
    NotFoundError,
    PracSuiteClient,
    PracSuiteError,
    RetryPolicy,
)
from pracsuite_async._redact import SecretHeaders
from pracsuite_async.testing import FakeTransport, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY
from tests.scripted_server import Reply, Request, ScriptedServer, leak_check, page_of

RECORDS = [{"appointment_id": i, "app_time": "2025-01-03T10:15:00"} for i in range(1, 51)]


def _client(server: ScriptedServer, **kwargs: Any) -> PracSuiteClient:
    kwargs.setdefault("rate_limit", 10_000.0)
    return PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, base_url=server.base_url, **kwargs)


def _appointments(slow_after_page: int = 0, delay: float = 0.0) -> Any:
    """A list endpoint of 50 appointments whose pages after ``slow_after_page`` take ``delay`` s."""

    async def handler(req: Request) -> Reply:
        if req.path == "/appointment":
            if int(req.arg("page") or 1) > slow_after_page:
                await asyncio.sleep(delay)
            return 200, page_of(RECORDS, req, "appointments")
        if req.path.startswith("/appointment/"):
            return 200, RECORDS[0]
        return 404, {"error": {"status": 404, "code": "NOT_FOUND"}}

    return handler


def _connector(client: PracSuiteClient) -> Any:
    session = client._transport._session  # type: ignore[attr-defined]
    assert session is not None
    return session.connector


async def _drain(walk: Any) -> None:
    async for _ in walk:
        pass


class TestClosedIsClosed:
    async def test_every_call_after_aclose_raises_and_sends_nothing(self) -> None:
        """After aclose() calls, walks, search and book raise ClientClosedError and no pool is reopened."""
        async with ScriptedServer(_appointments()) as server, leak_check(server):
            client = _client(server)
            await client.appointments.get(1)
            connector = _connector(client)
            await client.aclose()
            assert connector.closed
            with pytest.raises(ClientClosedError) as info:
                await client.appointments.get(1)
            assert "one per event loop" in str(info.value)
            with pytest.raises(ClientClosedError):
                client.appointments.list()
            with pytest.raises(ClientClosedError):
                await client.available_appointments.search(
                    from_=date(2026, 1, 5), to=date(2026, 1, 6), appointment_type_id=2
                )
            with pytest.raises(ClientClosedError):
                await client.appointments.book(
                    from_=date(2026, 1, 5), to=date(2026, 1, 6), appointment_type_id=2, client_id=1
                )
            with pytest.raises(ClientClosedError):
                async with client:
                    pass
            await client.aclose()  # idempotent
            assert client._transport._session is None  # type: ignore[attr-defined]
            assert len(server.requests) == 1
            await server.wait_idle()

    async def test_a_walk_created_before_aclose_fails_closed(self) -> None:
        """A pager made while open but iterated after aclose() raises ClientClosedError, sending nothing."""
        async with ScriptedServer(_appointments()) as server, leak_check(server):
            client = _client(server)
            pager = client.appointments.list(page_size=10)
            await client.aclose()
            with pytest.raises(ClientClosedError):
                await pager.collect()
            assert server.requests == []

    def test_lifecycle_errors_are_library_errors_that_pickle(self) -> None:
        """Both lifecycle errors are PracSuiteErrors and RuntimeErrors, and survive pickling."""
        for cls in (ClientClosedError, EventLoopMismatchError):
            err = pickle.loads(pickle.dumps(cls()))
            assert isinstance(err, PracSuiteError)
            assert isinstance(err, RuntimeError)
            assert str(err) == str(cls())


class TestNothingLeaks:
    async def test_exception_inside_async_for_inside_async_with(self) -> None:
        """An error raised in the loop body closes the session and its connector, and stops every fetch."""
        async with ScriptedServer(_appointments(slow_after_page=1, delay=0.2)) as server, leak_check(server):
            client = _client(server, page_window=4)
            connectors: list[Any] = []

            async def body() -> None:
                async with client:
                    async for _ in client.appointments.list(page_size=10):
                        connectors.append(_connector(client))
                        await asyncio.sleep(0.01)  # pages 2-4 are now in flight
                        msg = "boom"
                        raise ValueError(msg)

            with pytest.raises(ValueError, match="boom"):
                await body()
            assert connectors[0].closed
            sent = len(server.requests)
            await server.wait_idle()
            await asyncio.sleep(0.25)  # past the slow pages: nothing was left to send more
            assert len(server.requests) == sent

    async def test_pager_abandoned_mid_walk(self) -> None:
        """A walk left open (still referenced) has its fetches cancelled by aclose(); resuming it fails closed."""
        async with ScriptedServer(_appointments(slow_after_page=1, delay=5.0)) as server, leak_check(server):
            client = _client(server, page_window=4)
            walk = aiter(client.appointments.list(page_size=10))
            await anext(walk)
            await asyncio.sleep(0.01)  # pages 2-5 hang in the server (the window: 4 fetches)
            assert len(client._tasks) == 4
            async with asyncio.timeout(1):
                await client.aclose()
            assert client._tasks == set()
            await server.wait_idle()
            with pytest.raises(ClientClosedError):
                await _drain(walk)
            await walk.aclose()  # type: ignore[attr-defined]

    async def test_broken_out_of_walk_and_close(self) -> None:
        """``break`` out of a walk, then aclose(): no fetch survives, no connection stays open."""
        async with ScriptedServer(_appointments(slow_after_page=1, delay=5.0)) as server, leak_check(server):
            async with _client(server, page_window=4) as client:
                async for _ in client.appointments.list(page_size=10):
                    await asyncio.sleep(0.01)
                    break
            await server.wait_idle()

    async def test_aclose_during_a_walk_in_another_task(self) -> None:
        """A walk running in another task when the client closes fails with ClientClosedError, not a bare cancel."""
        async with ScriptedServer(_appointments(slow_after_page=1, delay=5.0)) as server, leak_check(server):
            client = _client(server, page_window=2)
            walker = asyncio.create_task(client.appointments.list(page_size=10).collect())
            await asyncio.sleep(0.05)
            await client.aclose()
            with pytest.raises(ClientClosedError):
                await walker
            await server.wait_idle()

    async def test_calls_in_flight_elsewhere_do_not_reopen_the_pool(self) -> None:
        """A call in flight in another task when the client closes fails; no new session is created."""
        async def handler(req: Request) -> Reply:
            await asyncio.sleep(0.1)
            return 404, {"error": {"status": 404, "code": "NOT_FOUND"}}

        async with ScriptedServer(handler) as server, leak_check(server):
            client = _client(server, retry=RetryPolicy(max_attempts=1))
            calls = [asyncio.create_task(client.appointments.get(i)) for i in range(1, 4)]
            await asyncio.sleep(0.03)
            await client.aclose()
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert all(isinstance(r, PracSuiteError) and not isinstance(r, NotFoundError) for r in results)
            assert client._transport._session is None  # type: ignore[attr-defined]
            await server.wait_idle()


class TestOneClientPerLoop:
    def test_second_event_loop_gets_a_clear_error(self) -> None:
        """A client used in a second event loop raises EventLoopMismatchError naming the fix, before any I/O."""
        first = asyncio.Runner()
        second = asyncio.Runner()
        try:
            server = ScriptedServer(_appointments())
            first.run(server.__aenter__())
            client = _client(server)
            first.run(client.appointments.get(1))
            with pytest.raises(EventLoopMismatchError) as info:
                second.run(client.appointments.get(1))
            assert "one PracSuiteClient per event loop" in str(info.value)
            with pytest.raises(EventLoopMismatchError):
                second.run(client.appointments.list().collect())
            assert len(server.requests) == 1
            first.run(client.aclose())
            first.run(server.__aexit__())
        finally:
            second.close()
            first.close()

    def test_closed_client_in_a_second_asyncio_run(self) -> None:
        """A client closed by ``async with`` in one asyncio.run() is closed in the next one too."""
        client = PracSuiteClient(
            VENDOR_KEY, ACCOUNT_KEY, transport=FakeTransport(lambda r: json_response(200, RECORDS[0]))
        )

        async def run() -> None:
            async with client:
                await client.appointments.get(1)

        asyncio.run(run())
        with pytest.raises(ClientClosedError):
            asyncio.run(run())

    def test_transport_refuses_a_second_loop(self) -> None:
        """The aiohttp transport itself refuses a loop other than its pool's, even without the client check."""
        first = asyncio.Runner()
        second = asyncio.Runner()
        try:
            server = ScriptedServer(_appointments())
            first.run(server.__aenter__())
            client = _client(server)
            transport = client._transport
            send = transport.send(
                "GET", "/appointment/1", params=[], headers=SecretHeaders({}, {}), body=None, timeout=1.0
            )
            first.run(send)
            with pytest.raises(EventLoopMismatchError):
                second.run(
                    transport.send("GET", "/appointment/1", params=[], headers=SecretHeaders({}, {}), body=None, timeout=1.0)
                )
            first.run(client.aclose())
            first.run(server.__aexit__())
        finally:
            second.close()
            first.close()
