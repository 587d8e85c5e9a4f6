"""Several workers, faults and PostgreSQL: leases hold, faults lose nothing, sinks agree."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pracsuite_async.simulator import Simulator, SimulatorConfig
from pracsuite_async.sync import JsonlSink, PostgresSink, Sink, SqliteSink, sync
from tests.sync.conftest import (
    NO_POSTGRES,
    POSTGRES_DSN,
    WallClock,
    dump,
    fast_retries,
    make_client,
    served_appointments,
)


async def _two_workers(sim: Simulator, make_sink: Callable[[], Sink], wall: WallClock) -> list[str]:
    """Start two syncs of the same job, the second while the first runs; return their statuses."""
    async with make_client(sim, page_window=1) as one, make_client(sim, page_window=1) as two:
        before = sim.stats.total
        # A full walk in small pages keeps the first worker busy long enough to be caught at it.
        job = sync(one, ["appointments"], make_sink(), clock=wall.utc, full=True, page_size=20)
        first = asyncio.create_task(job)
        while sim.stats.total < before + 2:  # the first worker holds the lease and is walking
            await asyncio.sleep(0.001)
        second = await sync(two, ["appointments"], make_sink(), clock=wall.utc)
        done = await first
    assert second.resources[0].fetched == second.inserted == 0
    assert two.stats.requests_sent == 0
    return [done.resources[0].status, second.resources[0].status]


@pytest.mark.parametrize("store", ["sqlite", "jsonl"])
async def test_two_workers_on_one_job_never_both_write(
    store: str, wall: WallClock, tmp_path: Path
) -> None:
    """The second worker finds the lease held and skips the resource without a request or a write."""
    config = SimulatorConfig(records=600, wall_clock=wall, latency=0.01)
    async with Simulator(config) as sim:
        if store == "sqlite":
            statuses = await _two_workers(sim, lambda: SqliteSink(tmp_path / "m.sqlite"), wall)
            assert set(dump(tmp_path / "m.sqlite", "appointments")) == served_appointments(sim)
        else:
            statuses = await _two_workers(sim, lambda: JsonlSink(tmp_path / "j"), wall)
    assert statuses == ["done", "leased"]


async def test_postgres_mirror_matches_sqlite_and_leases_hold(
    sim: Simulator, wall: WallClock, tmp_path: Path, postgres_schema: str
) -> None:
    """A PostgreSQL mirror holds the same records as an SQLite one; its advisory lock excludes a second worker."""
    import asyncpg

    assert POSTGRES_DSN is not None
    async with make_client(sim) as client:
        await sync(client, ["appointments", "patients"], SqliteSink(tmp_path / "m.sqlite"), clock=wall.utc)
        both = ["appointments", "patients"]
        pg = await sync(client, both, PostgresSink(POSTGRES_DSN, schema=postgres_schema), clock=wall.utc)
        again = await sync(client, both, PostgresSink(POSTGRES_DSN, schema=postgres_schema), clock=wall.utc)
    assert pg.complete
    assert again.inserted == again.updated == again.deleted == 0
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        for table in ("appointments", "patients"):
            rows = await conn.fetch(f'SELECT id, data::text FROM "{postgres_schema}"."{table}"')  # noqa: S608
            mirrored = {r[0]: json.loads(r[1]) for r in rows}
            expected = {k: json.loads(v) for k, v in dump(tmp_path / "m.sqlite", table).items()}
            assert mirrored == expected, table
    finally:
        await conn.close()
    sim.reconfigure(latency=0.01)
    statuses = await _two_workers(sim, lambda: PostgresSink(POSTGRES_DSN, schema=postgres_schema), wall)
    assert statuses == ["done", "leased"]


def test_postgres_tests_skip_only_without_the_server() -> None:
    """The PostgreSQL tests name the missing variable when they skip."""
    assert "PRACSUITE_TEST_POSTGRES_DSN" in NO_POSTGRES


@pytest.mark.slow
async def test_faults_lose_nothing_and_duplicate_nothing(wall: WallClock, tmp_path: Path) -> None:
    """With 10 % 5xx, 2 % dropped connections and 1 % truncated bodies the mirror is complete and unique."""
    config = SimulatorConfig(records=3000, wall_clock=wall, faults="500:0.10,reset:0.02,trunc:0.01", seed=3)
    async with Simulator(config) as sim, make_client(sim, retry=fast_retries()) as client:
        result = await sync(client, ["appointments"], JsonlSink(tmp_path), clock=wall.utc, page_size=50)
        faults = sim.stats.to_dict()
        expected = served_appointments(sim)
    assert result.complete
    assert result.retries > 0, faults
    lines = (tmp_path / "appointments.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["appointment_id"] for line in lines]
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected


async def test_sqlite_mirror_is_queryable_by_its_columns(
    sim: Simulator, wall: WallClock, tmp_path: Path
) -> None:
    """Indexed columns hold the record's values, so a mirror can be queried without JSON functions."""
    db = tmp_path / "m.sqlite"
    async with make_client(sim) as c:
        await sync(c, ["appointments"], SqliteSink(db), clock=wall.utc)
    with sqlite3.connect(db) as conn:
        bad = conn.execute(
            "SELECT count(*) FROM appointments WHERE client_id IS NOT json_extract(data, '$.client_id') "
            "OR app_time IS NOT json_extract(data, '$.app_time')"
        ).fetchone()[0]
        indexes = {r[1] for r in conn.execute("PRAGMA index_list('appointments')")}
    conn.close()
    assert bad == 0
    assert {"appointments_client_id", "appointments_app_time"} <= indexes
