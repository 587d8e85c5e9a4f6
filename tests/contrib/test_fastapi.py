"""``pracsuite_async.contrib.fastapi`` and the example app, in process through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any

import httpx
import pytest
from aiohttp import web
from fastapi import Depends, FastAPI, Request

from examples.fastapi_app import create_app
from pracsuite_async import (
    CallFinished,
    ConfigurationError,
    ConflictError,
    ConnectError,
    DeadlineExceededError,
    Event,
    NotFoundError,
    PracSuiteClient,
    PracSuiteError,
    RateLimitError,
    RequestTimeoutError,
    RequestValidationError,
    RetryPolicy,
    ServerError,
    UnprocessableEntityError,
)
from pracsuite_async.contrib.fastapi import (
    STATE_ATTR,
    CancelOnDisconnectMiddleware,
    PracSuite,
    account_client,
    error_response,
    get_client,
    install_error_handler,
    pracsuite_lifespan,
)
from pracsuite_async.simulator import Simulator
from tests.contrib.conftest import (
    ACCOUNT_KEY,
    PATIENT,
    STANDARD_TYPE,
    TODAY,
    VENDOR_KEY,
    ClientFactory,
    ServeApp,
)

#: Strings a hostile upstream puts where patient data would be; none may reach a response.
PATIENT_NAME = "Jane-PATIENTNAME-Doe"
PATIENT_ID = "987654321"


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and hand out an httpx client speaking ASGI to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            yield http


class TestLifespan:
    async def test_one_client_per_app_closed_on_shutdown(self, sim: Simulator, client_factory: ClientFactory) -> None:
        """The lifespan opens one client that every request receives, and closes it on shutdown."""
        made: list[PracSuiteClient] = []

        def factory() -> PracSuiteClient:
            made.append(client_factory(sim.base_url)())
            return made[-1]

        app = FastAPI(lifespan=pracsuite_lifespan(factory))
        seen: list[PracSuiteClient] = []

        @app.get("/who")
        async def who(client: PracSuite) -> int:
            seen.append(client)
            return len(await client.businesses.list().collect())

        async with running(app) as http:
            responses = await asyncio.gather(*(http.get("/who") for _ in range(5)))
            assert [r.status_code for r in responses] == [200] * 5
            session = made[0]._transport._session  # type: ignore[attr-defined]
            assert session is not None
            assert not session.closed
        assert len(made) == 1
        assert all(c is made[0] for c in seen)
        assert session.closed
        assert not hasattr(app.state, STATE_ATTR)

    async def test_inner_lifespan_runs_with_the_client_ready(
        self, sim: Simulator, client_factory: ClientFactory
    ) -> None:
        """The app's own lifespan runs inside, with the client already on app.state."""
        log: list[str] = []

        @asynccontextmanager
        async def inner(app: FastAPI) -> AsyncIterator[None]:
            log.append(f"start:{isinstance(getattr(app.state, STATE_ATTR), PracSuiteClient)}")
            yield
            log.append(f"stop:{hasattr(app.state, STATE_ATTR)}")

        app = FastAPI(lifespan=pracsuite_lifespan(client_factory(sim.base_url), inner=inner))
        async with app.router.lifespan_context(app):
            log.append("serving")
        assert log == ["start:True", "serving", "stop:True"]

    async def test_dependency_without_lifespan_says_how_to_fix_it(self) -> None:
        """Using the dependency in an app without the lifespan raises an error naming the fix."""
        app = FastAPI()

        @app.get("/x")
        async def handler(client: Annotated[PracSuiteClient, Depends(get_client)]) -> None:
            raise AssertionError

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            with pytest.raises(RuntimeError, match="pracsuite_lifespan"):
                await http.get("/x")


