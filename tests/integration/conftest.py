"""Fixtures for the integration tests: simulators on real loopback sockets and clients bound to them.

Each test starts its own small simulator (a few hundred records, generated in milliseconds), so tests
can write, break and rate-limit freely without affecting each other.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from pracsuite_async import PracSuiteClient
from pracsuite_async.simulator import Simulator, SimulatorConfig

VENDOR_KEY = "sim-vendor-key"
ACCOUNT_KEY = "sim-account-key"
#: The simulated tenant's today: availability may not start earlier.
TODAY = SimulatorConfig().today
WEEK_END = TODAY + timedelta(days=7)
#: A client rate far above what loopback tests send, so pacing never holds a request back.
UNPACED = 10_000.0


MakeSim = Callable[..., Awaitable[Simulator]]
MakeClient = Callable[..., PracSuiteClient]


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    """Start simulators on demand (``await make_sim(records=500, rate=20)``); stop them afterwards."""
    started: list[Simulator] = []

    async def make(**config: Any) -> Simulator:
        config.setdefault("records", 300)
        sim = Simulator(SimulatorConfig(**config))
        await sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in reversed(started):
        await sim.close()


@pytest.fixture
async def make_client(make_sim: MakeSim) -> AsyncIterator[MakeClient]:
    """Clients bound to a simulator (unpaced, seeded jitter unless overridden); closed before the simulators."""
    clients: list[PracSuiteClient] = []

    def make(sim: Simulator, **kwargs: Any) -> PracSuiteClient:
        kwargs.setdefault("rate_limit", UNPACED)
        kwargs.setdefault("rng", random.Random(7))
        vendor = kwargs.pop("vendor_key", VENDOR_KEY)
        account = kwargs.pop("account_key", ACCOUNT_KEY)
        client = PracSuiteClient(vendor, account, base_url=sim.base_url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def sim(make_sim: MakeSim) -> Simulator:
    """A default simulator: 300 appointments, no rate limit, no faults."""
    return await make_sim()


@pytest.fixture
def client(sim: Simulator, make_client: MakeClient) -> PracSuiteClient:
    """An unpaced client bound to ``sim``."""
    return make_client(sim)
