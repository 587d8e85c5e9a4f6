"""client.request and capture_responses against a hostile loopback server (nothing here is documented by the API)."""

from __future__ import annotations

import pytest
from aiohttp import web

from pracsuite_async import (
    NotFoundError,
    PracSuiteClient,
    ResponseDecodeError,
    RetryPolicy,
    capture_responses,
)
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY
from tests.hostile import web_server


async def _hostile(request: web.Request) -> web.StreamResponse:
    """One misbehaviour per path: HTML as 200, an empty 200, a 204 with a body, odd request-id headers."""
    match request.path:
        case "/v1/html":
            return web.Response(text="<html>proxy says hi</html>", content_type="text/html")
        case "/v1/empty":
            return web.Response(status=200, body=b"", content_type="application/json")
        case "/v1/no-content":
            return web.Response(status=204)
        case "/v1/ids":
            headers = [("x-request-id", "first"), ("X-Request-Id", "second")]
            resp = web.json_response({"ok": True})
            for name, value in headers:
                resp.headers.add(name, value)
            return resp
        case _:
            return web.json_response({"error": {"status": 404, "code": "NOT_FOUND"}}, status=404)


def _client(origin: str) -> PracSuiteClient:
    return PracSuiteClient(
        VENDOR_KEY, ACCOUNT_KEY, base_url=f"{origin}/v1", rate_limit=1000.0, retry=RetryPolicy(max_attempts=1)
    )


async def test_raw_request_turns_non_json_into_a_decode_error() -> None:
    """A 200 that is HTML (a proxy page) is a ResponseDecodeError naming no body text, not a raw parse error."""
    async with web_server(_hostile) as origin, _client(origin) as client:
        with pytest.raises(ResponseDecodeError) as info:
            await client.request("GET", "/html")
        assert "proxy" not in str(info.value)


async def test_raw_request_bodyless_answers_and_errors() -> None:
    """An empty 200 and a 204 decode to None; an error status is the typed error of that status."""
    async with web_server(_hostile) as origin, _client(origin) as client:
        assert await client.request("GET", "/no-content") is None
        assert await client.request("GET", "/empty") is None
        with pytest.raises(NotFoundError):
            await client.request("GET", "/missing")


async def test_capture_reads_request_ids_case_insensitively_and_records_errors() -> None:
    """Request-id headers in any case are found (the first wins); a failed call is captured too."""
    async with web_server(_hostile) as origin, _client(origin) as client:
        with capture_responses() as captured:
            assert await client.request("GET", "/ids") == {"ok": True}
            with pytest.raises(NotFoundError):
                await client.request("GET", "/missing")
    ok, failed = captured.responses
    assert ok.request_id == "first"
    assert (failed.status, failed.request_id) == (404, None)
    assert ok.path == failed.path == "<request>"  # never the filled path
