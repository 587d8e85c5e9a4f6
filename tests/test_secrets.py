"""Keys, credentials and server free text stay out of error trackers, exception chains and reprs.

Each failure comes from a hostile loopback server written here; the events are
those of the real sentry-sdk with its default settings (local variables included).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import pickle
import traceback
from collections.abc import AsyncIterator, Iterator
from typing import Any

import click
import pytest
import sentry_sdk
from aiohttp import web
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport as SentryTransport

from pracsuite_async import (
    ConnectError,
    ConnectionLostError,
    NotFoundError,
    PracSuiteClient,
    PracSuiteError,
    RequestTimeoutError,
    ResponseDecodeError,
    RetryPolicy,
    TransportError,
    UnprocessableEntityError,
)
from pracsuite_async._transport import check_presigned_url
from pracsuite_async.testing import json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient
from tests.hostile import raw_server, read_request, refused_url, reset

KEYS = (VENDOR_KEY.encode(), ACCOUNT_KEY.encode())
PATIENT_TEXT = "Ada Lovelace (DOB 1815-12-10)"


class CapturingTransport(SentryTransport):
    """A Sentry transport that keeps each serialized envelope instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        """Keep the bytes Sentry would have sent."""
        self.sent.append(envelope.serialize())


@pytest.fixture
def sentry() -> Iterator[CapturingTransport]:
    """sentry-sdk initialised with its defaults, sending to a capturing transport."""
    capture = CapturingTransport()
    sentry_sdk.init(dsn="https://public@sentry.invalid/1", transport=capture)
    try:
        yield capture
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


def _client(base_url: str, **kwargs: Any) -> PracSuiteClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=1))
    return PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, base_url=base_url, rate_limit=1000.0, **kwargs)


async def _stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await reader.read()  # until the client gives up and closes


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    reset(writer)


async def _bad_status_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 2OO Fine\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    await reader.read()


