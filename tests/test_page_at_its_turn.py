"""A list walk builds each page's models at its turn, not when the page arrives (#9, GC pressure).

Pages fetched ahead are held as bytes; a body that only fails when read still gets its retries, and a
page whose records do not decode fails at its turn, after every earlier page. A body with a
``Content-Length`` is read in one piece, so a length that lies is tested too. Against loopback servers
written here (aiohttp and raw sockets), so the page bodies and headers can be broken at will.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections import Counter
from typing import Any

import pytest
from aiohttp import web

from pracsuite_async import PracSuiteClient, ResponseDecodeError, RetryPolicy
from pracsuite_async.models import Appointment
from tests.hostile import raw_server, read_request, web_server

PAGES, SIZE = 6, 10
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_max=0.0)


def page_body(number: int) -> bytes:
    """Page ``number`` of ``PAGES`` full pages of minimal appointments."""
    first = (number - 1) * SIZE + 1
    rows = [{"appointment_id": i, "client_id": 7} for i in range(first, first + SIZE)]
    links = {"self": f"/appointment?page={number}"}
    if number < PAGES:
        links["next"] = f"/appointment?page={number + 1}"
    return json.dumps({"appointments": rows, "total_entries": PAGES * SIZE, "links": links}).encode()


def live_appointments() -> int:
    """How many ``Appointment`` objects exist right now."""
    return sum(1 for obj in gc.get_objects() if type(obj) is Appointment)


async def test_pages_fetched_ahead_hold_no_models() -> None:
    """While the caller is on page 1 with five pages fetched ahead, only page 1's records exist as models."""
    served: Counter[int] = Counter()

    async def handler(request: web.Request) -> web.Response:
        number = int(request.query["page"])
        served[number] += 1
        return web.Response(body=page_body(number), content_type="application/json")

    async with web_server(handler) as url:
        client = PracSuiteClient("vendor", "account", base_url=url + "/v1", rate_limit=10_000.0, page_window=PAGES)
        async with client, client.appointments.list(page_size=SIZE) as items:
            before = live_appointments()
            first = await anext(items)
            while sum(served.values()) < PAGES:  # the window fetches every page while we hold page 1
                await asyncio.sleep(0)  # loop turns only, no clock involved
            for _ in range(20):  # and lets every fetch finish reading its response
                await asyncio.sleep(0)
            assert live_appointments() - before == SIZE, "only the page being iterated is built"
            rest = [item async for item in items]
        assert [a.appointment_id for a in [first, *rest]] == list(range(1, PAGES * SIZE + 1))


async def test_truncated_page_read_late_is_retried() -> None:
    """A page whose body is cut short (found when its turn comes) is fetched again; nothing lost or doubled."""
    served: Counter[int] = Counter()

    async def handler(request: web.Request) -> web.Response:
        number = int(request.query["page"])
        served[number] += 1
        body = page_body(number)
        if number == 3 and served[number] == 1:
            body = body[: len(body) // 2]  # well-formed HTTP, truncated JSON
        return web.Response(body=body, content_type="application/json")

    async with web_server(handler) as url:
        client = PracSuiteClient("vendor", "account", base_url=url + "/v1", rate_limit=10_000.0, retry=FAST_RETRY)
        async with client:
            ids = [a.appointment_id async for a in client.appointments.list(page_size=SIZE)]
            assert ids == list(range(1, PAGES * SIZE + 1))
            assert served[3] == 2
            assert client.stats.retries == 1


async def test_page_that_does_not_decode_fails_at_its_turn() -> None:
    """Records of page 4 with a string id: pages 1-3 arrive whole, then a ResponseDecodeError naming the path."""
    served: Counter[int] = Counter()

    async def handler(request: web.Request) -> web.Response:
        number = int(request.query["page"])
        served[number] += 1
        data: dict[str, Any] = json.loads(page_body(number))
        if number == 4:
            data["appointments"][2]["appointment_id"] = "not-an-int"
        return web.json_response(data)

    async with web_server(handler) as url:
        client = PracSuiteClient("vendor", "account", base_url=url + "/v1", rate_limit=10_000.0, retry=FAST_RETRY)
        async with client:
            got: list[int] = []

            async def walk() -> None:
                async for appointment in client.appointments.list(page_size=SIZE):
                    got.append(appointment.appointment_id)

            with pytest.raises(ResponseDecodeError) as caught:
                await walk()
            assert any("$.appointments[2].appointment_id" in p for p in caught.value.problems)
            assert got == list(range(1, 3 * SIZE + 1))
            assert served[4] == 1, "a record that does not fit the model is not retried"


def _page_number(head: bytes) -> int:
    target = head.split(b" ", 2)[1].decode()
    return int(dict(p.split("=", 1) for p in target.split("?", 1)[1].split("&"))["page"])


@pytest.mark.parametrize(
    "lie",
    [
        pytest.param(+200, id="Content-Length longer than the body, then close"),
        pytest.param(-7, id="Content-Length shorter than the body"),
    ],
)
async def test_content_length_that_lies_costs_one_retry(lie: int) -> None:
    """A raw server whose Content-Length for page 3 does not match the body it sends (once): one retry,
    every record exactly once. A longer length ends in a typed connection error; a shorter one yields
    truncated JSON (read at the page's turn) or, when aiohttp sees the excess first, a connection error."""
    served: Counter[int] = Counter()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # keep-alive: several requests per connection
            number = _page_number(await read_request(reader))
            served[number] += 1
            body = page_body(number)
            length = len(body) + (lie if number == 3 and served[number] == 1 else 0)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
            writer.write(head.encode() + body)
            await writer.drain()
            if length > len(body):
                return  # the body ends early: close (raw_server aborts the connection)
            if length < len(body):
                await reader.read()  # the rest went out as if it were the next response: wait for the client
                return

    async with raw_server(handler) as url:
        client = PracSuiteClient("vendor", "account", base_url=url, rate_limit=10_000.0, retry=FAST_RETRY)
        async with client:
            ids = [a.appointment_id async for a in client.appointments.list(page_size=SIZE)]
            assert ids == list(range(1, PAGES * SIZE + 1))
            assert served[3] == 2
            assert client.stats.retries == 1
