"""Shared fixtures of the sync tests: a simulator on a fake wall clock, clients bound to it, mirror dumps."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from pracsuite_async import PracSuiteClient, RetryPolicy
from pracsuite_async.simulator import Simulator, SimulatorConfig

POSTGRES_DSN = os.environ.get("PRACSUITE_TEST_POSTGRES_DSN")
NO_POSTGRES = "PRACSUITE_TEST_POSTGRES_DSN is not set (.ci/run starts a PostgreSQL server and sets it)"

#: The fake wall clock starts well after the generated data's timestamps (around 2026-01).
START = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
RECORDS = 600


class WallClock:
    """A settable epoch clock shared by the simulator (record timestamps) and the engine (windows)."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def wall() -> WallClock:
    """A fake wall clock at 2026-06-01."""
    return WallClock()


@pytest.fixture
def sim_config(wall: WallClock) -> SimulatorConfig:
    """A small clinic on the fake wall clock, no rate limit."""
    return SimulatorConfig(records=RECORDS, wall_clock=wall)


@pytest_asyncio.fixture
async def sim(sim_config: SimulatorConfig) -> AsyncIterator[Simulator]:
    """The simulator on a loopback port."""
    async with Simulator(sim_config) as simulator:
        yield simulator


def fast_retries() -> RetryPolicy:
    """Retries with millisecond backoff: fault tests need many, real sleeps would dominate."""
    return RetryPolicy(max_attempts=8, backoff_base=0.001, backoff_max=0.01, budget_min=1000.0)


def make_client(sim: Simulator, **kwargs: Any) -> PracSuiteClient:
    """A client with the simulator's keys, effectively unpaced."""
    config = sim.config
    return PracSuiteClient(
        config.vendor_keys[0], config.account_keys[0], base_url=sim.base_url, rate_limit=10_000.0, **kwargs
    )


@pytest_asyncio.fixture
async def client(sim: Simulator) -> AsyncIterator[PracSuiteClient]:
    """A client bound to ``sim``."""
    async with make_client(sim) as c:
        yield c


def served_appointments(sim: Simulator) -> set[int]:
    """Ids ``/appointment`` lists: diary entries of kind appointment."""
    return {rid for rid, rec in sim.dataset.tables["diary"].items() if rec.get("_kind") == "appointment"}


def dump(path: Path, table: str) -> dict[int, str]:
    """A SQLite mirror table as ``{id: data}``."""
    with sqlite3.connect(path) as conn:
        rows = dict(conn.execute(f'SELECT id, data FROM "{table}" ORDER BY id').fetchall())  # noqa: S608
    conn.close()
    return rows


Dump = Callable[[Path, str], dict[int, str]]


@pytest_asyncio.fixture
async def postgres_schema() -> AsyncIterator[str]:
    """A fresh schema on the test server, dropped afterwards."""
    if not POSTGRES_DSN:
        pytest.skip(NO_POSTGRES)
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
