"""Clients that drop the connection mid-request: one log line each, never a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.simulator.conftest import KEYS, Api, MakeApi

HEAD = "".join(f"{k}: {v}\r\n" for k, v in KEYS.items())


async def _served(api: Api, count: int) -> None:
    """Wait until the simulator has finished ``count`` requests (the handler runs after the client left)."""
    for _ in range(500):
        if api.sim.stats.total >= count:
            return
        await asyncio.sleep(0.01)
    pytest.fail("the simulator never finished the request")


def _check_one_line(caplog: pytest.LogCaptureFixture, operation: str) -> None:
    """Exactly one record, a warning naming the operation, and no traceback anywhere."""
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in records] == [
        f"client 127.0.0.1 dropped the connection during {operation}"
    ]
    assert records[0].name == "pracsuite_async.simulator"
    assert all(r.exc_info is None and r.exc_text is None for r in caplog.records)


class TestDroppedClients:
    async def test_client_leaves_mid_response(self, make_api: MakeApi, caplog: pytest.LogCaptureFixture) -> None:
        """A client that closes the socket after half the body is logged once, with no traceback."""
        caplog.set_level(logging.DEBUG)
        gate = asyncio.Event()

        async def stall_until_told(seconds: float) -> None:
            await gate.wait()

        api = await make_api(faults="slow:1", slow_seconds=5, sleep=stall_until_told)
        reader, writer = await asyncio.open_connection("127.0.0.1", api.sim.port)
        writer.write(f"GET /v1/business HTTP/1.1\r\nHost: 127.0.0.1\r\n{HEAD}\r\n".encode())
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        writer.transport.abort()
        await asyncio.sleep(0.05)  # the server sees the connection close before it writes again
        gate.set()
        await _served(api, 1)
        _check_one_line(caplog, "listBusinesses (GET)")
        assert api.sim.stats.by_status[0] == 1

    async def test_client_leaves_while_sending_the_body(
        self, api: Api, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A client that closes the socket before its announced body arrives is logged once, with no traceback."""
        caplog.set_level(logging.DEBUG)
        reader, writer = await asyncio.open_connection("127.0.0.1", api.sim.port)
        writer.write(
            f"POST /v1/patient HTTP/1.1\r\nHost: 127.0.0.1\r\n{HEAD}Content-Type: application/json\r\n"
            f'Content-Length: 1000\r\n\r\n{{"first_name": '.encode()
        )
        await writer.drain()
        await asyncio.sleep(0.05)  # the handler is now waiting for the rest of the body
        writer.transport.abort()
        await _served(api, 1)
        _check_one_line(caplog, "createPatient (POST)")
        assert reader.at_eof() or not await reader.read()