async def test_account_client_views_the_app_client_per_clinic(sim: Simulator, client_factory: ClientFactory) -> None:
    """``account_client`` hands each request ``client.for_account(key)``, the key chosen from the request."""
    app = FastAPI(lifespan=pracsuite_lifespan(client_factory(sim.base_url)))
    keys = {"north": ACCOUNT_KEY}

    def clinic_key(request: Request) -> str:
        return keys[request.path_params["clinic"]]

    @app.get("/{clinic}/businesses")
    async def businesses(
        clinic: str,
        # A default, not Annotated: this module's annotations are strings, and a string
        # cannot name the local clinic_key.
        client: PracSuiteClient = Depends(account_client(clinic_key)),  # noqa: B008
    ) -> int:
        assert client is not get_client_of(app)
        return len(await client.businesses.list().collect())

    async with running(app) as http:
        response = await http.get("/north/businesses")
    assert response.status_code == 200, response.text
    assert response.json() > 0


def get_client_of(app: FastAPI) -> PracSuiteClient:
    """The app's client, read from its state."""
    client: PracSuiteClient = getattr(app.state, STATE_ATTR)
    return client


class TestExampleApp:
    async def test_availability_matches_the_library(self, sim: Simulator, client_factory: ClientFactory) -> None:
        """``/availability`` returns what ``available_appointments.search`` finds, over more than 7 days."""
        app = create_app(client_factory(sim.base_url))
        params = {"appointment_type_id": STANDARD_TYPE, "from_date": str(TODAY), "to_date": str(TODAY + timedelta(10))}
        async with running(app) as http:
            response = await http.get("/availability", params=params)
            direct = await get_client_of(app).available_appointments.search(
                from_=TODAY, to=TODAY + timedelta(10), appointment_type_id=STANDARD_TYPE
            )
        assert response.status_code == 200
        slots = response.json()
        assert len(slots) == len(direct) > 0
        assert [s["app_time"] for s in slots] == sorted(s["app_time"] for s in slots)

    async def test_book_then_list_the_patients_appointments(self, sim: Simulator, client_factory: ClientFactory) -> None:
        """``POST /bookings`` searches, reserves and finalises one slot, which then lists for the patient."""
        app = create_app(client_factory(sim.base_url))
        body = {
            "client_id": PATIENT,
            "appointment_type_id": STANDARD_TYPE,
            "from_date": str(TODAY),
            "to_date": str(TODAY + timedelta(6)),
        }
        async with running(app) as http:
            booked = await http.post("/bookings", json=body)
            listed = await http.get(f"/patients/{PATIENT}/appointments", params={"limit": 500})
        assert booked.status_code == 201, booked.text
        appointment = booked.json()
        assert (appointment["client_id"], appointment["appointment_type_id"]) == (PATIENT, STANDARD_TYPE)
        assert (sim.stats.by_operation["reserveAppointment"], sim.stats.by_operation["finaliseAppointment"]) == (1, 1)
        assert listed.status_code == 200
        mine = listed.json()
        assert appointment["appointment_id"] in [a["appointment_id"] for a in mine]
        assert {a["client_id"] for a in mine} == {PATIENT}
        assert [a["app_time"] for a in mine] == sorted(a["app_time"] for a in mine)

    async def test_unknown_patient_is_a_404_without_ids(self, sim: Simulator, client_factory: ClientFactory) -> None:
        """An unknown patient is a 404 whose body holds status, code and request id only."""
        app = create_app(client_factory(sim.base_url))
        async with running(app) as http:
            response = await http.get(f"/patients/{PATIENT_ID}/appointments")
        assert response.status_code == 404
        error = response.json()["error"]
        assert set(error) == {"status", "code", "request_id"}
        assert (error["status"], error["code"]) == (404, "NOT_FOUND")
        assert PATIENT_ID not in response.text
        assert VENDOR_KEY not in response.text
        assert ACCOUNT_KEY not in response.text

    async def test_invalid_range_is_a_422_before_any_call(self, sim: Simulator, client_factory: ClientFactory) -> None:
        """A range ending before it starts is the library's validation error, a 422, and nothing is sent."""
        app = create_app(client_factory(sim.base_url))
        params = {"appointment_type_id": STANDARD_TYPE, "from_date": str(TODAY), "to_date": str(TODAY - timedelta(1))}
        async with running(app) as http:
            response = await http.get("/availability", params=params)
        assert response.status_code == 422
        assert response.json() == {"error": {"status": 422, "code": "INVALID_REQUEST", "request_id": None}}
        assert sim.stats.by_operation.get("listAvailableAppointments", 0) == 0

    async def test_a_cancelled_request_cancels_its_api_call(self, client_factory: ClientFactory) -> None:
        """Cancelling the HTTP request cancels the handler's API call, which reports CancelledError."""
        events: list[Event] = []
        writers: list[asyncio.StreamWriter] = []

        async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)

        server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            app = create_app(client_factory(f"http://127.0.0.1:{port}/v1", event_hooks=[events.append]))
            async with running(app) as http:
                request = asyncio.ensure_future(http.get(f"/patients/{PATIENT}/appointments"))
                while not events:
                    await asyncio.sleep(0.001)
                request.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await request
        finally:
            for writer in writers:
                writer.close()
            server.close()
            await server.wait_closed()
        finished = [e for e in events if isinstance(e, CallFinished)]
        assert [e.error for e in finished] == ["CancelledError"]


