"""Every one of the 80 operations, called through the public client against the simulator.

Ids are resolved from the simulator's data: by listing through the client where that is one call, and
from the dataset where an operation needs a specific relation (an invoice's account, a note with
resources). Each call must hit its own route on the server and come back as the typed result.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pracsuite_async import OPERATIONS, PracSuiteClient, models
from pracsuite_async.simulator import Simulator
from tests.integration.conftest import TODAY, WEEK_END


class Ctx:
    """A client plus the simulator it talks to, with helpers that pick ids worth calling with."""

    def __init__(self, client: PracSuiteClient, sim: Simulator) -> None:
        self.client = client
        self.sim = sim
        self.tables = sim.dataset.tables

    def diary(self, kind: str, *, with_resources: bool = False, future: bool = False) -> int:
        """The id of the first diary entry of ``kind`` (appointment, note, group...)."""
        return next(
            i
            for i, r in self.tables["diary"].items()
            if r["_kind"] == kind
            and (r["resource_ids"] or not with_resources)
            and (r["app_time"] >= TODAY.isoformat() or not future)
        )

    async def standard_type(self) -> int:
        """An appointment type that is not a group class and not archived (listed through the client)."""
        types = await self.client.appointment_types.list().collect()
        return next(t.appointment_type_id for t in types if not t.group_appointment and not t.archived)

    async def group_type(self) -> int:
        """An appointment type for group classes."""
        types = await self.client.appointment_types.list().collect()
        return next(t.appointment_type_id for t in types if t.group_appointment and not t.archived)

    async def slot(self) -> models.AvailableAppointment:
        """The earliest free slot of this week for a standard appointment type."""
        type_id = await self.standard_type()
        slots = await self.client.available_appointments.next(
            from_=TODAY, to=WEEK_END, appointment_type_id=type_id
        )
        return slots[0]

    async def patient(self) -> int:
        """The first patient's id, listed through the client."""
        first = await self.client.patients.list(max_items=1).collect()
        return first[0].client_id or 0

    async def appointment(self) -> models.Appointment:
        """The first appointment, listed through the client."""
        return (await self.client.appointments.list(max_items=1).collect())[0]

    def invoice(self) -> dict[str, Any]:
        """The first invoice record (with its patient and account)."""
        return next(iter(self.tables["invoices"].values()))

    def payment(self) -> dict[str, Any]:
        """The first payment record (with its patient and account)."""
        return next(iter(self.tables["payments"].values()))

    def folder(self) -> tuple[int, int]:
        """(patient, folder) of the first attachment kept in a folder."""
        rec = next(r for r in self.tables["attachments"].values() if r["_folder_id"])
        return rec["client_id"], rec["_folder_id"]

    def attachment(self) -> int:
        """The first attachment's id."""
        return next(iter(self.tables["attachments"]))

    async def group(self) -> models.AvailableGroupAppointment:
        """A group class of this week with a free place, found through the client."""
        found = await self.client.available_group_appointments.list(
            from_=TODAY, to=WEEK_END, appointment_type_id=await self.group_type()
        ).collect()
        return found[0]

    async def newcomer(self, group_id: int) -> int:
        """A patient who is not yet a member of ``group_id``."""
        members = await self.client.group_appointments.members(group_id).collect()
        taken = {m.client_id for m in members}
        return next(c for c in self.tables["patients"] if c not in taken)


Call = Callable[[Ctx], Awaitable[Any]]


def _where(slot: models.AvailableAppointment) -> dict[str, Any]:
    return {
        "app_time": slot.app_time,
        "practitioner_id": slot.practitioner_id,
        "business_id": slot.business_id,
        "duration": slot.duration,
        "column_number": slot.column_number,
    }


async def _create_appointment(c: Ctx) -> models.Appointment:
    slot = await c.slot()
    made = await c.client.appointments.create(
        client_id=await c.patient(), appointment_type_id=await c.standard_type(), **_where(slot)
    )
    assert (made.app_time, made.practitioner_id) == (slot.app_time, slot.practitioner_id)
    assert made.appointment_id in c.tables["diary"]
    return made


async def _reserve(c: Ctx) -> models.AppointmentLite:
    slot = await c.slot()
    held = await c.client.appointments.reserve(**_where(slot))
    assert held.appointment_id is not None
    assert held.app_time == slot.app_time
    return held


