"""The transport seam: :class:`Transport` protocol and its aiohttp implementation.

This is the only module that imports aiohttp. It maps aiohttp's exceptions, at
one boundary, onto :class:`~pracsuite_async._errors.TransportError` subclasses with
``request_sent`` set from what aiohttp knows: a refused connection was never sent;
a dropped connection or a read timeout may have been.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp
import attrs

from pracsuite_async._errors import (
    ClientClosedError,
    ConfigurationError,
    ConnectError,
    ConnectionLostError,
    EventLoopMismatchError,
    RequestTimeoutError,
    TransportError,
)
from pracsuite_async._types import QueryParams

__all__ = ["AiohttpTransport", "ExternalTransport", "RawResponse", "Transport", "check_base_url"]


@attrs.frozen
class RawResponse:
    """A response as bytes: status, headers (case-insensitive mapping) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@runtime_checkable
class Transport(Protocol):
    """Sends one HTTP request and returns the whole response.

    Implementations raise :class:`~pracsuite_async._errors.TransportError`
    subclasses for failures below HTTP, never their library's own exceptions.
    """

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> RawResponse:
        """Send ``method`` to ``path`` (relative to the base URL)."""

    async def aclose(self) -> None:
        """Release connections; idempotent."""


@runtime_checkable
class ExternalTransport(Protocol):
    """Requests to absolute URLs outside the API (presigned storage), sent without API keys."""

    async def post_form(
        self,
        url: str,
        *,
        fields: Mapping[str, str],
        file_name: str,
        content: bytes,
        timeout: float | None,
    ) -> RawResponse:
        """POST ``fields`` and then the file as ``multipart/form-data`` to ``url``."""

    async def get_url(self, url: str, *, timeout: float | None) -> RawResponse:
        """GET ``url`` and return the whole body."""


def check_base_url(base_url: str, *, allow_insecure: bool) -> str:
    """Validate the base URL: ``https``, or ``http`` to loopback, or an explicit opt-in."""
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = "base_url must be an absolute http(s) URL"
        raise ConfigurationError(msg)
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(parts.hostname):
        msg = "base_url uses plain http to a non-loopback host; pass allow_insecure=True to permit it"
        raise ConfigurationError(msg)
    return base_url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AiohttpTransport:
    """:class:`Transport` over one ``aiohttp.ClientSession`` (one connection pool).

    Created by the client; pass ``session=`` to the client to share a session you
    own (it is then not closed by the client).
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 100,
    ) -> None:
        self._base_url = base_url
        self._session = session
        self._owns_session = session is None
        self._max_connections = max_connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"AiohttpTransport({self._base_url!r})"

    def _open(self) -> aiohttp.ClientSession:
        # Closed is final: reopening here would create a pool nobody closes.
        if self._closed:
            raise ClientClosedError
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise EventLoopMismatchError
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=10)
            # The Accept-Encoding negotiation and cookies are not needed by a JSON API.
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), raise_for_status=False
            )
        return self._session

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> RawResponse:
        """Send one request; map aiohttp failures to typed transport errors."""
        session = self._open()
        url = self._base_url + path
        try:
            async with session.request(
                method,
                url,
                params=params or None,
                headers=headers,
                data=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as resp:
                data = await resp.read()
                return RawResponse(resp.status, resp.headers, data)
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _map_connect(exc, method, path) from exc
        except (TimeoutError, aiohttp.SocketTimeoutError) as exc:
            msg = "timed out waiting for the response"
            raise RequestTimeoutError(msg, method=method, path=path, request_sent=True) from exc
        except aiohttp.ClientResponseError:
            # Its repr carries request_info, which holds our key headers: drop the cause.
            msg = "malformed response"
            raise ConnectionLostError(msg, method=method, path=path, request_sent=True) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError) as exc:
            msg = f"connection lost ({type(exc).__name__})"
            raise ConnectionLostError(msg, method=method, path=path, request_sent=True) from exc
        except aiohttp.InvalidURL as exc:
            msg = "invalid request URL"
            raise ConfigurationError(msg) from exc
        except aiohttp.ClientError as exc:
            msg = f"HTTP client error ({type(exc).__name__})"
            raise TransportError(msg, method=method, path=path, request_sent=True) from exc

    async def post_form(
        self,
        url: str,
        *,
        fields: Mapping[str, str],
        file_name: str,
        content: bytes,
        timeout: float | None,
    ) -> RawResponse:
        """Multipart upload to a presigned URL: the fields unchanged, then the file (last, as S3 requires)."""
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        form.add_field("file", content, filename=file_name, content_type="application/octet-stream")
        return await self._external("POST", url, form, timeout)

    async def get_url(self, url: str, *, timeout: float | None) -> RawResponse:
        """Download from a presigned URL."""
        return await self._external("GET", url, None, timeout)

    async def _external(
        self, method: str, url: str, data: aiohttp.FormData | None, timeout: float | None
    ) -> RawResponse:
        # Presigned URLs carry signatures in the query: errors name only the host.
        where = urlsplit(url).hostname or "storage"
        try:
            async with self._open().request(
                method, url, data=data, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                return RawResponse(resp.status, resp.headers, await resp.read())
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _map_connect(exc, method, where) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            msg = f"storage request failed ({type(exc).__name__})"
            raise ConnectionLostError(msg, method=method, path=where, request_sent=True) from None

    async def aclose(self) -> None:
        """Close the session if this transport created it; later sends raise :class:`ClientClosedError`."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()


def _map_connect(exc: Exception, method: str, path: str) -> TransportError:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        msg = "timed out connecting"
        return RequestTimeoutError(msg, method=method, path=path, request_sent=False)
    msg = "could not connect"
    return ConnectError(msg, method=method, path=path, request_sent=False)
