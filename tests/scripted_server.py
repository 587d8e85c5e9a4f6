"""A raw asyncio HTTP/1.1 server on 127.0.0.1:0 whose every answer the test scripts, and a leak check.

Written on bare streams (not aiohttp.web) so the tests see exactly what the client does: how many
connections are open, which requests arrived and when, and nothing of a framework's own tasks.
Handlers may sleep or hang to play a slow or stalled server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs


@attrs.frozen
class Request:
    """One request as the server read it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    body: bytes
    at: float

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        return next((v for k, v in self.query if k == name), None)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body) if self.body else None


#: status, JSON-able body (``None``: empty)
Reply = tuple[int, Any]
Handler = Callable[[Request], Awaitable[Reply]]


class ScriptedServer:
    """Serves ``handler(request) -> (status, json_body)`` with keep-alive; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.open_connections = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(self.tasks)
        await self._server.wait_closed()

    async def wait_idle(self, timeout: float = 1.0) -> None:
        """Wait until the client has closed every connection (fails after ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            while self.open_connections:
                await asyncio.sleep(0.005)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.open_connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                url = urlsplit(target)
                path = url.path.removeprefix("/v1")
                req = Request(method, path, parse_qsl(url.query), body, time.monotonic())
                self.requests.append(req)
                reply = await self._answer(req, reader)
                if reply is None:
                    break  # the client hung up while the handler was busy
                status, data = reply
                payload = b"" if data is None else json.dumps(data).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()
            self.tasks.discard(task)


    async def _answer(self, req: Request, reader: asyncio.StreamReader) -> Reply | None:
        # A client that gives up closes its socket: notice the EOF even while the handler
        # hangs, as a real server does, so open_connections tracks the client's pool.
        handling = asyncio.ensure_future(self.handler(req))
        hangup = asyncio.ensure_future(reader.read(1))
        self.tasks.update((handling, hangup))
        try:
            await asyncio.wait((handling, hangup), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (handling, hangup):
                task.cancel()
            await asyncio.wait((handling, hangup))
            self.tasks.difference_update((handling, hangup))
        if handling.cancelled():
            return None
        return handling.result()


def page_of(items: list[dict[str, Any]], req: Request, key: str) -> dict[str, Any]:
    """The list envelope of ``items`` for the page the request asks for."""
    page = int(req.arg("page") or 1)
    size = int(req.arg("page_size") or 100)
    chunk = items[(page - 1) * size : page * size]
    return {key: chunk, "total_entries": len(items), "links": {"self": "x"}}


@contextlib.asynccontextmanager
async def leak_check(*ignore: ScriptedServer) -> AsyncIterator[None]:
    """Fail on any warning (ResourceWarning included), loop error report or task left behind.

    aiohttp reports an unclosed session or connector both as a ResourceWarning and to the
    loop's exception handler; asyncio reports a lost task exception to the handler.
    """
    loop = asyncio.get_running_loop()
    before = asyncio.all_tasks()
    reports: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
            for _ in range(3):  # let asyncio finalise abandoned generators
                await asyncio.sleep(0)
            gc.collect()
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    served = set().union(*(server.tasks for server in ignore))
    left = [t for t in asyncio.all_tasks() - before - served if not t.done()]
    assert left == [], left
    assert [str(w.message) for w in caught] == []
    assert [c.get("message") for c in reports] == []


CONFLICT = {"error": {"status": 409, "code": "RESERVE_APPOINTMENT_CONFLICT"}}
NOT_FOUND = {"error": {"status": 404, "code": "NOT_FOUND"}}


class SlotBook:
    """A minimal, strict booking backend: free-slot search, reserve (409 when taken), finalise, release.

    ``count`` slots on 2026-01-05, 30 minutes each, 16 per practitioner. With ``stale=True`` the
    search keeps listing taken slots (an eventually consistent index), so only the client's
    own spreading avoids collisions. ``delays`` holds seconds per step (``search``, ``reserve``,
    ``finalise``, ``release``), slept with ``sleep`` (a FakeClock's, or asyncio's).
    """

    DAY = "2026-01-05"

    def __init__(
        self,
        count: int,
        *,
        stale: bool = False,
        delays: dict[str, float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        finalise_status: int = 200,
    ) -> None:
        self.slots = [
            {
                "app_time": f"{self.DAY}T{8 + (i % 16) // 2:02d}:{30 * (i % 2):02d}:00",
                "duration": 30,
                "practitioner_id": 1 + i // 16,
                "business_id": 1,
                "column_number": 1,
                "appointment_type_id": 2,
            }
            for i in range(count)
        ]
        self.stale = stale
        self.delays = delays or {}
        self.sleep = sleep
        self.finalise_status = finalise_status
        self.taken: set[int] = set()
        self.holds: dict[int, int] = {}  # appointment_id -> slot index
        self.booked: dict[int, int] = {}  # appointment_id -> client_id
        self.released: list[int] = []
        self.conflicts = 0
        self.reserves = 0
        self._next_id = 1000

    def _index(self, body: dict[str, Any]) -> int | None:
        for i, slot in enumerate(self.slots):
            if (slot["app_time"], slot["practitioner_id"], slot["column_number"]) == (
                body.get("app_time"),
                body.get("practitioner_id"),
                body.get("column_number"),
            ):
                return i
        return None

    async def answer(self, method: str, path: str, args: dict[str, str], body: Any) -> Reply:
        """One request: ``args`` are the query parameters, ``body`` the parsed JSON."""
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/available_appointments":
            await self.sleep(self.delays.get("search", 0.0))
            listed = [
                s for i, s in enumerate(self.slots)
                if (self.stale or i not in self.taken) and args.get("from", "") <= self.DAY <= args.get("to", "")
            ]
            page, size = int(args.get("page", "1")), int(args.get("page_size", "100"))
            chunk = listed[(page - 1) * size : page * size]
            return 200, {"available_times": chunk, "total_entries": len(listed), "links": {"self": "x"}}
        if method == "POST" and path == "/reserve_appointment":
            await self.sleep(self.delays.get("reserve", 0.0))
            self.reserves += 1
            index = self._index(body)
            if index is None:
                return 422, {"error": {"status": 422, "code": "INVALID_BODY"}}
            if index in self.taken:
                self.conflicts += 1
                return 409, CONFLICT
            self.taken.add(index)
            self._next_id += 1
            self.holds[self._next_id] = index
            slot = self.slots[index]
            # AppointmentLite requires appointment_id, app_time and duration (spec).
            return 201, {"appointment_id": self._next_id, "app_time": slot["app_time"], "duration": slot["duration"]}
        if method == "POST" and parts[0] == "appointment" and len(parts) == 2:
            await self.sleep(self.delays.get("finalise", 0.0))
            aid = int(parts[1])
            if aid not in self.holds:
                return 404, NOT_FOUND
            if self.finalise_status >= 300:
                return self.finalise_status, {"error": {"status": self.finalise_status, "code": "X"}}
            self.booked[aid] = body["client_id"]
            slot = self.slots[self.holds[aid]]
            return 200, {"appointment_id": aid, "client_id": body["client_id"], **slot}
        if method == "POST" and parts[0] == "appointment" and parts[-1] == "cancel":
            await self.sleep(self.delays.get("release", 0.0))
            aid = int(parts[1])
            index = self.holds.pop(aid, None)
            if index is None:
                return 404, NOT_FOUND
            self.taken.discard(index)
            self.released.append(aid)
            return 204, None
        return 404, NOT_FOUND

    async def scripted(self, req: Request) -> Reply:
        """Handler for :class:`ScriptedServer`."""
        return await self.answer(req.method, req.path, dict(req.query), req.json())
