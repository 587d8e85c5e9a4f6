"""``appointments.book``: spreading concurrent callers, NoAvailabilityError, releasing the hold, validation.

Concurrency is checked against the bundled simulator and against ``SlotBook``, a strict booking
backend on a scripted loopback server (tests/scripted_server.py) that answers 409 for a taken slot.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from pracsuite_async import (
    ConflictError,
    NoAvailabilityError,
    PracSuiteClient,
    PracSuiteError,
    RequestTypeError,
    RequestValidationError,
    ServerError,
    models,
)
from pracsuite_async._transport import RawResponse
from pracsuite_async.simulator import Simulator, SimulatorConfig
from pracsuite_async.testing import FakeClock, RecordedRequest, json_response
from tests.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient
from tests.scripted_server import ScriptedServer, SlotBook, leak_check

MONDAY = date(2026, 1, 5)
CALLERS = 20
#: Physiotherapy Standard Consultation and a practitioner with 15 separate slots a day (seeded data).
SIM_TYPE, SIM_PRACTITIONER = 2, 1
SIM_TODAY = SimulatorConfig().today


def _fake(book: SlotBook) -> Any:
    async def handler(req: RecordedRequest) -> RawResponse:
        status, data = await book.answer(req.method, req.path, dict(req.params), req.json())
        return json_response(status, data)

    return handler


async def _book_all(clients: list[PracSuiteClient], **kwargs: Any) -> list[Any]:
    """One book() per client (the same client may repeat), all at once; results or exceptions."""
    calls = [
        c.appointments.book(appointment_type_id=kwargs.get("type_id", 2), client_id=1 + i, **kwargs.get("args", {}))
        for i, c in enumerate(clients)
    ]
    return await asyncio.gather(*calls, return_exceptions=True)


def _booked(results: list[Any]) -> list[models.Appointment]:
    assert all(isinstance(r, models.Appointment | PracSuiteError) for r in results), results
    return [r for r in results if isinstance(r, models.Appointment)]


class TestSpreading:
    @pytest.mark.parametrize("shared", [True, False], ids=["one-client", "client-per-caller"])
    async def test_twenty_callers_twenty_slots_on_a_strict_server(self, shared: bool) -> None:
        """20 concurrent bookers and 20 free slots: at least 18 book, and no slot is booked twice."""
        book = SlotBook(CALLERS)
        async with ScriptedServer(book.scripted) as server, leak_check(server):
            clients = [
                PracSuiteClient(
                    VENDOR_KEY, ACCOUNT_KEY, base_url=server.base_url, rate_limit=10_000.0, rng=random.Random(i)
                )
                for i in range(1 if shared else CALLERS)
            ]
            try:
                results = await _book_all(
                    clients * CALLERS if shared else clients, args={"from_": MONDAY, "to": MONDAY}
                )
            finally:
                for client in clients:
                    await client.aclose()
            booked = _booked(results)
            assert len(booked) >= 0.9 * CALLERS, (len(booked), book.conflicts)
            assert len({(a.app_time, a.practitioner_id) for a in booked}) == len(booked)
            assert len(book.booked) == len(booked)
            if shared:
                assert book.conflicts == 0  # one client's bookings never race each other

    @pytest.mark.parametrize("shared", [True, False], ids=["one-client", "client-per-caller"])
    async def test_twenty_callers_twenty_slots_on_the_simulator(self, shared: bool) -> None:
        """Against the simulator with exactly 20 free slots, at least 18 of 20 concurrent bookers succeed."""
        async with Simulator(SimulatorConfig(records=300)) as sim:
            kwargs: dict[str, Any] = {"base_url": sim.base_url, "rate_limit": 10_000.0}
            setup = PracSuiteClient("sim-vendor-key", "sim-account-key", **kwargs)
            query: dict[str, Any] = {
                "from_": SIM_TODAY, "to": SIM_TODAY + timedelta(days=1), "practitioner_ids": [SIM_PRACTITIONER],
            }
            free = await setup.available_appointments.search(appointment_type_id=SIM_TYPE, **query)
            for slot in free[CALLERS:]:  # hold the rest so exactly 20 stay free
                where = {k: getattr(slot, k) for k in ("app_time", "duration", "practitioner_id", "business_id")}
                await setup.appointments.reserve(column_number=slot.column_number or 1, **where)
            left = await setup.available_appointments.search(appointment_type_id=SIM_TYPE, **query)
            assert len(left) == CALLERS
            await setup.aclose()
            clients = [
                PracSuiteClient("sim-vendor-key", "sim-account-key", rng=random.Random(i), **kwargs)
                for i in range(1 if shared else CALLERS)
            ]
            try:
                results = await _book_all(clients * CALLERS if shared else clients, type_id=SIM_TYPE, args=query)
            finally:
                for client in clients:
                    await client.aclose()
            booked = _booked(results)
            assert len(booked) >= 0.9 * CALLERS
            assert len({(a.app_time, a.practitioner_id) for a in booked}) == len(booked)

    async def test_one_client_books_the_earliest_slots_in_order(self, make_client: MakeClient) -> None:
        """Concurrent bookings of one client take the earliest free slots, one each, without a 409."""
        book = SlotBook(10)
        client, _ = make_client(_fake(book))
        results = await _book_all([client] * 4, args={"from_": MONDAY, "to": MONDAY})
        times = sorted(a.app_time for a in _booked(results))  # type: ignore[type-var]
        assert [t.isoformat() if t else None for t in times] == [s["app_time"] for s in book.slots[:4]]
        assert book.conflicts == 0
        assert client._slot_claims == set()

    async def test_conflict_searches_again_and_spreads(self, make_client: MakeClient) -> None:
        """After a 409 the booker searches again and picks among the earliest free slots at random."""
        book = SlotBook(10)
        book.taken.add(0)
        book.stale = True  # the index still lists slot 0, so the first reserve collides
        client, transport = make_client(_fake(book))
        booked = await client.appointments.book(from_=MONDAY, to=MONDAY, appointment_type_id=2, client_id=7)
        assert book.conflicts == 1
        searches = [r for r in transport.requests if r.path == "/available_appointments"]
        assert len(searches) == 2
        assert booked.app_time is not None
        assert booked.app_time.isoformat() in {s["app_time"] for s in book.slots[1:4]}


class TestOutcomes:
    async def test_nothing_free_is_no_availability(self, make_client: MakeClient) -> None:
        """With no free slot, book() raises NoAvailabilityError and sends no reserve."""
        client, transport = make_client(_fake(SlotBook(0)))
        with pytest.raises(NoAvailabilityError) as info:
            await client.appointments.book(from_=MONDAY, to=MONDAY, appointment_type_id=2, client_id=7)
        assert isinstance(info.value, PracSuiteError)
        assert isinstance(info.value, LookupError)
        assert not isinstance(info.value, ConflictError)
        assert [r.path for r in transport.requests] == ["/available_appointments"]

    async def test_every_try_taken_raises_the_servers_conflict(self, make_client: MakeClient) -> None:
        """When each of max_tries reserves gets a 409, the last real ConflictError is raised."""
        book = SlotBook(10, stale=True)
        book.taken.update(range(10))
        client, _ = make_client(_fake(book))
        with pytest.raises(ConflictError) as info:
            await client.appointments.book(
                from_=MONDAY, to=MONDAY, appointment_type_id=2, client_id=7, max_tries=3
            )
        assert info.value.code == "RESERVE_APPOINTMENT_CONFLICT"
        assert book.reserves == 3
        assert client._slot_claims == set()

    async def test_finalise_error_releases_the_hold(self, make_client: MakeClient) -> None:
        """A failing finalise raises its error after the hold was released."""
        book = SlotBook(3, finalise_status=500)
        client, _ = make_client(_fake(book))
        with pytest.raises(ServerError):
            await client.appointments.book(from_=MONDAY, to=MONDAY, appointment_type_id=2, client_id=7)
        assert book.released == [1001]
        assert book.taken == set()
        assert client._slot_claims == set()

    async def test_cancelled_booking_releases_the_hold(self, make_client: MakeClient, clock: FakeClock) -> None:
        """Cancelling book() while finalising releases the hold, then lets the cancellation through."""
        book = SlotBook(3, delays={"finalise": 100.0}, sleep=clock.sleep)
        client, transport = make_client(_fake(book))
        task = asyncio.create_task(
            client.appointments.book(from_=MONDAY, to=MONDAY, appointment_type_id=2, client_id=7)
        )
        while not any(r.path == "/appointment/1001" for r in transport.requests):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert book.released == [1001]
        assert book.booked == {}
        assert client._slot_claims == set()


class TestValidation:
    @pytest.mark.parametrize(
        ("field", "changes", "error"),
        [
            ("from_", {"from_": datetime(2026, 1, 5, 9)}, RequestTypeError),
            ("to", {"to": datetime(2026, 1, 5, 9)}, RequestTypeError),
            ("to", {"to": date(2026, 1, 4)}, RequestValidationError),
            ("max_tries", {"max_tries": "x"}, RequestTypeError),
            ("max_tries", {"max_tries": True}, RequestTypeError),
            ("max_tries", {"max_tries": 0}, RequestValidationError),
            ("client_id", {"client_id": "7"}, RequestTypeError),
            ("deadline", {"deadline": True}, RequestTypeError),
            ("deadline", {"deadline": -1}, RequestValidationError),
        ],
    )
    async def test_book_checks_arguments_before_sending(
        self, make_client: MakeClient, field: str, changes: dict[str, Any], error: type[Exception]
    ) -> None:
        """Each bad book() argument fails with a validation error naming it, before any request."""
        client, transport = make_client(_fake(SlotBook(3)))
        args: dict[str, Any] = {"from_": MONDAY, "to": MONDAY, "appointment_type_id": 2, "client_id": 7}
        with pytest.raises(error) as info:
            await client.appointments.book(**(args | changes))
        assert isinstance(info.value, RequestValidationError)
        assert info.value.field.startswith(field)
        assert transport.requests == []

    @pytest.mark.parametrize("field", ["from_", "to"])
    async def test_search_refuses_datetimes(self, make_client: MakeClient, field: str) -> None:
        """search() with a datetime for a day fails with RequestTypeError naming it, before any request."""
        client, transport = make_client(_fake(SlotBook(3)))
        args: dict[str, Any] = {"from_": MONDAY, "to": MONDAY, "appointment_type_id": 2}
        with pytest.raises(RequestTypeError) as info:
            await client.available_appointments.search(**(args | {field: datetime(2026, 1, 5, 9)}))
        assert info.value.field == field
        assert transport.requests == []
