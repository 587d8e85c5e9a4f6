"""The transport seam: :class:`Transport` protocol and its aiohttp implementation.

This is the only module that imports aiohttp. It maps aiohttp's exceptions, at
one boundary, onto :class:`~pracsuite_async._errors.TransportError` subclasses with
``request_sent`` set from what aiohttp knows: a refused connection was never sent;
a dropped connection or a read timeout may have been. The aiohttp exception is not
chained to ours: its ``request_info`` and the locals of its frames hold the key
headers, which error trackers would record.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp
import attrs

from pracsuite_async._config import DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_RESPONSE_BYTES
from pracsuite_async._errors import (
    ClientClosedError,
    ConfigurationError,
    ConnectError,
    ConnectionLostError,
    EventLoopMismatchError,
    PracSuiteError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
)
from pracsuite_async._redact import SecretHeaders, redact_url
from pracsuite_async._types import QueryParams

__all__ = [
    "AiohttpTransport",
    "ExternalTransport",
    "RawResponse",
    "Transport",
    "check_base_url",
    "check_presigned_url",
]


@attrs.frozen
class RawResponse:
    """A response as bytes: status, headers (case-insensitive mapping) and body.

    The repr shows the status only: frames holding a response are recorded by
    error trackers, and the body may be a patient's record.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)


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
        headers: SecretHeaders,
        body: bytes | None,
        timeout: float | None,
    ) -> RawResponse:
        """Send ``method`` to ``path`` (relative to the base URL).

        Call ``headers.reveal()`` in the expression that hands the headers to the
        HTTP library, and keep the result out of locals and attributes.
        """

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
    if not isinstance(base_url, str):  # untyped callers
        msg = "base_url must be a string"  # type: ignore[unreachable]
        raise ConfigurationError(msg)
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = "base_url must be an absolute http(s) URL"
        raise ConfigurationError(msg)
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(parts.hostname):
        msg = "base_url uses plain http to a non-loopback host; pass allow_insecure=True to permit it"
        raise ConfigurationError(msg)
    return base_url.rstrip("/")


def check_presigned_url(url: str, *, method: str, what: str) -> str:
    """Refuse a presigned storage URL that is not ``https`` (plain ``http`` only to loopback).

    The URL comes from the server and the request carries a patient's file: a
    cleartext hop is refused before anything is sent.
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url
    msg = "presigned URL is not https; refused before sending"
    raise TransportError(msg, method=method, path=what, request_sent=False)


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
    own (it is then not closed by the client). Bodies are read in chunks and
    refused with :class:`~pracsuite_async.ResponseTooLargeError` past
    ``max_response_bytes`` (API responses) or ``max_download_bytes`` (presigned
    downloads), so a hostile or broken server cannot fill memory.
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 100,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):  # untyped callers
            msg = "session must be an aiohttp.ClientSession or None"  # type: ignore[unreachable]
            raise ConfigurationError(msg)
        self._base_url = base_url
        self._session = session
        self._owns_session = session is None
        self._max_connections = max_connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._max_response_bytes = max_response_bytes
        self._max_download_bytes = max_download_bytes

    def __repr__(self) -> str:
        return f"AiohttpTransport({redact_url(self._base_url)!r})"

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
        headers: SecretHeaders,
        body: bytes | None,
        timeout: float | None,
    ) -> RawResponse:
        """Send one request; map aiohttp failures to typed transport errors."""
        session = self._open()
        try:
            async with session.request(
                method,
                self._base_url + path,
                params=params or None,
                # Revealed only here, straight into aiohttp: no local of ours holds the keys.
                headers=headers.reveal(),
                data=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as resp:
                data = await _read_bounded(resp, self._max_response_bytes, method, path)
                return RawResponse(resp.status, resp.headers, data)
        except (asyncio.CancelledError, PracSuiteError):
            raise
        except Exception as exc:  # noqa: BLE001 - whatever aiohttp raises, its frames hold the keys
            error = _map_error(exc, method, path)
        # Raised outside the except block, so neither __cause__ nor __context__ leads
        # to aiohttp's exception, whose request_info and frames hold the keys.
        raise error

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
        """Download from a presigned URL, refused past ``max_download_bytes``."""
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
                body = await _read_bounded(resp, self._max_download_bytes, method, where)
                return RawResponse(resp.status, resp.headers, body)
        except (asyncio.CancelledError, PracSuiteError):
            raise
        except Exception as exc:  # noqa: BLE001 - as in send: no foreign exception is chained
            error = _map_error(exc, method, where)
        raise error

    async def aclose(self) -> None:
        """Close the session if this transport created it; later sends raise :class:`ClientClosedError`."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()


#: Bytes taken from the socket buffer per read while a body is bounded.
_READ_CHUNK = 256 * 1024


async def _read_bounded(resp: aiohttp.ClientResponse, limit: int, method: str, path: str) -> bytes:
    """The whole body, or :class:`ResponseTooLargeError` as soon as it passes ``limit`` bytes.

    ``Content-Length`` is checked first; chunked and unsized bodies (and decompressed
    ones) are counted as they arrive, so at most ``limit`` plus one chunk is held.
    """
    length = resp.content_length
    if length is not None:
        if length > limit:
            raise ResponseTooLargeError(method=method, path=path, limit=limit)
        if not resp.headers.get("Content-Encoding"):
            # aiohttp reads exactly Content-Length bytes of an unencoded body (more is a
            # protocol error), so the bound holds; its own read joins the chunks once.
            return await resp.read()
    buffer = bytearray()
    while chunk := await resp.content.read(_READ_CHUNK):
        buffer += chunk
        if len(buffer) > limit:
            del buffer, chunk  # the body stays out of this frame's recorded locals
            raise ResponseTooLargeError(method=method, path=path, limit=limit)
    return bytes(buffer)


def _map_error(exc: BaseException, method: str, path: str) -> PracSuiteError:
    """The library error for an aiohttp (or timeout) failure, naming only its class.

    The original is not chained: ``ClientResponseError.request_info`` holds the
    request headers, and every aiohttp exception's traceback reaches frames whose
    locals hold them.
    """
    kind = type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        msg = "timed out connecting"
        return RequestTimeoutError(msg, method=method, path=path, request_sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        msg = f"could not connect ({type(exc.os_error).__name__})"
        return ConnectError(msg, method=method, path=path, request_sent=False)
    if isinstance(exc, TimeoutError | aiohttp.SocketTimeoutError):
        msg = "timed out waiting for the response"
        return RequestTimeoutError(msg, method=method, path=path, request_sent=True)
    if isinstance(exc, aiohttp.ClientResponseError):
        msg = f"malformed response ({kind})"
        return ConnectionLostError(msg, method=method, path=path, request_sent=True)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        msg = f"connection lost ({kind})"
        return ConnectionLostError(msg, method=method, path=path, request_sent=True)
    if isinstance(exc, aiohttp.InvalidURL):
        msg = "invalid request URL"
        return ConfigurationError(msg)
    # Anything else (a RuntimeError from a closed session, a ValueError from a
    # header): may have been sent, as far as a retry decision is concerned.
    msg = f"HTTP client error ({kind})"
    return TransportError(msg, method=method, path=path, request_sent=True)
