"""A FastAPI app on pracsuite_async: search availability, book, list a patient's appointments.

Run it against the bundled simulator::

    pracsuite simulator --port 8080 &
    PRACSUITE_VENDOR_KEY=sim-vendor-key PRACSUITE_ACCOUNT_KEY=sim-account-key \\
    PRACSUITE_BASE_URL=http://127.0.0.1:8080/v1 uvicorn examples.fastapi_app:app

One client serves every request (opened in the lifespan), so all handlers share
its connection pool, rate limiter and concurrency cap; a client that disconnects
cancels its handler and the API calls it was making.
"""

import os
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from pracsuite_async import F, PracSuiteClient, to_dict
from pracsuite_async.contrib.fastapi import (
    CancelOnDisconnectMiddleware,
    PracSuite,
    install_error_handler,
    pracsuite_lifespan,
)

__all__ = ["BookingRequest", "app", "create_app"]


class BookingRequest(BaseModel):
    """Book the earliest free slot of ``appointment_type_id`` between two dates."""

    client_id: int = Field(gt=0)
    appointment_type_id: int = Field(gt=0)
    from_date: date
    to_date: date


def _client_from_env() -> PracSuiteClient:
    base_url = os.environ.get("PRACSUITE_BASE_URL")
    return PracSuiteClient(base_url=base_url) if base_url else PracSuiteClient()


def create_app(client_factory: Callable[[], PracSuiteClient] = _client_from_env) -> FastAPI:
    """The example app; ``client_factory`` builds its one client at startup."""
    app = FastAPI(title="pracsuite_async example", lifespan=pracsuite_lifespan(client_factory))
    app.add_middleware(CancelOnDisconnectMiddleware)
    install_error_handler(app)

    @app.get("/availability")
    async def availability(
        client: PracSuite,
        appointment_type_id: Annotated[int, Query(gt=0)],
        from_date: date,
        to_date: date,
    ) -> list[dict[str, Any]]:
        """Free slots of an appointment type, any date range (split into 7-day windows)."""
        slots = await client.available_appointments.search(
            from_=from_date, to=to_date, appointment_type_id=appointment_type_id
        )
        return [to_dict(slot) for slot in slots]

    @app.post("/bookings", status_code=201)
    async def book(client: PracSuite, booking: BookingRequest) -> dict[str, Any]:
        """Search -> reserve -> finalise the earliest free slot (409 when none is left)."""
        appointment = await client.appointments.book(
            from_=booking.from_date,
            to=booking.to_date,
            appointment_type_id=booking.appointment_type_id,
            client_id=booking.client_id,
        )
        return to_dict(appointment)

    @app.get("/patients/{client_id}/appointments")
    async def patient_appointments(
        client: PracSuite, client_id: int, limit: Annotated[int, Query(gt=0, le=500)] = 100
    ) -> list[dict[str, Any]]:
        """A patient's appointments, in time order (404 when the patient does not exist)."""
        await client.patients.get(client_id)  # a 404 for an unknown patient, not an empty list
        pager = client.appointments.list(
            filters=[F("client_id") == client_id], sort_by=["app_time"], max_items=limit
        )
        return [to_dict(appointment) async for appointment in pager]

    return app


#: ``uvicorn examples.fastapi_app:app``: keys (and ``PRACSUITE_BASE_URL``) from the environment.
app = create_app()
