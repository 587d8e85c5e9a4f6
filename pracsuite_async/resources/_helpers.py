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
import random
from collections.abc import Coroutine, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pracsuite_async import _endpoints
from pracsuite_async._clock import Deadline
from pracsuite_async._errors import (
    ConflictError,
    NoAvailabilityError,
    RequestTypeError,
    RequestValidationError,
)
from pracsuite_async._response import missing_field
from pracsuite_async._types import UNSET, UnsetType
from pracsuite_async._wire import build_request
from pracsuite_async.resources._base import Namespace

if TYPE_CHECKING:
    from pracsuite_async._client import PracSuiteClient
    from pracsuite_async.models import Appointment, AppointmentLite, AvailableAppointment

__all__ = ["AppointmentBooking", "AttachmentTransfer", "AvailabilitySearch"]

logger = logging.getLogger("pracsuite_async")

T = TypeVar("T")

#: The API answers availability for at most 7 days at a time (README "Availability").
MAX_WINDOW_DAYS = 7
#: Presigned uploads above 100 MB are rejected by storage (README "Attachments upload").
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
#: After its n-th conflict, ``book`` picks at random among the ``BOOK_SPREAD ** n``
#: earliest free slots. Bookers in other processes share nothing with this one; without
#: the spread they would all re-try the same earliest slot and one would win per round.
BOOK_SPREAD = 4
#: ``book`` keeps back this much of its deadline (at most a third of what is left)
#: to release its hold when finalising fails, so the release fits inside the deadline.
RELEASE_RESERVE = 1.0
#: Seconds a release may take when ``book`` has no deadline (one small POST).
RELEASE_TIMEOUT = 5.0

#: What identifies a slot for ``book``: one practitioner's column at one time.
SlotKey = tuple[datetime | None, int | None, int | None]


def _check_day(name: str, value: object) -> date:
    # A datetime is a date subclass, but comparing one with a date raises TypeError.
    if isinstance(value, datetime) or not isinstance(value, date):
        rule = "must be a date (not a datetime)"
        raise RequestTypeError(name, rule)
    return value


def _windows(start: object, end: object) -> list[tuple[date, date]]:
    """Consecutive windows of at most 7 days apart (``to - from <= 7``), covering start..end."""
    start, end = _check_day("from_", start), _check_day("to", end)
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


async def _all(aws: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Await concurrently as one unit: the first failure (or a cancel) stops all the others.

    ``asyncio.TaskGroup`` cancels and awaits the siblings of a failed task, so nothing
    of the operation keeps running or sending; the first error is raised as itself,
    not wrapped in an ``ExceptionGroup``.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(aw) for aw in aws]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


