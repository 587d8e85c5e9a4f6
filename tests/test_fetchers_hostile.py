"""The walk's fetchers against a loopback server that answers out of order and drops connections.

The fetcher design assumes nothing of the server's timing: a page that is held back
while later ones are answered, and a connection reset in the middle of a walk, must
still give every record once, in page order, with no more than ``page_window``
requests at the server at once.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict

from aiohttp import web

from pracsuite_async import PracSuiteClient, RetryPolicy
from tests.hostile import web_server

PAGES = 30
SIZE = 10
WINDOW = 4
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_max=0.0)


async def test_held_back_pages_and_resets_lose_nothing() -> None:
    """Every third page is answered after the two behind it; some connections reset mid-walk."""
    answered: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
    attempts: Counter[int] = Counter()
    state = {"busy": 0, "worst": 0}

    async def handler(request: web.Request) -> web.StreamResponse:
        page = int(request.query["page"])
        attempts[page] += 1
        state["busy"] += 1
        state["worst"] = max(state["worst"], state["busy"])
        try:
            if page % 7 == 0 and attempts[page] == 1:
                assert request.transport is not None
                request.transport.abort()  # a reset mid-walk: the retry must fetch it again
                raise web.HTTPInternalServerError
            if page % 3 == 2:
                # Held back until the next two pages were answered: the head of the window last.
                for later in (page + 1, page + 2):
                    if later <= PAGES:
                        await answered[later].wait()
            ids = range((page - 1) * SIZE + 1, page * SIZE + 1)
            body = {
                "appointments": [{"appointment_id": i} for i in ids],
                "total_entries": PAGES * SIZE,
                "links": {"self": "x", "next": "y"} if page < PAGES else {"self": "x"},
            }
            return web.Response(body=json.dumps(body), content_type="application/json")
        finally:
            state["busy"] -= 1
            answered[page].set()

    async with web_server(handler) as url:
        client = PracSuiteClient(
            "vendor", "account", base_url=url + "/v1", rate_limit=10_000.0, page_window=WINDOW, retry=FAST_RETRY
        )
        async with client, asyncio.timeout(10):
            got = [a.appointment_id async for a in client.appointments.list(page_size=SIZE)]
    assert got == list(range(1, PAGES * SIZE + 1))
    assert 2 <= state["worst"] <= WINDOW  # held-back pages overlapped, never past the window
    assert all(attempts[p] == 2 for p in range(7, PAGES + 1, 7))
    assert sum(attempts.values()) == PAGES + PAGES // 7
