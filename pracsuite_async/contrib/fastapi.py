"""FastAPI integration: one client per app, dependencies, an error handler (extra ``fastapi``).

::

    from fastapi import FastAPI
    from pracsuite_async import PracSuiteClient, to_dict
    from pracsuite_async.contrib.fastapi import (
        CancelOnDisconnectMiddleware, PracSuite, install_error_handler, pracsuite_lifespan,
    )

    app = FastAPI(lifespan=pracsuite_lifespan(lambda: PracSuiteClient(rate_limit=10)))
    app.add_middleware(CancelOnDisconnectMiddleware)
    install_error_handler(app)

    @app.get("/appointments/{appointment_id}")
    async def appointment(appointment_id: int, client: PracSuite) -> dict[str, object]:
        return to_dict(await client.appointments.get(appointment_id))

Library errors become small JSON bodies, ``{"error": {"status", "code", "request_id"}}``:
never the server's free-text ``detail`` (it can quote patient data), the
request path (it holds ids) or anything from the request.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies'
# annotations at runtime, and closures' annotations must resolve in their scope.

import asyncio
import logging
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any, TypeAlias

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pracsuite_async._client import PracSuiteClient
from pracsuite_async._errors import (
    APIStatusError,
    ConfigurationError,
    ConflictError,
    DeadlineExceededError,
    NotFoundError,
    PracSuiteError,
    RateLimitError,
    RequestTimeoutError,
    RequestValidationError,
    ServerError,
    TransportError,
    UnprocessableEntityError,
)

__all__ = [
    "STATE_ATTR",
    "CancelOnDisconnectMiddleware",
    "PracSuite",
    "account_client",
    "error_response",
    "get_client",
    "install_error_handler",
    "pracsuite_error_handler",
    "pracsuite_lifespan",
]

logger: logging.Logger = logging.getLogger("pracsuite_async")

#: The ``app.state`` attribute holding the app's client.
STATE_ATTR = "pracsuite_client"

Lifespan: TypeAlias = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def pracsuite_lifespan(
    factory: Callable[[], PracSuiteClient] = PracSuiteClient, *, inner: Lifespan | None = None
) -> Lifespan:
    """A FastAPI ``lifespan`` that opens one client for the app and closes it on shutdown.

    ``factory`` builds the client (default: ``PracSuiteClient()``, keys from the
    environment). ``inner`` is the app's own lifespan, run inside, with the client
    already on ``app.state``.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with factory() as client:
            setattr(app.state, STATE_ATTR, client)
            try:
                if inner is None:
                    yield
                else:
                    async with inner(app):
                        yield
            finally:
                delattr(app.state, STATE_ATTR)

    return lifespan


def get_client(request: Request) -> PracSuiteClient:
    """Dependency: the app's client, opened by :func:`pracsuite_lifespan`."""
    client = getattr(request.app.state, STATE_ATTR, None)
    if not isinstance(client, PracSuiteClient):
        msg = "no PracSuiteClient on app.state: create the app with lifespan=pracsuite_lifespan(...)"
        raise RuntimeError(msg)  # noqa: TRY004 - a wiring mistake, not a bad argument
    return client


#: ``client: PracSuite`` in a handler's signature receives the app's client.
PracSuite: TypeAlias = Annotated[PracSuiteClient, Depends(get_client)]


def account_client(
    account_key: Callable[..., str | Awaitable[str]],
) -> Callable[..., Awaitable[PracSuiteClient]]:
    """Dependency factory: the app's client viewed as one clinic (``client.for_account(key)``).

    ``account_key`` is itself a FastAPI dependency (it may take the ``Request``,
    headers, path parameters or your own auth dependencies) returning the clinic's
    account key. The view shares the app client's pool and rate budget::

        def clinic_key(request: Request) -> str:
            return KEYS[request.path_params["clinic"]]

        ClinicClient = Annotated[PracSuiteClient, Depends(account_client(clinic_key))]
    """

    # Defaults, not Annotated[...]: ``account_key`` is a closure variable, which a string
    # annotation (this module has postponed evaluation) could not name.
    async def dependency(
        client: PracSuiteClient = Depends(get_client),  # noqa: B008 - FastAPI's dependency idiom
        key: str = Depends(account_key),
    ) -> PracSuiteClient:
        return client.for_account(key)

    return dependency