async def _finalise(c: Ctx) -> models.Appointment:
    held = await _reserve(c)
    assert held.appointment_id is not None
    patient = await c.patient()
    booked = await c.client.appointments.finalise(
        held.appointment_id, client_id=patient, appointment_type_id=await c.standard_type()
    )
    assert (booked.appointment_id, booked.client_id) == (held.appointment_id, patient)
    return booked


async def _edit(c: Ctx) -> models.Appointment:
    appointment = await c.appointment()
    assert appointment.appointment_id is not None
    status = 2 if appointment.appointment_status_id != 2 else 3
    edited = await c.client.appointments.update(appointment.appointment_id, appointment_status_id=status)
    assert edited.appointment_status_id == status
    return edited


async def _cancel(c: Ctx) -> None:
    made = await _create_appointment(c)
    assert made.appointment_id is not None
    result = await c.client.appointments.cancel(made.appointment_id, record_as_cancelled=True)
    cancelled = await c.client.cancelled_appointments.get(made.appointment_id)
    assert cancelled.appointment_id == made.appointment_id
    return result


async def _create_note(c: Ctx) -> models.Note:
    where = _where(await c.slot())
    del where["column_number"]
    note = await c.client.notes.create(description="Call back", **where)
    assert note.description == "Call back"
    return note


async def _add_member(c: Ctx) -> models.GroupAppointmentMember:
    group = await c.group()
    assert group.appointment_id is not None
    patient = await c.newcomer(group.appointment_id)
    member = await c.client.group_appointments.add_member(group.appointment_id, client_id=patient)
    assert member.client_id == patient
    return member


async def _remove_member(c: Ctx) -> None:
    member = await _add_member(c)
    assert member.appointment_id is not None
    assert member.client_id is not None
    result = await c.client.group_appointments.remove_member(
        member.appointment_id, client_id=member.client_id
    )
    left = await c.client.group_appointments.members(member.appointment_id).collect()
    assert member.client_id not in {m.client_id for m in left}
    return result


async def _create_patient(c: Ctx) -> models.Patient:
    patient = await c.client.patients.create(
        first_name="Ada", surname="Lovelace", timezone="Australia/Sydney"
    )
    assert (patient.first_name, patient.surname) == ("Ada", "Lovelace")
    assert patient.client_id in c.tables["patients"]
    return patient


async def _edit_patient(c: Ctx) -> models.Patient:
    patient = await c.patient()
    edited = await c.client.patients.update(patient, mobile="0400 000 000")
    assert (edited.client_id, edited.mobile) == (patient, "0400 000 000")
    return edited


async def _request_upload(c: Ctx) -> models.PresignedPost:
    presigned = await c.client.patient_attachments.request_upload(await c.patient(), file_name="a.pdf")
    assert presigned.url
    assert (presigned.fields or {})["key"].endswith("/a.pdf")
    return presigned


async def _download(c: Ctx) -> str:
    location = await c.client.patient_attachments.download(c.attachment())
    assert location.startswith(f"http://127.0.0.1:{c.sim.port}/_download/")
    return location


async def _search(c: Ctx, next_only: bool, group: bool) -> Any:
    type_id = await (c.group_type() if group else c.standard_type())
    api = c.client.available_group_appointments if group else c.client.available_appointments
    if next_only:
        return await api.next(from_=TODAY, to=WEEK_END, appointment_type_id=type_id)
    return await api.list(from_=TODAY, to=WEEK_END, appointment_type_id=type_id).collect()


async def _get_appointment(c: Ctx) -> models.Appointment:
    appointment_id = (await c.appointment()).appointment_id or 0
    got = await c.client.appointments.get(appointment_id)
    assert got.appointment_id == appointment_id
    return got


async def _by_appointment_field(c: Ctx, method: Callable[[int], Any], field: str) -> list[Any]:
    appointment = await c.appointment()
    parent = getattr(appointment, field)
    rows = await method(parent).collect()
    assert appointment.appointment_id in {r.appointment_id for r in rows}
    return rows