class AvailabilitySearch(Namespace):
    """Mixin of ``client.available_appointments``: free slots over any range."""

    __slots__ = ()

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
        validated before any request is sent. ``deadline`` (default: the client's)
        bounds the whole search; if one window fails, the others are cancelled.
        """
        query = {
            "appointment_type_id": appointment_type_id, "client_id": client_id, "account_id": account_id,
            "business_ids": business_ids, "practitioner_ids": practitioner_ids,
            "profession_ids": profession_ids, "resource_ids": resource_ids, "manual": manual,
            "online": online, "waiting_list": waiting_list,
        }
        budget = _start(self._client, deadline, _endpoints.LIST_AVAILABLE_APPOINTMENTS)
        return await self._search(from_, to, query, budget)

    async def _search(
        self, from_: object, to: object, query: Mapping[str, object], budget: Deadline
    ) -> list[AvailableAppointment]:
        endpoint = _endpoints.LIST_AVAILABLE_APPOINTMENTS
        pagers = [
            self._list(endpoint, {**query, "from_": lo, "to": hi, "deadline": budget})
            for lo, hi in _windows(from_, to)
        ]
        results = await _all(pager.collect() for pager in pagers)
        slots = [slot for chunk in results for slot in chunk]
        slots.sort(key=_slot_order)
        return slots


def _start(client: PracSuiteClient, deadline: float | None, endpoint: _endpoints.Endpoint[Any]) -> Deadline:
    """The one :class:`Deadline` of a multi-request operation; raises before anything is sent."""
    client._ensure_usable()  # the client's own lifecycle
    return client._pipeline.budget(deadline, method=endpoint.method, path=endpoint.path)  # validates it


def _slot_order(slot: AvailableAppointment) -> tuple[str, int, int]:
    when = slot.app_time.isoformat() if slot.app_time else ""
    return (when, slot.practitioner_id or 0, slot.column_number or 0)


def _slot_key(slot: AvailableAppointment) -> SlotKey:
    return (slot.app_time, slot.practitioner_id, slot.column_number)


def _pick(
    slots: list[AvailableAppointment], excluded: AbstractSet[Hashable], conflicts: int, rng: random.Random
) -> AvailableAppointment | None:
    """The earliest bookable slot not excluded; after conflicts, a random one of the earliest few."""
    candidates = [
        s for s in slots if s.app_time is not None and s.duration is not None and _slot_key(s) not in excluded
    ]
    if not candidates:
        return None
    spread = min(len(candidates), BOOK_SPREAD**conflicts)
    return candidates[0] if spread == 1 else rng.choice(candidates[:spread])


def _check_tries(value: object) -> int:
    name = "max_tries"
    if isinstance(value, bool) or not isinstance(value, int):
        rule = "must be an integer"
        raise RequestTypeError(name, rule)
    if value < 1:
        rule = "must be at least 1"
        raise RequestValidationError(name, rule)
    return value


class AppointmentBooking(Namespace):
    """Mixin of ``client.appointments``: the booking flow as one call."""

    __slots__ = ()

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

        Searches availability, reserves a slot (a 15-minute hold) and finalises it.
        Concurrent ``book`` calls of one client never pick the same slot. A slot
        taken meanwhile (409 ``RESERVE_APPOINTMENT_CONFLICT``, for example by another
        process) means a fresh search and a random pick among the earliest free
        slots, widening with each conflict, so concurrent bookers spread out instead
        of colliding again; at most ``max_tries`` reserves are sent.

        If finalising fails, is cancelled or runs out of time, the hold is released
        before the error is raised; part of ``deadline`` is kept back for that. All
        arguments are checked before anything is sent. ``deadline`` (default: the
        client's) bounds the whole booking.

        Raises:
            NoAvailabilityError: no free slot in the range (nothing was reserved).
            ConflictError: each of the ``max_tries`` slots tried was taken first.
        """
        client = self._client
        _check_tries(max_tries)
        booking = {
            "client_id": client_id, "appointment_type_id": appointment_type_id, "account_id": account_id,
        }
        # The finalise arguments are checked now, not after a slot is held (1 stands in for its id).
        build_request(_endpoints.FINALISE_APPOINTMENT, {**booking, "appointment_id": 1})
        query = {
            **booking, "business_ids": business_ids, "practitioner_ids": practitioner_ids,
            "profession_ids": profession_ids, "resource_ids": resource_ids,
        }
        budget = _start(client, deadline, _endpoints.RESERVE_APPOINTMENT)
        availability = client.available_appointments
        claims = client._slot_claims  # slots this client's bookings are holding
        tried: set[SlotKey] = set()
        conflict: ConflictError | None = None
        mine: set[SlotKey] = set()
        try:
            for _ in range(max_tries):
                slots = await availability._search(from_, to, query, budget)
                slot = _pick(slots, {*tried, *claims}, len(tried), client._rng)
                if slot is None:
                    break
                key = _slot_key(slot)
                claims.add(key)
                mine.add(key)
                try:
                    held = await self._reserve(slot, budget)
                except ConflictError as exc:
                    logger.info("slot taken, searching again")
                    tried.add(key)
                    conflict = exc
                    continue
                return await self._finalise(held, booking, budget)
            else:
                assert conflict is not None  # noqa: S101 - every pass that did not return conflicted
                raise conflict
        finally:
            claims.difference_update(mine)
        msg = "no free slot in the range"
        raise NoAvailabilityError(msg)

    async def _reserve(self, slot: AvailableAppointment, budget: Deadline) -> int:
        args = {
            "app_time": slot.app_time, "duration": slot.duration,
            "practitioner_id": _or_unset(slot.practitioner_id), "business_id": _or_unset(slot.business_id),
            "column_number": _or_unset(slot.column_number), "width": _or_unset(slot.width),
            "deadline": budget,
        }
        held: AppointmentLite = await self._call(_endpoints.RESERVE_APPOINTMENT, args)
        return held.appointment_id  # required by the model: decoding fails without it

    async def _finalise(
        self, appointment_id: int, booking: Mapping[str, object], budget: Deadline
    ) -> Appointment:
        endpoint = _endpoints.FINALISE_APPOINTMENT
        left = budget.remaining()
        reserve = 0.0 if left is None else min(RELEASE_RESERVE, left / 3)
        step = budget.bind(method=endpoint.method, path=endpoint.path, reserve=reserve)
        try:
            return await self._call(endpoint, {**booking, "appointment_id": appointment_id, "deadline": step})
        except BaseException:
            # Free the slot rather than block it for 15 minutes, on every failure
            # (error, cancel, deadline); the original error is the one raised.
            await self._release(appointment_id, budget)
            raise

    async def _release(self, appointment_id: int, budget: Deadline) -> None:
        left = budget.remaining()
        seconds = RELEASE_TIMEOUT if left is None else min(RELEASE_TIMEOUT, left)
        if seconds <= 0:
            logger.warning("no time left to release a reserved slot; it expires after 15 minutes")
            return
        args = {"appointment_id": appointment_id, "record_as_cancelled": False, "deadline": seconds,
                "idempotent": True}
        try:
            await self._call(_endpoints.REMOVE_APPOINTMENT, args)
        except Exception:  # noqa: BLE001 - best effort; the caller gets the original error
            logger.warning("could not release a reserved slot; it expires after 15 minutes", exc_info=False)


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

