"""Case 6: one rate budget across processes (Redis), and the remembered limit on a second run.

Both rows use the simulator's strict token bucket (R = 20 requests/s, burst 5,
starting full, 20 ms latency) in its own process, and its own count of admissions:
``(admitted - 1) / span`` over R, and the 429s it sent.

* shared budget: a throwaway ``redis-server`` on a loopback port and 4 worker
  processes (``tests/contrib/redis_worker.py``), each a client with
  ``RedisRateLimiter(rate=R)`` on one budget name, meeting at a barrier in Redis and
  then fetching 50 lookups at once (10 in smoke runs). Target: together >= 0.95 R
  with no 429. Skipped when ``redis-server`` is not installed.
* remembered limit, second run: a first adaptive client (``rate_limit=None``)
  walks 400 pages and settles on the limit, which it writes to its cache file (a
  temporary ``$XDG_CACHE_HOME``); a second client for the same key then exports
  80 pages starting at the remembered limit. Target: >= 0.97 R with no 429.

Each row is the median of the suite's rounds (one walk or one 4-process run each).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile

import aiohttp

from benchmarks._harness import REPO, Row, Stat, SuiteConfig, Target
from benchmarks._servers import ServerProcess, ServerSpec
from benchmarks.rate import BURST, LATENCY, PAGE_SIZE, RATE, _client, _Control, _walk
from tests.contrib.redis_server import redis_server

__all__ = ["run"]

WORKERS = 4


def run(cfg: SuiteConfig) -> list[Row]:
    """The shared-budget rows, then the second-run rows."""
    return asyncio.run(_run(cfg))


async def _run(cfg: SuiteConfig) -> list[Row]:
    spec = ServerSpec(
        "simulator",
        sim={
            "records": cfg.scale(4200, 300), "rate": RATE, "burst": BURST, "latency": LATENCY,
            "accept_any_key": True,
        },
        core=cfg.server_core,
    )
    with ServerProcess(spec) as server:
        async with aiohttp.ClientSession() as session:
            control = _Control(session, server.base_url)
            shared = await _shared(cfg, server.base_url, control)
            return [*shared, *await _second_run(cfg, server.base_url, control)]


async def _shared(cfg: SuiteConfig, base_url: str, control: _Control) -> list[Row]:
    case, per_worker = "6 shared budget", cfg.scale(50, 10)
    with redis_server() as redis_url:
        if redis_url is None:
            return [Row(case, "4 processes: aggregate ÷ R", details="skipped: redis-server is not installed",
                        status="skipped")]
        ratios, throttled = [], []
        for n in range(cfg.n_rounds):
            await control.reset(RATE)
            procs = [
                await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "tests.contrib.redis_worker", redis_url, base_url, f"bench-{n}",
                    str(RATE), str(per_worker), str(WORKERS), cwd=REPO, stdout=asyncio.subprocess.PIPE,
                )
                for _ in range(WORKERS)
            ]
            outputs = [json.loads((await p.communicate())[0]) for p in procs]
            st = await control.stats()
            ratios.append(st["achieved_rate"] / RATE)
            throttled.append(float(st["rejected_429"]))
            assert sum(o["sent"] for o in outputs) >= WORKERS * per_worker
    details = (
        f"{WORKERS} processes x {per_worker} requests, RedisRateLimiter(rate={RATE:g}) on one name; "
        f"server R={RATE:g}/s, burst {BURST}; last: {st['accepted']} admitted in {st['span']:.2f} s, "
        f"peak {st['peak_1s']} in 1 s"
    )
    return [
        Row(case, "4 processes: aggregate ÷ R (server's count)", Stat(tuple(ratios)), Target(">=", 0.95),
            details),
        Row(case, "429 responses", Stat(tuple(throttled)), Target("<=", 0.0)),
    ]


async def _second_run(cfg: SuiteConfig, base_url: str, control: _Control) -> list[Row]:
    case = "1 rate, adaptive, second run (remembered limit)"
    learn_pages, pages = cfg.scale(400, 20), cfg.scale(80, 10)
    ratios, throttled, remembered = [], [], []
    names = ("XDG_CACHE_HOME", "PRACSUITE_REMEMBER_LIMIT", "PRACSUITE_CACHE_DIR")
    saved = {k: os.environ.get(k) for k in names}
    try:
        for _ in range(cfg.n_rounds):
            with tempfile.TemporaryDirectory() as cache:
                os.environ["XDG_CACHE_HOME"] = cache
                for key in ("PRACSUITE_REMEMBER_LIMIT", "PRACSUITE_CACHE_DIR"):
                    os.environ.pop(key, None)
                await control.reset(RATE)
                async with _client(base_url, None) as client:  # the first run learns the limit
                    await _walk(client, learn_pages)
                await control.reset(RATE)
                async with _client(base_url, None) as client:
                    remembered.append(client.limiter.rate)  # type: ignore[attr-defined]
                    await _walk(client, pages)
                st = await control.stats()
                ratios.append(st["achieved_rate"] / RATE)
                throttled.append(float(st["rejected_429"]))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    details = (
        f"first run: {learn_pages} pages adaptive, limit remembered; second run: {pages} pages "
        f"(page size {PAGE_SIZE}) starting at {', '.join(f'{r:.1f}' for r in remembered)}/s; "
        f"R={RATE:g}/s, burst {BURST}; "
        f"last: {st['accepted']} admitted in {st['span']:.2f} s"
    )
    return [
        Row(case, "achieved ÷ R (server's count)", Stat(tuple(ratios)), Target(">=", 0.97), details),
        Row(case, "429 responses", Stat(tuple(throttled)), Target("<=", 0.0)),
    ]
