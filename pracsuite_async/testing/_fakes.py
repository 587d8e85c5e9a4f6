"""FakeClock and FakeTransport."""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from pracsuite_async._redact import SecretHeaders
from pracsuite_async._transport import RawResponse
from pracsuite_async._types import QueryParams

__all__ = ["FakeClock", "FakeTransport", "RecordedRequest", "json_response"]

# Rounds of `sleep(0)` that let every runnable task reach its next wait before
# virtual time moves on; chains of awaits between two sleeps are short.
_SETTLE_ROUNDS = 50


class FakeClock:
    """A virtual clock: :meth:`sleep` advances time instead of waiting.

    Sleepers wake in deadline order. Time moves to the earliest pending wake-up
    only once every other task has had the chance to run, so concurrent sleepers
    observe a consistent timeline. ``sleeps`` records every requested duration.
    """

    def __init__(self, start: float = 1000.0, *, wall_start: float = 1_767_225_600.0) -> None:
        self._now = start
        self._wall_offset = wall_start - start
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._driver: asyncio.Task[None] | None = None
        self.sleeps: list[float] = []

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now:.6f}, sleepers={len(self._waiters)})"

    def now(self) -> float:
        """Virtual monotonic seconds."""
        return self._now

    def wall(self) -> float:
        """Virtual epoch seconds (moves with :meth:`now`)."""
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        """Move time forward by hand, waking sleepers that are due."""
        self._now += seconds
        self._wake_due()

    async def sleep(self, seconds: float) -> None:
        """Sleep in virtual time."""
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self._now + seconds, next(self._seq), fut))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.get_running_loop().create_task(self._drive())
        await fut

    def _wake_due(self) -> None:
        while self._waiters and self._waiters[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)

    async def _drive(self) -> None:
        while self._waiters:
            for _ in range(_SETTLE_ROUNDS):
                await asyncio.sleep(0)
            while self._waiters and self._waiters[0][2].done():
                heapq.heappop(self._waiters)  # cancelled sleepers
            if not self._waiters:
                break
            self._now = max(self._now, self._waiters[0][0])
            self._wake_due()


@attrs.frozen
class RecordedRequest:
    """One request seen by :class:`FakeTransport` (headers included: it is a test double)."""

    method: str
    path: str
    params: QueryParams
    headers: Mapping[str, str]
    body: bytes | None
    timeout: float | None

    def json(self) -> Any:
        """The body parsed as JSON (``None`` without a body)."""
        return None if self.body is None else json.loads(self.body)

    def query(self, name: str) -> list[str]:
        """All values of query parameter ``name``."""
        return [v for k, v in self.params if k == name]


Handler = Callable[[RecordedRequest], RawResponse | Awaitable[RawResponse]]


def json_response(
    status: int = 200, data: Any = None, headers: Mapping[str, str] | None = None
) -> RawResponse:
    """Build a :class:`RawResponse` with a JSON body."""
    body = b"" if data is None else json.dumps(data).encode()
    return RawResponse(status, {"Content-Type": "application/json", **(headers or {})}, body)


class FakeTransport:
    """A :class:`~pracsuite_async.Transport` that answers from ``handler`` and records requests.

    The handler may return a :class:`RawResponse` (or an awaitable of one) or raise
    a :class:`~pracsuite_async.TransportError` to simulate a network failure.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[RecordedRequest] = []
        self.closed: bool = False

    def __repr__(self) -> str:
        return f"FakeTransport(requests={len(self.requests)})"

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams,
        headers: SecretHeaders,
        body: bytes | None,
        timeout: float | None,
    ) -> RawResponse:
        """Record the request (keys revealed: a test double checks them) and return the handler's response."""
        req = RecordedRequest(method, path, list(params), headers.reveal(), body, timeout)
        return await self._answer(req)

    async def post_form(
        self,
        url: str,
        *,
        fields: Mapping[str, str],
        file_name: str,
        content: bytes,
        timeout: float | None,
    ) -> RawResponse:
        """Record a presigned upload (as ``POST`` of ``url``, body = the file) and answer it."""
        req = RecordedRequest("POST", url, list(fields.items()), {"file_name": file_name}, content, timeout)
        return await self._answer(req)

    async def get_url(self, url: str, *, timeout: float | None) -> RawResponse:
        """Record a presigned download (as ``GET`` of ``url``) and answer it."""
        return await self._answer(RecordedRequest("GET", url, [], {}, None, timeout))

    async def _answer(self, req: RecordedRequest) -> RawResponse:
        self.requests.append(req)
        result = self._handler(req)
        if inspect.isawaitable(result):
            return await result
        return result

    async def aclose(self) -> None:
        """Mark the transport closed."""
        self.closed = True
