"""A user's booking flow, type-checked by ``mypy --strict`` (``.ci/run``), never run.

Reserve a slot and finalise it with the returned id, then list and re-read: no
``assert`` and no ``cast`` is needed, because spec-required fields and each record's
id are typed without ``None`` (#9). If a model loses that, this file stops type-checking.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pracsuite_async import PracSuiteClient
from pracsuite_async.models import Appointment, AppointmentLite


async def book_first_free_slot(client: PracSuiteClient, patient_id: int, type_id: int) -> Appointment:
    """Search, reserve the first slot and finalise it for the patient."""
    slots = await client.available_appointments.search(
        from_=date(2026, 1, 5), to=date(2026, 1, 9), appointment_type_id=type_id
    )
    slot = slots[0]
    start: datetime = slot.app_time if slot.app_time is not None else datetime(2026, 1, 5, 9)
    held: AppointmentLite = await client.appointments.reserve(app_time=start, duration=30)
    appointment_id: int = held.appointment_id
    ends: datetime = held.app_time + timedelta(minutes=held.duration)
    booked = await client.appointments.finalise(appointment_id, client_id=patient_id, appointment_type_id=type_id)
    assert_int(booked.appointment_id)
    _ = ends
    return await client.appointments.get(booked.appointment_id)


async def ids_of_all_appointments(client: PracSuiteClient) -> set[int]:
    """Every appointment id of a walk: an ``int``, never ``int | None``."""
    return {appointment.appointment_id async for appointment in client.appointments.list()}


def assert_int(value: int) -> int:
    """Only an ``int`` type-checks here (a function, not an ``assert`` statement)."""
    return value