class TestCancelOnDisconnect:
    """The middleware driven by hand: a scripted ``receive`` and a recording ``send``."""

    @staticmethod
    def _receive(disconnect: asyncio.Event) -> Any:
        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            await disconnect.wait()
            return {"type": "http.disconnect"}

        return receive

    async def test_disconnect_cancels_the_handler(self) -> None:
        """A disconnect while the handler runs cancels it; the middleware returns quietly, sending nothing."""
        entered, outcome, sent = asyncio.Event(), [], []
        disconnect = asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            assert (await receive())["type"] == "http.request"
            entered.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise

        async def send(message: Any) -> None:
            sent.append(message)

        middleware = CancelOnDisconnectMiddleware(app)
        run = asyncio.create_task(middleware({"type": "http"}, self._receive(disconnect), send))
        await entered.wait()
        disconnect.set()
        await asyncio.wait_for(run, 5)
        assert outcome == ["cancelled"]
        assert sent == []

    async def test_a_finished_handler_is_not_cancelled_and_shutdown_still_propagates(self) -> None:
        """A handler that answered is left alone; cancelling the middleware itself cancels the handler and raises."""
        sent: list[Any] = []

        async def answer(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def send(message: Any) -> None:
            sent.append(message)

        await CancelOnDisconnectMiddleware(answer)({"type": "http"}, self._receive(asyncio.Event()), send)
        assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]

        entered, outcome = asyncio.Event(), []

        async def slow(scope: Any, receive: Any, send: Any) -> None:
            entered.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise

        run = asyncio.create_task(CancelOnDisconnectMiddleware(slow)({"type": "http"}, self._receive(asyncio.Event()), send))
        await entered.wait()
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        assert outcome == ["cancelled"]


def _envelope(status: int, code: str, *, request_id: str = "req-42") -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": code,
            "detail": f"patient {PATIENT_NAME} (id {PATIENT_ID}) not allowed",
            "validation": [{"field": "client_id", "message": f"{PATIENT_NAME} is archived"}],
        },
        "request_id": request_id,
    }