class CancelOnDisconnectMiddleware:
    """ASGI middleware: cancel a request's handler when its client disconnects.

    Starlette lets a handler run to the end after the client has gone; with this
    middleware an abandoned request stops at once, so its API calls give back
    their concurrency slot and rate-limiter reservation. The handler sees
    :class:`asyncio.CancelledError`, and no response is sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app: ASGIApp = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app in a task, watching ``receive`` for ``http.disconnect``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        handler = asyncio.ensure_future(self.app(scope, inbox.get, send))
        watcher = asyncio.ensure_future(_watch(receive, inbox, handler))
        try:
            await handler
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not _client_left(watcher) or (task is not None and task.cancelling()):
                raise
        finally:
            watcher.cancel()
            await asyncio.wait((watcher,))
            if not watcher.cancelled() and watcher.exception() is not None:
                logger.debug("receive() failed while watching for a disconnect")


def _client_left(watcher: asyncio.Future[bool]) -> bool:
    """Whether the watcher saw the client leave (and so cancelled the handler)."""
    return watcher.done() and not watcher.cancelled() and watcher.exception() is None and watcher.result()


async def _watch(receive: Receive, inbox: asyncio.Queue[Message], handler: asyncio.Future[None]) -> bool:
    """Forward messages to the handler; cancel it on a disconnect before it finished."""
    while True:
        message = await receive()
        inbox.put_nowait(message)
        if message["type"] == "http.disconnect":
            if handler.done():
                return False
            handler.cancel()
            return True


# (class, HTTP status, code used when the server sent none); the first match wins.
_RULES: tuple[tuple[type[PracSuiteError], int, str], ...] = (
    (NotFoundError, 404, "NOT_FOUND"),
    (ConflictError, 409, "CONFLICT"),
    (UnprocessableEntityError, 422, "INVALID_BODY"),
    (RequestValidationError, 422, "INVALID_REQUEST"),
    (RateLimitError, 503, "RATE_LIMITED"),
    (DeadlineExceededError, 504, "DEADLINE_EXCEEDED"),
    (RequestTimeoutError, 504, "UPSTREAM_TIMEOUT"),
    (TransportError, 503, "UPSTREAM_UNAVAILABLE"),
    (ServerError, 502, "UPSTREAM_ERROR"),
    (ConfigurationError, 500, "CONFIGURATION_ERROR"),
)
_DEFAULT = (502, "UPSTREAM_ERROR")
# The server's codes are enumerated tokens; anything else is not echoed.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def error_response(exc: PracSuiteError) -> JSONResponse:
    """The JSON response for a library error: status, code and request id only.

    404, 409 and 422 keep their meaning; a 429 or an upstream 503 becomes 503 with
    ``Retry-After`` when the server sent one; timeouts and spent deadlines 504;
    other transport failures 503; anything else from the API 502.
    """
    status, code = next(((s, c) for cls, s, c in _RULES if isinstance(exc, cls)), _DEFAULT)
    request_id: str | None = None
    headers: dict[str, str] = {}
    if isinstance(exc, APIStatusError):
        if exc.code and _CODE.fullmatch(exc.code):
            code = exc.code
        if exc.request_id and _REQUEST_ID.fullmatch(exc.request_id):
            request_id = exc.request_id
        if isinstance(exc, ServerError) and exc.status == 503:
            status = 503
        if status == 503 and exc.retry_after is not None and exc.retry_after >= 0:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    log = logger.warning if status >= 500 else logger.info
    log("PracSuite %s -> HTTP %d", type(exc).__name__, status)
    body = {"error": {"status": status, "code": code, "request_id": request_id}}
    return JSONResponse(body, status_code=status, headers=headers)


async def pracsuite_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A FastAPI exception handler for :class:`~pracsuite_async.PracSuiteError`."""
    if not isinstance(exc, PracSuiteError):  # registered for PracSuiteError only
        raise exc
    return error_response(exc)


def install_error_handler(app: FastAPI) -> None:
    """Register :func:`pracsuite_error_handler` for every library error on ``app``."""
    app.add_exception_handler(PracSuiteError, pracsuite_error_handler)
