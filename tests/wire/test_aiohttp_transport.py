"""Wire details of the aiohttp transport, checked with aioresponses (no network)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from pracsuite_async import (
    ConfigurationError,
    ConnectError,
    ConnectionLostError,
    PracSuiteClient,
    RequestTimeoutError,
    TransportError,
    __version__,
)
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, prepared

ANY_THING = re.compile(r"^https://api\.pracsuite\.com/v1/thing.*$")


@pytest.fixture
def mocked() -> Any:
    """aioresponses active for one test."""
    with aioresponses() as m:
        yield m


def _client(**kwargs: Any) -> PracSuiteClient:
    kwargs.setdefault("rate_limit", 1000.0)
    return PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, **kwargs)


class TestWire:
    async def test_both_keys_and_user_agent_on_every_request(self, mocked: Any) -> None:
        """x-api-key, A-api-key, User-Agent and Accept go on every request."""
        seen: list[dict[str, str]] = []

        def capture(url: Any, **kwargs: Any) -> CallbackResult:
            seen.append(dict(kwargs["headers"]))
            return CallbackResult(status=200, payload={"ok": 1})

        mocked.get(ANY_THING, callback=capture, repeat=True)
        async with _client() as client:
            for _ in range(2):
                await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        assert len(seen) == 2
        for headers in seen:
            assert headers["x-api-key"] == VENDOR_KEY
            assert headers["A-api-key"] == ACCOUNT_KEY
            assert headers["User-Agent"] == f"pracsuite-async/{__version__}"
            assert headers["Accept"] == "application/json"

    async def test_query_parameters_are_encoded(self, mocked: Any) -> None:
        """Repeated q[] parameters and sort_by reach the URL in order."""
        from pracsuite_async._wire import PreparedRequest
        from tests.conftest import GET_THING

        mocked.get(ANY_THING, payload={})
        req = PreparedRequest(
            GET_THING, "GET", "/thing/1", [("q[]", "business_id:=5"), ("q[]", "first_name:~jo"), ("sort_by", "a,b")], None
        )
        async with _client() as client:
            await client._pipeline.call(req, deadline=None, idempotent=None)
        (key,) = mocked.requests
        url = str(key[1])
        assert "q%5B%5D=business_id:%3D5&q%5B%5D=first_name:~jo" in url or "q[]=business_id" in url
        assert url.index("business_id") < url.index("first_name")
        assert "sort_by=a,b" in url or "sort_by=a%2Cb" in url

    @pytest.mark.parametrize(
        ("exc", "cls", "sent"),
        [
            (aiohttp.ClientConnectorError(aiohttp.client_reqrep.ConnectionKey("h", 1, True, True, None, None, None), OSError(111, "refused")), ConnectError, False),
            (aiohttp.ServerDisconnectedError(), ConnectionLostError, True),
            (aiohttp.ClientPayloadError("truncated"), ConnectionLostError, True),
            (TimeoutError(), RequestTimeoutError, True),
            (RuntimeError("unexpected"), TransportError, True),
        ],
    )
    async def test_failures_map_to_typed_errors(
        self, mocked: Any, exc: Exception, cls: type[Exception], sent: bool
    ) -> None:
        """aiohttp failures become typed errors with request_sent set; aiohttp's exception is not chained."""
        mocked.get(ANY_THING, exception=exc, repeat=True)
        async with _client(retry=__import__("pracsuite_async").RetryPolicy(max_attempts=1)) as client:
            with pytest.raises(cls) as info:
                await client._pipeline.call(prepared(), deadline=None, idempotent=None)
        assert type(info.value) is cls
        assert info.value.request_sent is sent  # type: ignore[attr-defined]
        assert info.value.__cause__ is None
        assert info.value.__context__ is None

    async def test_no_content_returns_none(self, mocked: Any) -> None:
        """A 204 decodes to None."""
        mocked.get(ANY_THING, status=204, body=b"")
        async with _client() as client:
            assert await client._pipeline.call(prepared(), deadline=None, idempotent=None) is None

    async def test_async_with_closes_the_session(self, mocked: Any) -> None:
        """Leaving `async with` closes the session the client created."""
        mocked.get(ANY_THING, payload={})
        async with _client() as client:
            await client._pipeline.call(prepared(), deadline=None, idempotent=None)
            session = client._transport._session  # type: ignore[attr-defined]
            assert session is not None
        assert session.closed

    async def test_borrowed_session_is_left_open(self, mocked: Any) -> None:
        """A session passed in by the caller is not closed by the client."""
        mocked.get(ANY_THING, payload={})
        async with aiohttp.ClientSession() as session:
            async with _client(session=session) as client:
                await client._pipeline.call(prepared(), deadline=None, idempotent=None)
            assert not session.closed


class TestBaseURL:
    @pytest.mark.parametrize("url", ["http://api.example.com/v1", "ftp://x/v1", "not a url"])
    def test_insecure_or_bad_urls_are_refused(self, url: str) -> None:
        """Plain http to a remote host (or a non-http URL) is a ConfigurationError."""
        with pytest.raises(ConfigurationError):
            _client(base_url=url)

    @pytest.mark.parametrize("url", ["http://127.0.0.1:8080/v1", "http://localhost/v1", "http://[::1]:9/v1"])
    def test_loopback_http_is_allowed(self, url: str) -> None:
        """http to loopback is fine (the simulator)."""
        assert _client(base_url=url).base_url == url

    def test_explicit_opt_in_allows_http(self) -> None:
        """allow_insecure=True permits plain http to any host."""
        assert _client(base_url="http://intranet/v1", allow_insecure=True).base_url == "http://intranet/v1"