CALLS: dict[str, Call] = {
    "listAppointmentBook": lambda c: c.client.appointment_book.list(max_items=150).collect(),
    "listAppointments": lambda c: c.client.appointments.list(max_items=150).collect(),
    "createAppointment": _create_appointment,
    "reserveAppointment": _reserve,
    "getAppointment": _get_appointment,
    "finaliseAppointment": _finalise,
    "editAppointment": _edit,
    "removeAppointment": _cancel,
    "listAppointmentsByAppointmentType": lambda c: _by_appointment_field(
        c, c.client.appointment_types.appointments, "appointment_type_id"
    ),
    "listAppointmentsByBusiness": lambda c: _by_appointment_field(
        c, c.client.businesses.appointments, "business_id"
    ),
    "listAppointmentsByProfession": lambda c: _by_appointment_field(
        c, c.client.professions.appointments, "profession_id"
    ),
    "listAppointmentsByPatient": lambda c: _by_appointment_field(
        c, c.client.patients.appointments, "client_id"
    ),
    "listAppointmentsByPractitioner": lambda c: _by_appointment_field(
        c, c.client.practitioners.appointments, "practitioner_id"
    ),
    "listAppointmentsByResource": lambda c: c.client.resources.appointments(
        c.tables["diary"][c.diary("appointment", with_resources=True)]["resource_ids"][0]
    ).collect(),
    "listNotes": lambda c: c.client.notes.list().collect(),
    "createNote": _create_note,
    "getNote": lambda c: c.client.notes.get(c.diary("note")),
    "listResourcesByNote": lambda c: c.client.notes.resources(c.diary("note", with_resources=True)).collect(),
    "listRuleOuts": lambda c: c.client.rule_outs.list().collect(),
    "getGroupAppointment": lambda c: c.client.group_appointments.get(c.diary("group")),
    "listResourcesByGroupAppointment": lambda c: c.client.group_appointments.resources(
        c.diary("group", with_resources=True)
    ).collect(),
    "listGroupAppointmentMembers": lambda c: c.client.group_appointments.members(
        next(iter(c.tables["group_members"].values()))["appointment_id"]
    ).collect(),
    "addGroupAppointmentMember": _add_member,
    "removeGroupAppointmentMember": _remove_member,
    "listCancelledAppointments": lambda c: c.client.cancelled_appointments.list().collect(),
    "getCancelledAppointment": lambda c: c.client.cancelled_appointments.get(
        next(iter(c.tables["cancelled"]))
    ),
    "listCancellationReasons": lambda c: c.client.cancellation_reasons.list().collect(),
    "listRescheduleReasons": lambda c: c.client.reschedule_reasons.list().collect(),
    "listAppointmentTypes": lambda c: c.client.appointment_types.list().collect(),
    "getAppointmentType": lambda c: c.client.appointment_types.get(2),
    "listAppointmentTypesByProfession": lambda c: c.client.professions.appointment_types(1).collect(),
    "listAppointmentStatuses": lambda c: c.client.appointment_statuses.list().collect(),
    "listAvailableAppointments": lambda c: _search(c, next_only=False, group=False),
    "getNextAvailableAppointment": lambda c: _search(c, next_only=True, group=False),
    "listAvailableGroupAppointments": lambda c: _search(c, next_only=False, group=True),
    "getNextAvailableGroupAppointment": lambda c: _search(c, next_only=True, group=True),
    "listBusinesses": lambda c: c.client.businesses.list().collect(),
    "getBusiness": lambda c: c.client.businesses.get(1),
    "listFeeCategories": lambda c: c.client.fee_categories.list().collect(),
    "listItems": lambda c: c.client.items.list().collect(),
    "getItem": lambda c: c.client.items.get(1),
    "listItemsByItemGroup": lambda c: c.client.item_groups.items(1).collect(),
    "listItemGroups": lambda c: c.client.item_groups.list().collect(),
    "getItemGroup": lambda c: c.client.item_groups.get(1),
    "listPatients": lambda c: c.client.patients.list().collect(),
    "createPatient": _create_patient,
    "getPatient": lambda c: c.client.patients.get(1),
    "editPatient": _edit_patient,
    "listPatientAccounts": lambda c: c.client.patients.accounts(c.invoice()["client_id"]).collect(),
    "getPatientAccount": lambda c: c.client.patient_accounts.get(
        c.invoice()["client_id"], c.invoice()["account_id"]
    ),
    "listInvoicesByPatientAccount": lambda c: c.client.patient_accounts.invoices(
        c.invoice()["client_id"], c.invoice()["account_id"]
    ).collect(),
    "getInvoice": lambda c: c.client.invoices.get(c.invoice()["invoice_id"]),
    "listInvoicesByPatient": lambda c: c.client.patients.invoices(c.invoice()["client_id"]).collect(),
    "listPaymentsByPatientAccount": lambda c: c.client.patient_accounts.payments(
        c.payment()["client_id"], c.payment()["account_id"]
    ).collect(),
    "getPayment": lambda c: c.client.payments.get(c.payment()["payment_id"]),
    "requestPatientAttachmentUpload": _request_upload,
    "listPatientAttachmentsByPatient": lambda c: c.client.patients.attachments(
        c.tables["attachments"][c.attachment()]["client_id"]
    ).collect(),
    "getPatientAttachment": lambda c: c.client.patient_attachments.get(c.attachment()),
    "downloadPatientAttachment": _download,
    "getPatientAttachmentPresignUrl": lambda c: c.client.patient_attachments.presign_url(c.attachment()),
    "listPatientAttachmentFoldersByPatient": lambda c: c.client.patients.attachment_folders(
        c.folder()[0]
    ).collect(),
    "getPatientAttachmentFolder": lambda c: c.client.patient_attachment_folders.get(c.folder()[1]),
    "listPatientAttachmentsByFolder": lambda c: c.client.patient_attachment_folders.attachments(
        c.folder()[1]
    ).collect(),
    "listPatientContacts": lambda c: c.client.patient_contacts.list().collect(),
    "getPatientContact": lambda c: c.client.patient_contacts.get(1),
    "listPatientContactsByPatient": lambda c: c.client.patients.contacts(
        c.tables["contacts"][1]["client_id"]
    ).collect(),
    "listPractitioners": lambda c: c.client.practitioners.list().collect(),
    "getPractitioner": lambda c: c.client.practitioners.get(1),
    "listPractitionersByBusiness": lambda c: c.client.businesses.practitioners(1).collect(),
    "listPractitionersByProfession": lambda c: c.client.professions.practitioners(1).collect(),
    "listProfessions": lambda c: c.client.professions.list().collect(),
    "getProfession": lambda c: c.client.professions.get(1),
    "listProfessionsByPractitioner": lambda c: c.client.practitioners.professions(1).collect(),
    "listPronouns": lambda c: c.client.pronouns.list().collect(),
    "listSexes": lambda c: c.client.sexes.list().collect(),
    "listResources": lambda c: c.client.resources.list().collect(),
    "getResource": lambda c: c.client.resources.get(1),
    "listResourcesByAppointment": lambda c: c.client.appointments.resources(
        c.diary("appointment", with_resources=True)
    ).collect(),
    "listResourcesByAppointmentType": lambda c: c.client.appointment_types.resources(2).collect(),
    "listTagCategories": lambda c: c.client.tag_categories.list().collect(),
}


