"""The booking flow against the simulator: ``book``, slot conflicts, and multi-window availability search."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from pracsuite_async import (
    ConflictError,
    Event,
    NoAvailabilityError,
    PracSuiteClient,
    RequestSent,
    ServerError,
    models,
)
from pracsuite_async.simulator import Simulator
from tests.integration.conftest import (
    ACCOUNT_KEY,
    TODAY,
    VENDOR_KEY,
    WEEK_END,
    MakeClient,
    MakeSim,
)

#: Physiotherapy Standard Consultation: a one-patient type every generated clinic has (seeded data).
STANDARD_TYPE = 2
PATIENT = 1
#: Clinical Pilates Class: a group type (seeded data).
GROUP_TYPE = 16


def _slot_key(slot: models.AvailableAppointment | models.Appointment) -> tuple[Any, ...]:
    return (slot.app_time, slot.practitioner_id, slot.business_id)


def _key(slot: models.AvailableAppointment) -> tuple[Any, ...]:
    return (*_slot_key(slot), slot.column_number, slot.duration)


def _where(slot: models.AvailableAppointment) -> dict[str, Any]:
    return {
        "app_time": slot.app_time,
        "practitioner_id": slot.practitioner_id,
        "business_id": slot.business_id,
        "duration": slot.duration,
        "column_number": slot.column_number,
    }


async def _free_slots(client: PracSuiteClient) -> list[models.AvailableAppointment]:
    return await client.available_appointments.list(
        from_=TODAY, to=TODAY + timedelta(days=6), appointment_type_id=STANDARD_TYPE
    ).collect()


async def test_types_used_are_what_the_tests_assume(client: PracSuiteClient) -> None:
    """The appointment types the booking tests use are a one-patient type and a group class."""
    standard = await client.appointment_types.get(STANDARD_TYPE)
    group = await client.appointment_types.get(GROUP_TYPE)
    assert (standard.group_appointment, standard.archived) == (False, False)
    assert (group.group_appointment, group.archived) == (True, False)


async def test_book_takes_the_earliest_free_slot(client: PracSuiteClient, sim: Simulator) -> None:
    """``book`` reserves and finalises the earliest free slot, which then stops being offered."""
    earliest = (
        await client.available_appointments.next(from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE)
    )[0]
    assert _key(earliest) in {_key(s) for s in await _free_slots(client)}
    booked = await client.appointments.book(
        from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE, client_id=PATIENT
    )
    assert isinstance(booked, models.Appointment)
    assert _slot_key(booked) == _slot_key(earliest)
    assert (booked.client_id, booked.appointment_type_id) == (PATIENT, STANDARD_TYPE)
    assert (await client.appointments.get(booked.appointment_id or 0)).client_id == PATIENT
    # The booked column is no longer offered (another column of the practitioner may be, at the same time).
    assert _key(earliest) not in {_key(s) for s in await _free_slots(client)}
    assert (sim.stats.by_operation["reserveAppointment"], sim.stats.by_operation["finaliseAppointment"]) == (
        1,
        1,
    )


async def test_reserving_a_held_slot_conflicts(
    client: PracSuiteClient, sim: Simulator, make_client: MakeClient
) -> None:
    """A second client reserving a slot already held gets ``ConflictError`` (409), which is not retried."""
    slot = (
        await client.available_appointments.next(from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE)
    )[0]
    held = await client.appointments.reserve(**_where(slot))
    other = make_client(sim)
    with pytest.raises(ConflictError) as caught:
        await other.appointments.reserve(**_where(slot))
    assert (caught.value.status, caught.value.code) == (409, "RESERVE_APPOINTMENT_CONFLICT")
    assert sim.stats.by_operation["reserveAppointment"] == 2
    assert held.appointment_id is not None


async def test_concurrent_books_of_one_client_take_the_earliest_slots(
    client: PracSuiteClient, sim: Simulator
) -> None:
    """Two concurrent ``book`` calls of one client take the two earliest slots without racing each other."""
    free = await _free_slots(client)
    first, second = await asyncio.gather(
        client.appointments.book(
            from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE, client_id=PATIENT
        ),
        client.appointments.book(
            from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE, client_id=PATIENT + 1
        ),
    )
    conflicts = [r for r in sim.stats.requests if (r.operation, r.status) == ("reserveAppointment", 409)]
    assert conflicts == []
    assert sorted([_slot_key(first), _slot_key(second)]) == sorted([_slot_key(free[0]), _slot_key(free[1])])
    assert first.appointment_id != second.appointment_id
    assert sim.stats.by_operation["finaliseAppointment"] == 2


async def test_book_moves_on_when_its_slot_is_taken(
    client: PracSuiteClient, sim: Simulator, make_client: MakeClient
) -> None:
    """Two clients (as two processes) race for the same earliest slot: one wins it, the other gets a 409 on
    ``reserve``, searches again and books another slot."""
    other = make_client(sim)
    first, second = await asyncio.gather(
        client.appointments.book(
            from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE, client_id=PATIENT
        ),
        other.appointments.book(
            from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE, client_id=PATIENT + 1
        ),
    )
    conflicts = [r for r in sim.stats.requests if (r.operation, r.status) == ("reserveAppointment", 409)]
    assert len(conflicts) == 1, "both searches saw the same earliest slot, so one reserve must clash"
    assert _slot_key(first) != _slot_key(second)
    assert first.appointment_id != second.appointment_id
    assert sim.stats.by_operation["finaliseAppointment"] == 2


async def test_book_without_free_slots_raises_no_availability(client: PracSuiteClient, sim: Simulator) -> None:
    """``book`` over a range with no free slot raises ``NoAvailabilityError`` without reserving anything."""
    weekend = TODAY + timedelta(days=(5 - TODAY.weekday()) % 7)  # rosters are Monday to Friday
    with pytest.raises(NoAvailabilityError):
        await client.appointments.book(
            from_=weekend,
            to=weekend + timedelta(days=1),
            appointment_type_id=STANDARD_TYPE,
            client_id=PATIENT,
        )
    assert sim.stats.by_operation["reserveAppointment"] == 0


async def test_search_over_three_windows(client: PracSuiteClient, sim: Simulator) -> None:
    """A 20-day search is split into three 7-day windows and returns their union in time order."""
    end = TODAY + timedelta(days=19)
    slots = await client.available_appointments.search(from_=TODAY, to=end, appointment_type_id=STANDARD_TYPE)
    day = timedelta(days=1)
    windows = [(TODAY, TODAY + 6 * day), (TODAY + 7 * day, TODAY + 13 * day), (TODAY + 14 * day, end)]
    per_window = [
        await client.available_appointments.list(from_=lo, to=hi, appointment_type_id=STANDARD_TYPE).collect()
        for lo, hi in windows
    ]
    assert all(per_window), "every window has free slots"
    union = [s for chunk in per_window for s in chunk]
    assert sorted(map(_key, slots)) == sorted(map(_key, union))
    assert len(slots) == len(union)
    times = [s.app_time for s in slots]
    assert times == sorted(times)  # type: ignore[type-var]
    assert slots[-1].app_time is not None
    assert slots[-1].app_time.date() > TODAY + timedelta(days=13)


async def test_group_search_returns_every_class(make_sim: MakeSim, make_client: MakeClient) -> None:
    """``available_group_appointments.list`` returns every free class the API lists, in the API's (time) order,
    even though that order is not ascending by id."""
    sim = await make_sim(records=2000)
    client = make_client(sim)
    query = {"from": TODAY.isoformat(), "to": WEEK_END.isoformat(), "appointment_type_id": str(GROUP_TYPE)}
    headers = {"x-api-key": VENDOR_KEY, "A-api-key": ACCOUNT_KEY}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sim.base_url}/available_group_appointments", params=query, headers=headers) as resp,
    ):
        listed = [c["appointment_id"] for c in (await resp.json())["available_times"]]
    assert listed != sorted(listed), "the case needs classes whose ids are not in time order"
    got = await client.available_group_appointments.list(
        from_=TODAY, to=WEEK_END, appointment_type_id=GROUP_TYPE, page_size=2
    ).collect()
    assert [c.appointment_id for c in got] == listed


def _fail_finalise_only(sim: Simulator) -> Callable[[Event], None]:
    """An event hook that makes the server answer 500 to ``finaliseAppointment`` and nothing else."""

    def hook(event: Event) -> None:
        if isinstance(event, RequestSent):
            sim.reconfigure(faults="500:1" if event.operation_id == "finaliseAppointment" else "")

    return hook


async def test_failed_finalise_raises_and_tries_to_release(sim: Simulator, make_client: MakeClient) -> None:
    """When finalising fails ``book`` raises that error, after asking the server to remove its hold."""
    client = make_client(sim, event_hooks=[_fail_finalise_only(sim)])
    with pytest.raises(ServerError):
        await client.appointments.book(
            from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE, client_id=PATIENT
        )
    calls = [(r.operation, r.status) for r in sim.stats.requests if r.method == "POST"]
    assert calls[:2] == [("reserveAppointment", 201), ("finaliseAppointment", 500)]
    assert [op for op, _ in calls[2:]] == ["removeAppointment"]


async def test_failed_finalise_frees_the_slot(sim: Simulator, make_client: MakeClient) -> None:
    """After a failed finalise the slot ``book`` held is offered again."""
    client = make_client(sim, event_hooks=[_fail_finalise_only(sim)])
    earliest = (
        await client.available_appointments.next(from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE)
    )[0]
    with pytest.raises(ServerError):
        await client.appointments.book(
            from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE, client_id=PATIENT
        )
    again = await client.available_appointments.next(
        from_=TODAY, to=WEEK_END, appointment_type_id=STANDARD_TYPE
    )
    assert _key(again[0]) == _key(earliest)
