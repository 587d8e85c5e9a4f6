"""Seeded fault injection: which admitted request fails, and how it fails on the wire.

Kinds (see :func:`~pracsuite_async.simulator._config.parse_faults`):

- ``5xx`` (``500``, ``502``...): the error envelope with that status, handler not run;
- ``503ra``: 503 with ``Retry-After``, handler not run;
- ``reset``: the connection is aborted before any response byte, handler not run;
- ``trunc``: the handler's response with its full ``Content-Length``, half the body, then an abort;
- ``badjson``: status 200 with a malformed JSON body (the handler's body cut in half);
- ``slow``: the handler's response, with the body stalled half-way for ``slow_seconds``.

The first three model failures before the request is processed (no side effects);
the last three model failures after it was processed (writes have happened).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from aiohttp import web

#: Kinds decided before the handler runs.
PRE_HANDLER = frozenset({"503ra", "reset"})


class FaultInjector:
    """Draws at most one fault kind per admitted request from a seeded RNG."""

    def __init__(self, schedule: tuple[tuple[str, float], ...], seed: int) -> None:
        """Use ``schedule`` (``(kind, probability)`` pairs) with an RNG seeded from ``seed``."""
        self._rng = random.Random(f"faults-{seed}")
        self.set_schedule(schedule)

    def set_schedule(self, schedule: tuple[tuple[str, float], ...]) -> None:
        """Replace the schedule (the RNG stream continues)."""
        cumulative: list[tuple[float, str]] = []
        total = 0.0
        for kind, prob in schedule:
            if prob > 0:
                total += prob
                cumulative.append((total, kind))
        self._cumulative = tuple(cumulative)

    def draw(self) -> str | None:
        """Return the fault kind for the next admitted request, or ``None``."""
        if not self._cumulative:
            return None
        r = self._rng.random()
        for bound, kind in self._cumulative:
            if r < bound:
                return kind
        return None


def is_pre_handler(kind: str) -> bool:
    """Whether ``kind`` replaces the handler (status faults and resets) rather than mangling its output."""
    return kind in PRE_HANDLER or kind.isdigit()


def _body_of(resp: web.StreamResponse) -> bytes:
    body = resp.body if isinstance(resp, web.Response) else None
    if isinstance(body, bytes):
        return body
    return b""


def _copy_headers(src: web.StreamResponse, dst: web.StreamResponse) -> None:
    for name, value in src.headers.items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            dst.headers[name] = value


def reset(request: web.Request) -> web.Response:
    """Abort the connection; the returned response is never written."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


async def truncate(request: web.Request, resp: web.StreamResponse) -> web.StreamResponse:
    """Announce the full body length, send half of it, then abort the connection."""
    body = _body_of(resp)
    if not body:
        return reset(request)
    out = web.StreamResponse(status=resp.status)
    _copy_headers(resp, out)
    out.content_length = len(body)
    await out.prepare(request)
    await out.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.abort()
    return out


def bad_json(resp: web.StreamResponse) -> web.Response:
    """A 200 whose JSON body is cut in half (never valid JSON)."""
    body = _body_of(resp)
    broken = body[: len(body) // 2] if len(body) > 2 else b'{"'
    return web.Response(status=200, body=broken, content_type="application/json")


async def stall(
    request: web.Request,
    resp: web.StreamResponse,
    seconds: float,
    sleep: Callable[[float], Awaitable[None]],
) -> web.StreamResponse:
    """Send the headers and half the body, wait ``seconds``, then send the rest."""
    body = _body_of(resp)
    out = web.StreamResponse(status=resp.status)
    _copy_headers(resp, out)
    out.content_length = len(body)
    await out.prepare(request)
    half = len(body) // 2
    if half:
        await out.write(body[:half])
    await sleep(seconds)
    await out.write(body[half:])
    await out.write_eof()
    return out
