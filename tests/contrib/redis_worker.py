"""One worker process of the shared-budget test: GET pages from the simulator under a Redis budget.

Usage: python -m tests.contrib.redis_worker REDIS_URL BASE_URL NAME RATE REQUESTS START_AT
Prints one JSON line: requests sent, 429s seen, first and last send times (epoch seconds).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from pracsuite_async import PracSuiteClient, RetryPolicy
from pracsuite_async.contrib.redis import RedisRateLimiter


async def main(redis_url: str, base_url: str, name: str, rate: str, requests: str, start_at: str) -> None:
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

    delay = float(start_at) - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    async with PracSuiteClient(
        "vendor-1", "account-1", base_url=base_url, rate_limit=limiter, event_hooks=[hook],
        retry=RetryPolicy(max_attempts=5),
    ) as client:
        async def one() -> None:
            await client.appointment_statuses.list().collect()

        await asyncio.gather(*(one() for _ in range(int(requests))))
    learned = await limiter.shared_rate()
    await limiter.aclose()
    print(json.dumps({"sent": len(sent), "throttled": throttled, "first": min(sent), "last": max(sent),
                      "rate": learned}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