class TestErrorHandler:
    @pytest.mark.parametrize(
        ("upstream", "headers", "code", "expected", "retry_after"),
        [
            (404, {}, "NOT_FOUND", 404, None),
            (409, {}, "RESERVE_APPOINTMENT_CONFLICT", 409, None),
            (422, {}, "INVALID_BODY", 422, None),
            (429, {"Retry-After": "2.2"}, "TOO_MANY_REQUESTS", 503, "3"),
            (429, {}, "QUOTA_EXCEEDED", 503, None),
            (503, {"Retry-After": "7"}, "SERVICE_UNAVAILABLE", 503, "7"),
            (500, {}, "INTERNAL_ERROR", 502, None),
            (401, {}, "UNAUTHORIZED", 502, None),
            (404, {}, "<script>alert(1)</script>", 404, None),
        ],
    )
    async def test_hostile_upstream_errors_are_mapped_without_patient_data(
        self,
        serve_app: ServeApp,
        client_factory: ClientFactory,
        upstream: int,
        headers: dict[str, str],
        code: str,
        expected: int,
        retry_after: str | None,
    ) -> None:
        """A server whose errors quote patient data maps to status, code and request id, with Retry-After."""

        async def handler(request: web.Request) -> web.Response:
            return web.json_response(_envelope(upstream, code), status=upstream, headers=headers)

        upstream_app = web.Application()
        upstream_app.router.add_route("*", "/{tail:.*}", handler)
        base_url = await serve_app(upstream_app)
        factory = client_factory(base_url, retry=RetryPolicy(max_attempts=1), deadline=5.0)
        app = create_app(factory)
        async with running(app) as http:
            response = await http.get(f"/patients/{PATIENT_ID}/appointments")
        assert response.status_code == expected
        expected_code = code if code.isupper() and code.replace("_", "").isalnum() else "NOT_FOUND"
        assert response.json() == {"error": {"status": expected, "code": expected_code, "request_id": "req-42"}}
        assert response.headers.get("Retry-After") == retry_after
        for secret in (PATIENT_NAME, PATIENT_ID, VENDOR_KEY, ACCOUNT_KEY, "client_id", "/patient"):
            assert secret not in response.text

    @pytest.mark.parametrize(
        ("exc", "expected", "code"),
        [
            (RequestValidationError("page_size", "must be at most 100"), 422, "INVALID_REQUEST"),
            (DeadlineExceededError("spent", method="GET", path=f"/patient/{PATIENT_ID}", request_sent=True), 504,
             "DEADLINE_EXCEEDED"),
            (RequestTimeoutError("slow", method="GET", path="/x", request_sent=True), 504, "UPSTREAM_TIMEOUT"),
            (ConnectError("refused", method="GET", path="/x", request_sent=False), 503, "UPSTREAM_UNAVAILABLE"),
            (ConfigurationError("bad"), 500, "CONFIGURATION_ERROR"),
            (ConflictError(status=409, method="POST", path="/reserve_appointment", detail="no free slot"), 409,
             "CONFLICT"),
            (UnprocessableEntityError(status=422, method="POST", path="/x", code="bad code", request_id="a b"), 422,
             "INVALID_BODY"),
            (NotFoundError(status=404, method="GET", path=f"/patient/{PATIENT_ID}", detail=PATIENT_NAME), 404,
             "NOT_FOUND"),
            (ServerError(status=500, method="GET", path="/x"), 502, "UPSTREAM_ERROR"),
            (RateLimitError(status=429, method="GET", path="/x", retry_after=0.2), 503, "RATE_LIMITED"),
            (PracSuiteError("other"), 502, "UPSTREAM_ERROR"),
        ],
    )
    def test_error_table(self, exc: PracSuiteError, expected: int, code: str) -> None:
        """Each library error class maps to its status and code; unsafe codes and request ids are dropped."""
        response = error_response(exc)
        assert response.status_code == expected
        assert json.loads(response.body) == {"error": {"status": expected, "code": code, "request_id": None}}
        assert PATIENT_ID.encode() not in response.body
        assert PATIENT_NAME.encode() not in response.body
        assert response.headers.get("Retry-After") == ("1" if isinstance(exc, RateLimitError) else None)

    async def test_other_exceptions_are_left_to_fastapi(self) -> None:
        """The handler is registered for library errors only; other exceptions keep FastAPI's handling."""
        app = FastAPI()
        install_error_handler(app)

        @app.get("/boom")
        async def boom() -> None:
            msg = "boom"
            raise KeyError(msg)

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            response = await http.get("/boom")
        assert response.status_code == 500
