"""One worker process of the shared-budget tests: GET pages from a server under a Redis budget.

Usage: python -m tests.contrib.redis_worker REDIS_URL BASE_URL NAME RATE REQUESTS WORKERS
(``RATE`` is a number or ``adaptive``). The workers of one run meet at a barrier in Redis
(all ``WORKERS`` of ``NAME`` have imported and connected) before the first request, so a
slow start on a loaded machine does not spread them out. Prints one JSON line: requests
sent, 429s seen, first and last send times (epoch seconds), the budget's rate at the end.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from redis.asyncio import Redis

from pracsuite_async import PracSuiteClient, RetryPolicy
from pracsuite_async.contrib.redis import RedisRateLimiter


async def _barrier(redis_url: str, name: str, workers: int) -> None:
    redis = Redis.from_url(redis_url)
    try:
        key = f"test-barrier:{name}"
        await redis.incr(key)
        while int(await redis.get(key) or 0) < workers:
            await asyncio.sleep(0.01)
    finally:
        await redis.aclose()


async def main(redis_url: str, base_url: str, name: str, rate: str, requests: str, workers: str) -> None:
    limiter = RedisRateLimiter(redis_url, name=name, rate=float(rate) if rate != "adaptive" else None)
    sent: list[float] = []
    throttled = 0

    def hook(event: object) -> None:
        nonlocal throttled
        kind = type(event).__name__
        if kind == "RequestSent":
            sent.append(time.time())
        elif kind == "RateLimited":
            throttled += 1

    async with PracSuiteClient(
        "vendor-1", "account-1", base_url=base_url, rate_limit=limiter, event_hooks=[hook],
        retry=RetryPolicy(max_attempts=5),
    ) as client:
        async def one() -> None:
            await client.appointment_statuses.list().collect()

        await _barrier(redis_url, name, int(workers))
        await asyncio.gather(*(one() for _ in range(int(requests))))
    learned = await limiter.shared_rate()
    await limiter.aclose()
    print(json.dumps({"sent": len(sent), "throttled": throttled, "first": min(sent), "last": max(sent),
                      "rate": learned}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