async def _bad_json(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    body = f'{{"first_name": "{PATIENT_TEXT}", "id": '.encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    await reader.read()


@contextlib.asynccontextmanager
async def _hostile(case: str) -> AsyncIterator[str]:
    if case == "refused":
        yield refused_url()
        return
    handler = {"reset": _reset, "timeout": _stall, "malformed": _bad_status_line, "bad_json": _bad_json}[case]
    async with raw_server(handler) as url:
        yield url


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
    return seen


def _assert_no_keys(data: bytes) -> None:
    for key in KEYS:
        assert key not in data


EXPECTED = {
    "refused": ConnectError,
    "reset": ConnectionLostError,
    "timeout": RequestTimeoutError,
    "malformed": ConnectionLostError,
    "bad_json": ResponseDecodeError,
}


class TestErrorTrackers:
    @pytest.mark.parametrize("case", list(EXPECTED))
    async def test_sentry_event_holds_no_key(self, case: str, sentry: CapturingTransport) -> None:
        """A Sentry event of a refused, reset, timed-out, malformed or undecodable call contains neither key."""
        async with _hostile(case) as base_url, _client(base_url, timeout=0.2) as client:
            try:
                await client.appointments.get(1)
            except PracSuiteError as exc:  # as an application's handler would
                sentry_sdk.capture_exception(exc)
                error: PracSuiteError = exc
        assert type(error) is EXPECTED[case]
        sentry_sdk.flush()
        data = b"".join(sentry.sent)
        # The event did record our frames' locals, so the check below could have failed.
        assert b"_transport.py" in data or b"_response.py" in data
        assert b"SecretHeaders" in data or case == "bad_json"
        _assert_no_keys(data)

    @pytest.mark.parametrize("case", list(EXPECTED))
    async def test_exception_chain_holds_no_aiohttp_object(self, case: str) -> None:
        """Neither __cause__ nor __context__ leads to aiohttp's exceptions; a locals-capturing traceback shows no key."""
        async with _hostile(case) as base_url, _client(base_url, timeout=0.2) as client:
            with pytest.raises(PracSuiteError) as info:
                await client.appointments.get(1)
        chain = _chain(info.value)
        # Only our own errors: any foreign one's traceback runs through aiohttp's frames.
        assert [e for e in chain if not isinstance(e, PracSuiteError)] == []
        text = "".join(traceback.TracebackException.from_exception(info.value, capture_locals=True).format())
        assert "SecretHeaders" in text or case == "bad_json"  # locals were rendered
        _assert_no_keys(text.encode())

    async def test_decode_error_keeps_no_body(self) -> None:
        """ResponseDecodeError has no cause holding the body, and its text and pickle omit it."""
        async with _hostile("bad_json") as base_url, _client(base_url) as client:
            with pytest.raises(ResponseDecodeError) as info:
                await client.appointments.get(1)
        err = info.value
        assert err.__cause__ is None
        assert err.__context__ is None
        for text in (str(err), repr(err), repr(err.__dict__), repr(pickle.dumps(err))):
            assert PATIENT_TEXT not in text
        assert "at byte" in str(err)

    def test_the_check_can_fail(self, sentry: CapturingTransport) -> None:
        """Control: a key in a plain dict local does reach the Sentry event, so the checks above are real."""
        def fail(headers: dict[str, str]) -> None:
            raise RuntimeError(len(headers))

        try:
            fail({"x-api-key": VENDOR_KEY})
        except RuntimeError as exc:
            sentry_sdk.capture_exception(exc)
        sentry_sdk.flush()
        assert KEYS[0] in b"".join(sentry.sent)


async def _error_app(request: web.Request) -> web.Response:
    body = {
        "error": {
            "status": 422,
            "code": "INVALID_BODY",
            "detail": f"Patient {PATIENT_TEXT} is invalid",
            "validation": [{"field": "surname", "message": f"{PATIENT_TEXT} is not a surname"}],
        },
        "request_id": "req-77",
    }
    return web.json_response(body, status=422)


@contextlib.asynccontextmanager
async def _web(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class TestAPIErrorText:
    async def test_error_text_and_pickle_omit_server_detail(self) -> None:
        """str, repr and pickle of a 422 carry status, code, field names and request_id, not the free text."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", _error_app)
        async with _web(app) as host, _client(f"http://{host}/v1") as client:
            with pytest.raises(UnprocessableEntityError) as info:
                await client.appointments.get(1)
        err = info.value
        text = str(err)
        for part in ("422", "INVALID_BODY", "surname", "req-77"):
            assert part in text
        for shown in (text, repr(err), repr(pickle.dumps(err))):
            assert "Lovelace" not in shown
        assert err.detail is not None
        assert PATIENT_TEXT in err.detail  # kept on the live object for the application
        again = pickle.loads(pickle.dumps(err))
        assert (again.status, again.code, again.request_id) == (422, "INVALID_BODY", "req-77")
        assert [p.field for p in again.validation] == ["surname"]

    @pytest.mark.parametrize("verbose", [False, True])
    def test_cli_shows_detail_only_when_verbose(self, verbose: bool, capsys: pytest.CaptureFixture[str]) -> None:
        """The CLI prints the server's detail under --verbose only."""
        from pracsuite_async.cli._app import _VERBOSE, app, run

        async def fail() -> None:
            raise NotFoundError(status=404, method="GET", path="/patient/1", code="NOT_FOUND", detail=PATIENT_TEXT)

        with click.Context(app) as ctx:
            ctx.meta[_VERBOSE] = verbose
            with pytest.raises(click.exceptions.Exit):
                run(fail())
        err = capsys.readouterr().err
        assert "NOT_FOUND" in err
        assert (PATIENT_TEXT in err) is verbose


class TestCredentials:
    async def test_base_url_credentials_never_shown_but_sent(self) -> None:
        """user:pass@ in base_url is redacted from every repr and still sent as Basic authorization."""
        seen: list[str] = []

        async def handler(request: web.Request) -> web.Response:
            seen.append(request.headers.get("Authorization", ""))
            return web.json_response({"appointment_id": 1, "app_time": "2026-01-05T09:00:00", "duration": 30})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        async with _web(app) as host:
            client = _client(f"http://proxyuser:s3cr%40t@{host}/v1")
            async with client:
                await client.appointments.get(1)
                shown = repr(client) + repr(client.__dict__) + repr(client._transport) + repr(vars(client._pipeline))
        assert "s3cr" not in shown
        assert "proxyuser" not in shown
        assert seen == ["Basic " + base64.b64encode(b"proxyuser:s3cr@t").decode()]

    def test_keys_not_in_constructor_frame(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A ConfigurationError raised by the constructor leaves no key among its frames' locals."""
        with pytest.raises(PracSuiteError) as info:
            PracSuiteClient(VENDOR_KEY, ACCOUNT_KEY, deadline=-1)
        tb = info.tb
        frames = []
        while tb is not None:
            frames.append(tb.tb_frame)
            tb = tb.tb_next
        assert len(frames) >= 2  # the test's frame and the constructor's
        for frame in frames[1:]:
            _assert_no_keys(repr(frame.f_locals).encode())


class TestPresignedURLs:
    @pytest.mark.parametrize(
        "url",
        ["https://bucket.example.com/f?sig=1", "http://127.0.0.1:9/f", "http://localhost/f", "http://[::1]/f"],
    )
    def test_https_or_loopback_is_accepted(self, url: str) -> None:
        """https anywhere, or plain http to loopback, passes the check unchanged."""
        assert check_presigned_url(url, method="GET", what="<presigned download>") == url

    @pytest.mark.parametrize("url", ["http://bucket.example.com/f?sig=1", "ftp://x/f", "http://10.0.0.1/f", "//x/f"])
    def test_cleartext_is_refused(self, url: str) -> None:
        """Plain http to any other host (or another scheme) is refused, naming no URL."""
        with pytest.raises(TransportError) as info:
            check_presigned_url(url, method="GET", what="<presigned download>")
        assert info.value.request_sent is False
        assert "bucket" not in str(info.value)
        assert "sig=" not in str(info.value)

    async def test_download_over_http_is_never_sent(self, make_client: MakeClient) -> None:
        """download_content refuses a presigned http URL before any storage request."""

        def handler(req: Any) -> Any:
            return json_response(200, {"url": "http://bucket.example.com/file?sig=abc"})

        client, transport = make_client(handler)
        with pytest.raises(TransportError):
            await client.patient_attachments.download_content(1)
        assert [r.method for r in transport.requests] == ["GET"]  # only the API's presign call
        assert transport.requests[0].path.endswith("/presign_url")

    async def test_upload_over_http_is_never_sent(self, make_client: MakeClient) -> None:
        """upload refuses a presigned http URL before sending the file."""

        def handler(req: Any) -> Any:
            return json_response(200, {"url": "http://bucket.example.com/", "fields": {"key": "k"}})

        client, transport = make_client(handler)
        with pytest.raises(TransportError):
            await client.patient_attachments.upload(1, file_name="a.pdf", content=b"%PDF")
        assert len(transport.requests) == 1
        assert transport.requests[0].body != b"%PDF"

