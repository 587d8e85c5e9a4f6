"""Hand-written helpers that go beyond single API calls, mixed into generated namespaces.

* ``client.available_appointments.search(...)``: any date range, split into the
  API's 7-day windows, fetched concurrently, merged in time order.
* ``client.appointments.book(...)``: search -> reserve -> finalise in one call,
  moving on to the next slot when one is taken meanwhile (409).
* ``client.patient_attachments.upload(...)`` / ``.download_content(...)``: the
  two-step presigned upload and the presigned download, end to end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pracsuite_async._errors import ConflictError, RequestTypeError, RequestValidationError
from pracsuite_async._response import missing_field
from pracsuite_async._types import UNSET, UnsetType

if TYPE_CHECKING:
    from pracsuite_async._client import PracSuiteClient
    from pracsuite_async.models import Appointment, AvailableAppointment

__all__ = ["AppointmentBooking", "AttachmentTransfer", "AvailabilitySearch"]

logger = logging.getLogger("pracsuite_async")

#: The API answers availability for at most 7 days at a time (README "Availability").
MAX_WINDOW_DAYS = 7
#: Presigned uploads above 100 MB are rejected by storage (README "Attachments upload").
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def _windows(start: date, end: date) -> list[tuple[date, date]]:
    """Consecutive windows of at most 7 days apart (``to - from <= 7``), covering start..end."""
    if end < start:
        field, rule = "to", "must not be before from_"
        raise RequestValidationError(field, rule)
    out = []
    while start <= end:
        stop = min(start + timedelta(days=MAX_WINDOW_DAYS - 1), end)
        out.append((start, stop))
        start = stop + timedelta(days=1)
    return out


def _or_unset(value: int | None) -> int | UnsetType:
    return UNSET if value is None else value


class AvailabilitySearch:
    """Mixin of ``client.available_appointments``: free slots over any range."""

    __slots__ = ()
    _client: PracSuiteClient

    async def search(
        self,
        *,
        from_: date,
        to: date,
        appointment_type_id: int,
        client_id: int | UnsetType = UNSET,
        account_id: int | UnsetType = UNSET,
        business_ids: Sequence[int] | UnsetType = UNSET,
        practitioner_ids: Sequence[int] | UnsetType = UNSET,
        profession_ids: Sequence[int] | UnsetType = UNSET,
        resource_ids: Sequence[int] | UnsetType = UNSET,
        manual: bool | UnsetType = UNSET,
        online: bool | UnsetType = UNSET,
        waiting_list: bool | UnsetType = UNSET,
        deadline: float | None = None,
    ) -> list[AvailableAppointment]:
        """Free appointment times from ``from_`` to ``to`` (inclusive), any length.

        The range is split into the API's 7-day windows, fetched concurrently
        (through the client's limiter) and merged in time order, then by
        practitioner and column. Arguments are as for :meth:`list`; all windows are
        validated before any request is sent.
        """
        windows = _windows(from_, to)
        api = self._client.available_appointments
        pagers = [
            api.list(
                from_=lo, to=hi, appointment_type_id=appointment_type_id, client_id=client_id,
                account_id=account_id, business_ids=business_ids, practitioner_ids=practitioner_ids,
                profession_ids=profession_ids, resource_ids=resource_ids, manual=manual, online=online,
                waiting_list=waiting_list, deadline=deadline,
            )
            for lo, hi in windows
        ]
        results = await asyncio.gather(*(p.collect() for p in pagers))
        slots = [slot for chunk in results for slot in chunk]
        slots.sort(key=_slot_order)
        return slots


def _slot_order(slot: AvailableAppointment) -> tuple[str, int, int]:
    when = slot.app_time.isoformat() if slot.app_time else ""
    return (when, slot.practitioner_id or 0, slot.column_number or 0)


class AppointmentBooking:
    """Mixin of ``client.appointments``: the booking flow as one call."""

    __slots__ = ()
    _client: PracSuiteClient

    async def book(
        self,
        *,
        from_: date,
        to: date,
        appointment_type_id: int,
        client_id: int,
        account_id: int | UnsetType = UNSET,
        business_ids: Sequence[int] | UnsetType = UNSET,
        practitioner_ids: Sequence[int] | UnsetType = UNSET,
        profession_ids: Sequence[int] | UnsetType = UNSET,
        resource_ids: Sequence[int] | UnsetType = UNSET,
        max_tries: int = 5,
        deadline: float | None = None,
    ) -> Appointment:
        """Book the earliest free slot in ``from_``..``to`` for a patient, in one call.

        Searches availability, reserves the earliest slot (a 15-minute hold) and
        finalises it. A slot taken meanwhile (409 ``RESERVE_APPOINTMENT_CONFLICT``)
        moves on to the next one, up to ``max_tries`` slots; if finalising fails the
        hold is released before the error is raised.

        Raises:
            ConflictError: every slot tried was taken, or none was free.
        """
        slots = await self._client.available_appointments.search(
            from_=from_, to=to, appointment_type_id=appointment_type_id, client_id=client_id,
            account_id=account_id, business_ids=business_ids, practitioner_ids=practitioner_ids,
            profession_ids=profession_ids, resource_ids=resource_ids, deadline=deadline,
        )
        api = self._client.appointments
        conflict: ConflictError | None = None
        for slot in slots[:max_tries]:
            if slot.app_time is None or slot.duration is None:
                continue
            try:
                held = await api.reserve(
                    app_time=slot.app_time, duration=slot.duration,
                    practitioner_id=_or_unset(slot.practitioner_id), business_id=_or_unset(slot.business_id),
                    column_number=_or_unset(slot.column_number), width=_or_unset(slot.width),
                    deadline=deadline,
                )
            except ConflictError as exc:
                logger.info("slot taken, trying the next one")
                conflict = exc
                continue
            appointment_id = held.appointment_id
            try:
                return await api.finalise(
                    appointment_id, client_id=client_id, appointment_type_id=appointment_type_id,
                    account_id=account_id, deadline=deadline,
                )
            except BaseException:
                # Free the hold rather than block the slot for 15 minutes; the
                # original error matters more than a failure to release.
                await asyncio.shield(self._release(appointment_id))
                raise
        if conflict is not None:
            raise conflict
        detail = "no free slot"
        raise ConflictError(status=409, method="POST", path="/reserve_appointment", detail=detail)

    async def _release(self, appointment_id: int) -> None:
        try:
            await self._client.appointments.cancel(appointment_id, record_as_cancelled=False)
        except Exception:  # noqa: BLE001 - best effort; the caller gets the original error
            logger.warning("could not release a reserved slot", exc_info=False)


class AttachmentTransfer:
    """Mixin of ``client.patient_attachments``: upload and download of file contents."""

    __slots__ = ()
    _client: PracSuiteClient

    async def upload(
        self,
        client_id: int,
        *,
        file_name: str,
        content: bytes,
        deadline: float | None = None,
    ) -> None:
        """Upload a file to a patient's attachments (request a presigned POST, then send it).

        The file goes straight to storage with the presigned fields unchanged and
        without the API keys. Files over 100 MB are refused before anything is sent.
        """
        field = "content"
        if not isinstance(content, bytes | bytearray | memoryview):  # untyped callers
            rule = "must be bytes"  # type: ignore[unreachable]
            raise RequestTypeError(field, rule)
        if len(content) > MAX_UPLOAD_BYTES:
            rule = "must be at most 100 MB"
            raise RequestValidationError(field, rule)
        presigned = await self._client.patient_attachments.request_upload(
            client_id, file_name=file_name, deadline=deadline
        )
        if not presigned.url:
            method, path = "POST", "/patient/{client_id}/patient_attachment"
            raise missing_field(method, path, "$.url")
        await self._client._pipeline.upload_presigned(  # the client's own machinery
            presigned.url, fields=dict(presigned.fields or {}), file_name=file_name, content=bytes(content),
            deadline=deadline,
        )

    async def download_content(self, patient_attachment_id: int, *, deadline: float | None = None) -> bytes:
        """The bytes of an attachment, through a presigned download URL."""
        api = self._client.patient_attachments
        presigned = await api.presign_url(patient_attachment_id, deadline=deadline)
        if not presigned.url:
            method, path = "GET", "/patient_attachment/{id}/presign_url"
            raise missing_field(method, path, "$.url")
        return await self._client._pipeline.download_presigned(presigned.url, deadline=deadline)

