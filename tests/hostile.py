"""Small hostile loopback servers for the wire tests: raw asyncio servers that reset, stall or lie."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
WebHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one request's head (and nothing of its body): enough for every hostile reply here."""
    return await reader.readuntil(b"\r\n\r\n")


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0) rather than a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@asynccontextmanager
async def raw_server(handler: ConnectionHandler) -> AsyncIterator[str]:
    """Serve ``handler`` on 127.0.0.1:<free port>; yield the base URL; abort every connection on exit."""
    writers: set[asyncio.StreamWriter] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        for writer in writers:
            writer.transport.abort()
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def web_server(handler: WebHandler) -> AsyncIterator[str]:
    """Serve ``handler`` for every method and path on 127.0.0.1:<free port>; yield ``http://127.0.0.1:<port>``.

    For hostile replies that are still well-formed HTTP (sizes, chunking, bodies, headers).
    """
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def refused_url() -> str:
    """A loopback base URL on which nothing listens (the port was just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
