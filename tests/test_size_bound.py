"""Response bodies are bounded while they are read: a lying or endless server cannot fill memory."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from pracsuite_async import PracSuiteClient, ResponseTooLargeError, RetryPolicy
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY
from tests.hostile import raw_server, read_request, web_server

LIMIT = 4096


def _client(base_url: str, **kwargs: Any) -> PracSuiteClient:
    kwargs.setdefault("max_response_bytes", LIMIT)
    return PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, base_url=base_url, rate_limit=1000.0, **kwargs)


async def _huge_length(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400000000000\r\n\r\n{")
    await writer.drain()
    await reader.read()


async def _endless_chunks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 16384
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while True:  # until the client hangs up
        writer.write(frame)
        await writer.drain()


@contextlib.asynccontextmanager
async def _web(handler: Any) -> AsyncIterator[tuple[str, list[str]]]:
    seen: list[str] = []

    async def counted(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        response: web.StreamResponse = await handler(request)
        return response

    async with web_server(counted) as origin:
        yield origin, seen


def _json_of_size(size: int) -> bytes:
    body = json.dumps({"appointment_id": 1, "notes": ""}).encode()
    return body[:-2] + b"x" * (size - len(body)) + body[-2:]


class TestResponseBound:
    async def test_huge_content_length_fails_at_once(self) -> None:
        """A Content-Length over the bound fails before any body is read, long before the timeout."""
        async with raw_server(_huge_length) as url, _client(url, timeout=20) as client:
            started = time.monotonic()
            with pytest.raises(ResponseTooLargeError) as info:
                await client.appointments.get(1)
        assert time.monotonic() - started < 5
        assert info.value.limit == LIMIT
        assert str(LIMIT) in str(info.value)

    async def test_endless_chunked_body_stops_near_the_bound(self) -> None:
        """An endless chunked body is cut at the bound; memory held stays near the bound, not the stream."""
        bound = 256 * 1024
        async with raw_server(_endless_chunks) as url, _client(url, timeout=20, max_response_bytes=bound) as client:
            tracemalloc.start()
            try:
                started = time.monotonic()
                with pytest.raises(ResponseTooLargeError):
                    await client.appointments.get(1)
                elapsed = time.monotonic() - started
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert elapsed < 5
        assert peak < 8 * bound

    @pytest.mark.parametrize("chunked", [False, True])
    @pytest.mark.parametrize(("size", "fits"), [(LIMIT, True), (LIMIT + 1, False)])
    async def test_just_under_and_over_the_bound(self, size: int, fits: bool, chunked: bool) -> None:
        """A body of exactly the bound is read; one byte more is refused, sized or chunked."""

        async def handler(request: web.Request) -> web.StreamResponse:
            body = _json_of_size(size)
            if not chunked:
                return web.Response(body=body, content_type="application/json")
            response = web.StreamResponse()
            response.content_type = "application/json"
            response.enable_chunked_encoding()
            await response.prepare(request)
            for i in range(0, len(body), 1000):
                await response.write(body[i : i + 1000])
            await response.write_eof()
            return response

        async with _web(handler) as (root, seen), _client(root + "/v1") as client:
            if fits:
                appointment = await client.appointments.get(1)
                assert appointment.appointment_id == 1
            else:
                with pytest.raises(ResponseTooLargeError):
                    await client.appointments.get(1)
        assert len(seen) == 1  # a too-large body is not retried

    async def test_compressed_body_is_bounded_after_decompression(self) -> None:
        """A small gzip body that inflates past the bound is refused (the bound counts decoded bytes)."""
        bomb = gzip.compress(b"0" * (4 * 1024 * 1024))

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(
                body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
            )

        assert len(bomb) < LIMIT * 2
        async with _web(handler) as (root, _seen), _client(root + "/v1", max_response_bytes=LIMIT * 2) as client:
            with pytest.raises(ResponseTooLargeError):
                await client.appointments.get(1)

    def test_default_bound_is_documented(self) -> None:
        """The default bound is 32 MiB for API responses and 128 MiB for downloads."""
        from pracsuite_async._config import DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_RESPONSE_BYTES

        assert DEFAULT_MAX_RESPONSE_BYTES == 32 * 1024 * 1024
        assert DEFAULT_MAX_DOWNLOAD_BYTES == 128 * 1024 * 1024


class TestDownloadBound:
    @pytest.mark.parametrize(("size", "fits"), [(LIMIT * 4, True), (LIMIT * 4 + 1, False)])
    async def test_download_has_its_own_bound(self, size: int, fits: bool) -> None:
        """Attachment downloads are bounded by max_download_bytes, independently of the JSON bound."""
        base: list[str] = []

        async def handler(request: web.Request) -> web.StreamResponse:
            if request.path.endswith("/presign_url"):
                return web.json_response({"url": f"{base[0]}/storage/file?sig=1"})
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(b"\x00" * size)
            await response.write_eof()
            return response

        async with _web(handler) as (root, _seen):
            base.append(root)
            async with _client(root + "/v1", max_download_bytes=LIMIT * 4, retry=RetryPolicy(max_attempts=1)) as client:
                if fits:
                    assert len(await client.patient_attachments.download_content(1)) == size
                else:
                    with pytest.raises(ResponseTooLargeError):
                        await client.patient_attachments.download_content(1)
