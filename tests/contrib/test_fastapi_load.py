"""The example app under uvicorn over loopback: concurrent handlers, client disconnects, no leaks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from examples.fastapi_app import create_app
from pracsuite_async import (
    AdaptiveRateLimiter,
    CallFinished,
    CallStarted,
    Event,
    PracSuiteClient,
    RateLimitWait,
    RequestSent,
)
from pracsuite_async._clock import Deadline
from pracsuite_async._rate_headers import RateFeedback
from pracsuite_async.contrib.fastapi import STATE_ATTR, PracSuite, pracsuite_lifespan
from pracsuite_async.simulator import Simulator, SimulatorConfig
from pracsuite_async.testing import FakeClock
from tests.contrib.conftest import ClientFactory

CALLS = 200
DISCONNECTS = CALLS // 4
#: The client's pace: the abandoned handlers' calls queue in the limiter for about 0.1 s.
RATE = 500.0
SLOTS = 64
#: A few patients, so every handler finds one (the simulator's ids start at 1).
PATIENTS = 5


class GatedLimiter:
    """The client's real limiter behind a gate: nothing is paced until the test opens it."""

    def __init__(self, rate: float = RATE, clock: FakeClock | None = None) -> None:
        self.inner = AdaptiveRateLimiter(rate, ceiling=rate, clock=clock)
        self.gate = asyncio.Event()

    async def acquire(self, deadline: Deadline) -> float:
        await self.gate.wait()
        return await self.inner.acquire(deadline)

    def feedback(self, signal: RateFeedback) -> None:
        self.inner.feedback(signal)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Recorder:
    """An event hook that keeps every event and wakes waiters on each one."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.changed.set()

    def handlers(self) -> int:
        """Handlers that have started: each begins with one getPatient call."""
        return sum(1 for e in self.events if isinstance(e, CallStarted) and e.operation_id == "getPatient")

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def until(self, predicate: Any, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


async def _request(port: int, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def _status_of(port: int, path: str) -> int:
    reader, writer = await _request(port, path)
    try:
        data = await reader.read()  # Connection: close -> the body ends at EOF
    finally:
        writer.close()
        await writer.wait_closed()
    return int(data.split(b" ", 2)[1])


@pytest.fixture
async def slow_sim() -> AsyncIterator[Simulator]:
    """A simulator answering after 50 ms, so calls are on the wire when their clients leave."""
    async with Simulator(SimulatorConfig(records=100, latency=0.05)) as simulator:
        yield simulator


@pytest.mark.slow
async def test_concurrent_handlers_and_disconnects_share_one_client_and_leak_nothing(
    slow_sim: Simulator, client_factory: ClientFactory
) -> None:
    """200 concurrent requests, a quarter abandoned by their clients, share one pool and limiter; afterwards no
    connection, task or limiter reservation is left behind and the next call goes straight out."""
    recorder, limiter = Recorder(), GatedLimiter()
    factory = client_factory(slow_sim.base_url, rate_limit=limiter, max_concurrency=SLOTS, event_hooks=[recorder])
    app = create_app(factory)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning", ws="none")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        client: PracSuiteClient = getattr(app.state, STATE_ATTR)
        baseline = asyncio.all_tasks()

        def path(i: int) -> str:
            return f"/patients/{i % PATIENTS + 1}/appointments?limit=5"

        # The requests to be abandoned go first: they take concurrency slots and wait at the gate,
        # the others queue behind them, so every abandoned handler is mid-call when its client leaves.
        abandoned = await asyncio.gather(*(_request(port, path(i)) for i in range(DISCONNECTS)))
        await recorder.until(lambda: recorder.handlers() >= DISCONNECTS)
        normal = [asyncio.create_task(_status_of(port, path(i))) for i in range(CALLS - DISCONNECTS)]
        await recorder.until(lambda: recorder.handlers() >= CALLS)
        # Open the gate and leave at once: the first abandoned calls reach the server, the rest hold
        # limiter reservations, when the disconnects cancel them.
        limiter.gate.set()
        for _, writer in abandoned:
            writer.close()
        for _, writer in abandoned:
            await writer.wait_closed()

        statuses = await asyncio.gather(*normal)
        assert statuses == [200] * (CALLS - DISCONNECTS)
        await recorder.until(lambda: len(recorder.of(CallFinished)) == len(recorder.of(CallStarted)))
        cancelled = [e for e in recorder.of(CallFinished) if e.error == "CancelledError"]
        assert len(cancelled) == DISCONNECTS  # every abandoned handler was stopped mid-call
        assert {e.error for e in recorder.of(CallFinished)} == {None, "CancelledError"}

        # One pool: nothing checked out, no more connections than the cap.
        connector = client._transport._session.connector  # type: ignore[attr-defined]
        assert len(connector._acquired) == 0
        assert sum(len(c) for c in connector._conns.values()) <= SLOTS
        # No task left behind: handlers, disconnect watchers and page fetches all ended. The simulator's
        # aiohttp server keeps one task per open connection: the client's idle pooled connections.
        def leftover() -> set[asyncio.Task[Any]]:
            return {t for t in asyncio.all_tasks() - baseline if t.get_coro().__qualname__ != "RequestHandler.start"}

        async with asyncio.timeout(5):
            while leftover():
                await asyncio.sleep(0.01)
        simulator_side = asyncio.all_tasks() - baseline
        assert len(simulator_side) <= SLOTS
        # No reservation left behind: an immediate follow-up call is not held back by the limiter.
        before = len(recorder.events)
        started = time.monotonic()
        assert await _status_of(port, path(0)) == 200
        elapsed = time.monotonic() - started
        waits = [e.waited for e in recorder.events[before:] if isinstance(e, RateLimitWait)]
        assert sum(waits) <= 2 / RATE, waits
        assert elapsed < 1.0
    finally:
        server.should_exit = True
        await serving
    assert client._transport._session is None  # type: ignore[attr-defined] - closed by the lifespan


TAIL_CALLS, TAIL_ABANDONED, TAIL_RATE = 40, 10, 10.0


async def test_requests_abandoned_at_the_tail_of_the_limiter_queue_give_their_reservations_back(
    sim: Simulator, client_factory: ClientFactory
) -> None:
    """Handlers cancelled while holding the last limiter reservations give them back: the next call after the
    survivors goes straight out instead of waiting out the abandoned slots (in virtual time, so CPU speed
    cannot hide a leak)."""
    clock = FakeClock()
    recorder, limiter = Recorder(), GatedLimiter(TAIL_RATE, clock)
    factory = client_factory(
        sim.base_url, rate_limit=limiter, clock=clock, max_concurrency=TAIL_CALLS, event_hooks=[recorder]
    )
    app = FastAPI(lifespan=pracsuite_lifespan(factory))

    @app.get("/one")
    async def one(client: PracSuite) -> int:
        return (await client.businesses.get(1)).business_id or 0

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            requests = [asyncio.create_task(http.get("/one")) for _ in range(TAIL_CALLS)]
            await recorder.until(lambda: len(recorder.of(CallStarted)) == TAIL_CALLS)
            limiter.gate.set()
            await recorder.until(lambda: len(recorder.of(RequestSent)) >= 2)  # the burst went; the rest reserved
            for request in requests[-TAIL_ABANDONED:]:
                request.cancel()
            done = await asyncio.gather(*requests, return_exceptions=True)
            assert sum(isinstance(r, asyncio.CancelledError) for r in done) == TAIL_ABANDONED
            before = len(recorder.events)
            assert (await http.get("/one")).status_code == 200
    waits = [e.waited for e in recorder.events[before:] if isinstance(e, RateLimitWait)]
    assert sum(waits) <= 1.5 / TAIL_RATE, waits
