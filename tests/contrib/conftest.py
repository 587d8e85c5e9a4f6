"""Fixtures for the integration tests of ``pracsuite_async.contrib``: a simulator, hostile servers, clients."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from pracsuite_async import PracSuiteClient
from pracsuite_async.simulator import Simulator, SimulatorConfig

VENDOR_KEY = "sim-vendor-key"
ACCOUNT_KEY = "sim-account-key"
#: Physiotherapy Standard Consultation: a one-patient type of every generated clinic (seeded data).
STANDARD_TYPE = 2
PATIENT = 1
TODAY = SimulatorConfig().today

ClientFactory = Callable[..., Callable[[], PracSuiteClient]]
ServeApp = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A small simulator (200 appointments, no rate limit) on a free loopback port."""
    async with Simulator(SimulatorConfig(records=200)) as simulator:
        yield simulator


@pytest.fixture
def client_factory() -> ClientFactory:
    """``client_factory(base_url, **settings)`` -> a factory of clients bound to that server."""

    def make(base_url: str, **kwargs: Any) -> Callable[[], PracSuiteClient]:
        kwargs.setdefault("rate_limit", 10_000.0)
        kwargs.setdefault("rng", random.Random(7))
        return lambda: PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, base_url=base_url, **kwargs)

    return make


@pytest.fixture
async def serve_app() -> AsyncIterator[ServeApp]:
    """Serve small hand-written aiohttp apps on 127.0.0.1:0; returns each one's base URL."""
    runners: list[web.AppRunner] = []

    async def serve(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/v1"

    yield serve
    for runner in runners:
        await runner.cleanup()


from tests.contrib.redis_server import redis_url  # noqa: E402 - the shared-budget tests' fixture

__all__ = ["redis_url"]
