"""The operation table: all 80 operations of the spec, with method, path and handler."""

from __future__ import annotations

from pracsuite_async.simulator import _attachments, _availability, _booking, _entries, _patients
from pracsuite_async.simulator._handlers import Handler, get_handler, list_handler
from pracsuite_async.simulator._views import GET_VIEWS, LIST_VIEWS

#: ``(operationId, method, path)`` exactly as in the spec (paths relative to the base path).
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("listAppointmentBook", "GET", "/appointment_book"),
    ("listAppointments", "GET", "/appointment"),
    ("createAppointment", "POST", "/appointment"),
    ("reserveAppointment", "POST", "/reserve_appointment"),
    ("getAppointment", "GET", "/appointment/{appointment_id}"),
    ("finaliseAppointment", "POST", "/appointment/{appointment_id}"),
    ("editAppointment", "PATCH", "/appointment/{appointment_id}"),
    ("removeAppointment", "POST", "/appointment/{appointment_id}/cancel"),
    ("listAppointmentsByAppointmentType", "GET", "/appointment_type/{appointment_type_id}/appointment"),
    ("listAppointmentsByBusiness", "GET", "/business/{business_id}/appointment"),
    ("listAppointmentsByProfession", "GET", "/profession/{profession_id}/appointment"),
    ("listAppointmentsByPatient", "GET", "/patient/{client_id}/appointment"),
    ("listAppointmentsByPractitioner", "GET", "/practitioner/{practitioner_id}/appointment"),
    ("listAppointmentsByResource", "GET", "/resource/{resource_id}/appointment"),
    ("listNotes", "GET", "/note"),
    ("createNote", "POST", "/note"),
    ("getNote", "GET", "/note/{appointment_id}"),
    ("listResourcesByNote", "GET", "/note/{appointment_id}/resource"),
    ("listRuleOuts", "GET", "/rule_out"),
    ("getGroupAppointment", "GET", "/group_appointment/{appointment_id}"),
    ("listResourcesByGroupAppointment", "GET", "/group_appointment/{appointment_id}/resource"),
    ("listGroupAppointmentMembers", "GET", "/group_appointment/{appointment_id}/appointment_client"),
    ("addGroupAppointmentMember", "POST", "/group_appointment/{appointment_id}/add_group_member"),
    ("removeGroupAppointmentMember", "POST", "/group_appointment/{appointment_id}/remove_group_member"),
    ("listCancelledAppointments", "GET", "/cancelled_appointment"),
    ("getCancelledAppointment", "GET", "/cancelled_appointment/{appointment_id}"),
    ("listCancellationReasons", "GET", "/cancellation_reason"),
    ("listRescheduleReasons", "GET", "/reschedule_reason"),
    ("listAppointmentTypes", "GET", "/appointment_type"),
    ("getAppointmentType", "GET", "/appointment_type/{appointment_type_id}"),
    ("listAppointmentTypesByProfession", "GET", "/profession/{profession_id}/appointment_type"),
    ("listAppointmentStatuses", "GET", "/appointment_status"),
    ("listAvailableAppointments", "GET", "/available_appointments"),
    ("getNextAvailableAppointment", "GET", "/next_available_appointment"),
    ("listAvailableGroupAppointments", "GET", "/available_group_appointments"),
    ("getNextAvailableGroupAppointment", "GET", "/next_available_group_appointment"),
    ("listBusinesses", "GET", "/business"),
    ("getBusiness", "GET", "/business/{business_id}"),
    ("listFeeCategories", "GET", "/fee_category"),
    ("listItems", "GET", "/item"),
    ("getItem", "GET", "/item/{item_id}"),
    ("listItemsByItemGroup", "GET", "/item_group/{item_group_id}/item"),
    ("listItemGroups", "GET", "/item_group"),
    ("getItemGroup", "GET", "/item_group/{item_group_id}"),
    ("listPatients", "GET", "/patient"),
    ("createPatient", "POST", "/patient"),
    ("getPatient", "GET", "/patient/{client_id}"),
    ("editPatient", "PATCH", "/patient/{client_id}"),
    ("listPatientAccounts", "GET", "/patient/{client_id}/account"),
    ("getPatientAccount", "GET", "/patient/{client_id}/account/{account_id}"),
    ("listInvoicesByPatientAccount", "GET", "/patient/{client_id}/account/{account_id}/invoice"),
    ("getInvoice", "GET", "/invoice/{invoice_id}"),
    ("listInvoicesByPatient", "GET", "/patient/{client_id}/invoice"),
    ("listPaymentsByPatientAccount", "GET", "/patient/{client_id}/account/{account_id}/payment"),
    ("getPayment", "GET", "/payment/{payment_id}"),
    ("requestPatientAttachmentUpload", "POST", "/patient/{client_id}/patient_attachment"),
    ("listPatientAttachmentsByPatient", "GET", "/patient/{client_id}/patient_attachment"),
    ("getPatientAttachment", "GET", "/patient_attachment/{patient_attachment_id}"),
    ("downloadPatientAttachment", "GET", "/patient_attachment/{patient_attachment_id}/content"),
    ("getPatientAttachmentPresignUrl", "GET", "/patient_attachment/{patient_attachment_id}/presign_url"),
    ("listPatientAttachmentFoldersByPatient", "GET", "/patient/{client_id}/patient_attachment_folder"),
    ("getPatientAttachmentFolder", "GET", "/patient_attachment_folder/{attachment_client_folder_id}"),
    (
        "listPatientAttachmentsByFolder",
        "GET",
        "/patient_attachment_folder/{attachment_client_folder_id}/patient_attachment",
    ),
    ("listPatientContacts", "GET", "/patient_contact"),
    ("getPatientContact", "GET", "/patient_contact/{patient_contact_id}"),
    ("listPatientContactsByPatient", "GET", "/patient/{client_id}/patient_contact"),
    ("listPractitioners", "GET", "/practitioner"),
    ("getPractitioner", "GET", "/practitioner/{practitioner_id}"),
    ("listPractitionersByBusiness", "GET", "/business/{business_id}/practitioner"),
    ("listPractitionersByProfession", "GET", "/profession/{profession_id}/practitioner"),
    ("listProfessions", "GET", "/profession"),
    ("getProfession", "GET", "/profession/{profession_id}"),
    ("listProfessionsByPractitioner", "GET", "/practitioner/{practitioner_id}/profession"),
    ("listPronouns", "GET", "/pronoun"),
    ("listSexes", "GET", "/sex"),
    ("listResources", "GET", "/resource"),
    ("getResource", "GET", "/resource/{resource_id}"),
    ("listResourcesByAppointment", "GET", "/appointment/{appointment_id}/resource"),
    ("listResourcesByAppointmentType", "GET", "/appointment_type/{appointment_type_id}/resource"),
    ("listTagCategories", "GET", "/tag_category"),
)

