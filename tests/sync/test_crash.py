"""Crash safety: ``pracsuite sync`` killed with SIGKILL at random points, then resumed."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from pracsuite_async.simulator import Simulator, SimulatorConfig
from pracsuite_async.sync import SqliteSink, sync
from tests.sync.conftest import dump, make_client

RESOURCES = ("appointments", "patients")
SEEDS = (1, 2, 3)


def _command(sim: Simulator, db: Path) -> list[str]:
    return [
        sys.executable, "-m", "pracsuite_async.cli", "sync", *RESOURCES, "--db", str(db),
        "--base-url", sim.base_url, "--rate", "10000", "--page-size", "50", "--overlap", "0", "--quiet",
    ]


def _env(sim: Simulator) -> dict[str, str]:
    config = sim.config
    return os.environ | {
        "PRACSUITE_VENDOR_KEY": config.vendor_keys[0],
        "PRACSUITE_ACCOUNT_KEY": config.account_keys[0],
    }


async def _run(sim: Simulator, db: Path) -> None:
    """Run the sync to completion in a child process."""
    proc = await asyncio.create_subprocess_exec(
        *_command(sim, db), env=_env(sim), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


async def _kill_at(sim: Simulator, db: Path, rows: int, delay: float) -> int:
    """Start a sync and SIGKILL it ``delay`` seconds after the mirror holds ``rows`` rows; return that count."""
    proc = await asyncio.create_subprocess_exec(
        *_command(sim, db), env=_env(sim), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    while proc.returncode is None and _rows(db) < rows:
        await asyncio.sleep(0.005)
    await asyncio.sleep(delay)
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    return _rows(db)


def _rows(db: Path) -> int:
    """Rows in the mirror's resource tables (0 before they exist)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            count = sum(
                conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
                for name in RESOURCES
                if name in names
            )
        conn.close()
    except sqlite3.OperationalError:  # the child is creating the file right now
        return 0
    return int(count)


@pytest.mark.slow
async def test_sigkill_at_random_points_then_resume_equals_a_clean_run(tmp_path: Path) -> None:
    """Over several seeds, a sync killed at a random point and resumed leaves exactly the clean run's mirror."""
    config = SimulatorConfig(records=1000, latency=0.002)
    async with Simulator(config) as sim:
        clean = tmp_path / "clean.sqlite"
        async with make_client(sim) as client:  # the reference run needs no child process
            await sync(client, RESOURCES, SqliteSink(clean), overlap=timedelta(0), page_size=50)
        expected = {name: dump(clean, name) for name in RESOURCES}
        total = sum(map(len, expected.values()))
        assert len(expected["appointments"]) == 1000
        rngs = {seed: random.Random(seed) for seed in SEEDS}
        dbs = {seed: tmp_path / f"crash-{seed}.sqlite" for seed in SEEDS}
        # Killed once the mirror holds a random number of rows, plus a random few milliseconds:
        # between pages, inside a commit, during the deletion feed or the next resource.
        killed = await asyncio.gather(
            *(_kill_at(sim, dbs[s], rngs[s].randrange(1, total - 50), rngs[s].uniform(0, 0.03)) for s in SEEDS)
        )
        assert all(0 < rows < total for rows in killed), killed
        await asyncio.gather(*(_run(sim, dbs[s]) for s in SEEDS))
        for seed in SEEDS:
            assert {name: dump(dbs[seed], name) for name in RESOURCES} == expected, f"seed {seed}"