def _check_typed(op_id: str, result: Any) -> None:
    endpoint = OPERATIONS[op_id]
    expected = endpoint.result
    if expected is None:
        assert result is None
    elif endpoint.paginated or typing.get_origin(expected) is list:
        inner = typing.get_args(expected)[0] if typing.get_origin(expected) is list else expected
        assert isinstance(result, list)
        assert result, "an empty list proves nothing about decoding"
        assert all(type(item) is inner for item in result)
    else:
        assert type(result) is expected


def test_every_operation_has_a_call() -> None:
    """The call table below covers exactly the client's 80 operations."""
    assert set(CALLS) == set(OPERATIONS)


@pytest.mark.parametrize(
    "op_id",
    sorted(OPERATIONS),
)
async def test_operation_through_the_client(op_id: str, client: PracSuiteClient, sim: Simulator) -> None:
    """The public method of each operation reaches its route and returns the typed result."""
    result = await CALLS[op_id](Ctx(client, sim))
    _check_typed(op_id, result)
    assert sim.stats.by_operation[op_id] >= 1
    assert set(sim.stats.by_status) <= {200, 201, 204, 307}


async def test_upload_then_download_round_trips_the_bytes(client: PracSuiteClient, sim: Simulator) -> None:
    """``upload`` stores a file through the presigned POST and ``download_content`` returns the same bytes."""
    patient = 1
    content = b"%PDF-1.4\n" + bytes(range(256)) * 40
    before = {a.attachment_client_id for a in await client.patients.attachments(patient).collect()}
    await client.patient_attachments.upload(patient, file_name="scan.pdf", content=content)
    after = await client.patients.attachments(patient).collect()
    new = [a for a in after if a.attachment_client_id not in before]
    assert [(a.description, a.file_size) for a in new] == [("scan.pdf", len(content))]
    assert new[0].attachment_client_id is not None
    assert await client.patient_attachments.download_content(new[0].attachment_client_id) == content