_CUSTOM: dict[str, Handler] = {
    "createAppointment": _booking.create_appointment,
    "reserveAppointment": _booking.reserve_appointment,
    "finaliseAppointment": _booking.finalise_appointment,
    "editAppointment": _booking.edit_appointment,
    "removeAppointment": _booking.remove_appointment,
    "createNote": _entries.create_note,
    "addGroupAppointmentMember": _entries.add_group_member,
    "removeGroupAppointmentMember": _entries.remove_group_member,
    "listAvailableAppointments": _availability.list_available,
    "getNextAvailableAppointment": _availability.next_available,
    "listAvailableGroupAppointments": _availability.list_available_groups,
    "getNextAvailableGroupAppointment": _availability.next_available_group,
    "createPatient": _patients.create_patient,
    "editPatient": _patients.edit_patient,
    "requestPatientAttachmentUpload": _attachments.request_upload,
    "downloadPatientAttachment": _attachments.download_content,
    "getPatientAttachmentPresignUrl": _attachments.presign_url,
}


def handlers() -> dict[str, Handler]:
    """A fresh handler per operationId (generic ones are closures over their view)."""
    table: dict[str, Handler] = {v.op: list_handler(v) for v in LIST_VIEWS}
    table |= {v.op: get_handler(v) for v in GET_VIEWS}
    table |= _CUSTOM
    missing = {op for op, _, _ in ROUTES} - set(table)
    if missing:  # pragma: no cover - guards the table itself
        msg = f"operations without a handler: {sorted(missing)}"
        raise RuntimeError(msg)
    return table
