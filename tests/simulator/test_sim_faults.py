"""Fault injection: each kind on the wire, the seeded schedule, and token spending."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from pracsuite_async.simulator import parse_faults
from pracsuite_async.simulator._faults import FaultInjector
from tests.simulator.conftest import KEYS, Api, MakeApi, ManualClock, RecordingSleep


async def _raw(api: Api, path: str = "/sex") -> bytes:
    """Send one request over a fresh socket and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", api.sim.port)
    head = "".join(f"{k}: {v}\r\n" for k, v in KEYS.items())
    writer.write(f"GET /v1{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Connection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data


class TestSchedule:
    def test_parse(self) -> None:
        """Schedules parse into (kind, probability) pairs; bad ones raise ValueError."""
        assert parse_faults("500:0.05, 503ra:0.02,reset:0.02,trunc:0.01,badjson:0.005,slow:0.01") == (
            ("500", 0.05),
            ("503ra", 0.02),
            ("reset", 0.02),
            ("trunc", 0.01),
            ("badjson", 0.005),
            ("slow", 0.01),
        )
        assert parse_faults("") == ()
        for bad in ("500", "404:0.1", "boom:0.1", "500:0.7,502:0.7", "500:1.5"):
            with pytest.raises(ValueError):  # noqa: PT011  the messages vary per problem
                parse_faults(bad)

    def test_draws_are_seeded_and_proportional(self) -> None:
        """The same seed draws the same kinds; frequencies follow the probabilities."""
        schedule = parse_faults("500:0.2,reset:0.1")
        one = [FaultInjector(schedule, 7).draw() for _ in range(1)]
        a, b = FaultInjector(schedule, 7), FaultInjector(schedule, 7)
        draws = [a.draw() for _ in range(5000)]
        assert draws == [b.draw() for _ in range(5000)]
        assert draws[:1] == one
        assert 0.17 < draws.count("500") / 5000 < 0.23
        assert 0.08 < draws.count("reset") / 5000 < 0.12
        assert draws != [FaultInjector(schedule, 8).draw() for _ in range(5000)]


class TestKinds:
    async def test_plain_5xx(self, make_api: MakeApi) -> None:
        """A 5xx fault answers with the error envelope (SERVER_ERROR) without running the handler."""
        api = await make_api(faults="500:1")
        reply = await api.get("/sex")
        assert reply.status == 500
        assert reply.json["error"]["code"] == "SERVER_ERROR"
        other = await make_api(faults="502:1")
        assert (await other.get("/sex", validate=False)).status == 502
        created = await api.post("/patient", {"first_name": "A", "surname": "B"})
        assert created.status == 500
        assert api.sim.dataset.tables["patients"].get(401) is None
        assert api.sim.stats.faults["500"] == 2

    async def test_503_with_retry_after(self, make_api: MakeApi) -> None:
        """503ra answers 503 with Retry-After (fault_retry_after seconds)."""
        api = await make_api(faults="503ra:1", fault_retry_after=3)
        reply = await api.get("/sex", validate=False)
        assert reply.status == 503
        assert reply.headers["Retry-After"] == "3"

    async def test_reset_closes_without_a_response(self, make_api: MakeApi) -> None:
        """reset aborts the connection before any byte of a response."""
        api = await make_api(faults="reset:1")
        assert await _raw(api) == b""
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await api.get("/sex")
        assert api.sim.stats.by_status[0] >= 2
        assert api.sim.stats.faults["reset"] >= 2

    async def test_truncated_body(self, make_api: MakeApi) -> None:
        """trunc announces the full Content-Length, sends half the body, then aborts."""
        api = await make_api(faults="trunc:1")
        raw = await _raw(api, "/patient")
        head, _, body = raw.partition(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
        )
        assert head.startswith(b"HTTP/1.1 200")
        assert 0 < len(body) < length
        assert len(body) == length // 2
        with pytest.raises(aiohttp.ClientPayloadError):
            await api.get("/patient")

    async def test_bad_json(self, make_api: MakeApi) -> None:
        """badjson answers 200 with a body that is not valid JSON."""
        api = await make_api(faults="badjson:1")
        async with api.session.get(api.sim.base_url + "/patient", headers=KEYS) as resp:
            assert resp.status == 200
            assert resp.content_type == "application/json"
            with pytest.raises(json.JSONDecodeError):
                json.loads(await resp.read())

    async def test_slow_body_stalls(self, make_api: MakeApi) -> None:
        """slow sends half the body, stalls for slow_seconds (on the injected sleep), then completes."""
        sleep = RecordingSleep()
        api = await make_api(faults="slow:1", slow_seconds=4.5, sleep=sleep)
        reply = await api.get("/business")
        assert reply.status == 200
        assert reply.json["total_entries"] == 3
        assert sleep.calls == [4.5]

    async def test_faulted_requests_spend_tokens(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """A faulted request has been admitted: it uses a token, so the next one can be a 429."""
        api = await make_api(faults="500:1", rate=1.0, burst=1, clock=sim_clock)
        assert (await api.get("/sex")).status == 500
        assert (await api.get("/sex")).status == 429
        assert api.sim.stats.accepted == 1

    async def test_mixed_schedule_counts(self, make_api: MakeApi) -> None:
        """Under a mixed schedule the stats count each injected kind, and clean answers still validate."""
        api = await make_api(faults="500:0.2,503ra:0.1,badjson:0.1")
        clean = 0
        for _ in range(60):
            reply = await api.call("GET", "/sex", validate=False)
            if reply.status == 200 and reply.json is not None:
                api.validate("GET", "/sex", [], None, reply)
                clean += 1
        faults = api.sim.stats.faults
        assert sum(faults.values()) == 60 - clean
        assert set(faults) == {"500", "503ra", "badjson"}
