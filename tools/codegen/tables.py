"""The hand-written decisions of the generator; everything else comes from the spec.

Each table is small and explicit; ``generate.py`` checks that they cover the spec
(every operationId has a namespace method, every named field exists).
"""

from __future__ import annotations

#: operationId -> (client attribute, method name). Scoped lists ``listXByY`` live on
#: Y's namespace under X's plural.
NAMESPACE_METHODS: dict[str, tuple[str, str]] = {
    "listAppointmentBook": ("appointment_book", "list"),
    "listAppointments": ("appointments", "list"),
    "createAppointment": ("appointments", "create"),
    "reserveAppointment": ("appointments", "reserve"),
    "getAppointment": ("appointments", "get"),
    "finaliseAppointment": ("appointments", "finalise"),
    "editAppointment": ("appointments", "update"),
    "removeAppointment": ("appointments", "cancel"),
    "listResourcesByAppointment": ("appointments", "resources"),
    "listAppointmentsByAppointmentType": ("appointment_types", "appointments"),
    "listAppointmentsByBusiness": ("businesses", "appointments"),
    "listAppointmentsByProfession": ("professions", "appointments"),
    "listAppointmentsByPatient": ("patients", "appointments"),
    "listAppointmentsByPractitioner": ("practitioners", "appointments"),
    "listAppointmentsByResource": ("resources", "appointments"),
    "listNotes": ("notes", "list"),
    "createNote": ("notes", "create"),
    "getNote": ("notes", "get"),
    "listResourcesByNote": ("notes", "resources"),
    "listRuleOuts": ("rule_outs", "list"),
    "getGroupAppointment": ("group_appointments", "get"),
    "listResourcesByGroupAppointment": ("group_appointments", "resources"),
    "listGroupAppointmentMembers": ("group_appointments", "members"),
    "addGroupAppointmentMember": ("group_appointments", "add_member"),
    "removeGroupAppointmentMember": ("group_appointments", "remove_member"),
    "listCancelledAppointments": ("cancelled_appointments", "list"),
    "getCancelledAppointment": ("cancelled_appointments", "get"),
    "listCancellationReasons": ("cancellation_reasons", "list"),
    "listRescheduleReasons": ("reschedule_reasons", "list"),
    "listAppointmentTypes": ("appointment_types", "list"),
    "getAppointmentType": ("appointment_types", "get"),
    "listResourcesByAppointmentType": ("appointment_types", "resources"),
    "listAppointmentTypesByProfession": ("professions", "appointment_types"),
    "listAppointmentStatuses": ("appointment_statuses", "list"),
    "listAvailableAppointments": ("available_appointments", "list"),
    "getNextAvailableAppointment": ("available_appointments", "next"),
    "listAvailableGroupAppointments": ("available_group_appointments", "list"),
    "getNextAvailableGroupAppointment": ("available_group_appointments", "next"),
    "listBusinesses": ("businesses", "list"),
    "getBusiness": ("businesses", "get"),
    "listPractitionersByBusiness": ("businesses", "practitioners"),
    "listFeeCategories": ("fee_categories", "list"),
    "listItems": ("items", "list"),
    "getItem": ("items", "get"),
    "listItemGroups": ("item_groups", "list"),
    "getItemGroup": ("item_groups", "get"),
    "listItemsByItemGroup": ("item_groups", "items"),
    "listPatients": ("patients", "list"),
    "createPatient": ("patients", "create"),
    "getPatient": ("patients", "get"),
    "editPatient": ("patients", "update"),
    "listPatientAccounts": ("patients", "accounts"),
    "listInvoicesByPatient": ("patients", "invoices"),
    "listPatientAttachmentsByPatient": ("patients", "attachments"),
    "listPatientAttachmentFoldersByPatient": ("patients", "attachment_folders"),
    "listPatientContactsByPatient": ("patients", "contacts"),
    "getPatientAccount": ("patient_accounts", "get"),
    "listInvoicesByPatientAccount": ("patient_accounts", "invoices"),
    "listPaymentsByPatientAccount": ("patient_accounts", "payments"),
    "getInvoice": ("invoices", "get"),
    "getPayment": ("payments", "get"),
    "requestPatientAttachmentUpload": ("patient_attachments", "request_upload"),
    "getPatientAttachment": ("patient_attachments", "get"),
    "downloadPatientAttachment": ("patient_attachments", "download"),
    "getPatientAttachmentPresignUrl": ("patient_attachments", "presign_url"),
    "getPatientAttachmentFolder": ("patient_attachment_folders", "get"),
    "listPatientAttachmentsByFolder": ("patient_attachment_folders", "attachments"),
    "listPatientContacts": ("patient_contacts", "list"),
    "getPatientContact": ("patient_contacts", "get"),
    "listPractitioners": ("practitioners", "list"),
    "getPractitioner": ("practitioners", "get"),
    "listProfessionsByPractitioner": ("practitioners", "professions"),
    "listPractitionersByProfession": ("professions", "practitioners"),
    "listProfessions": ("professions", "list"),
    "getProfession": ("professions", "get"),
    "listPronouns": ("pronouns", "list"),
    "listSexes": ("sexes", "list"),
    "listResources": ("resources", "list"),
    "getResource": ("resources", "get"),
    "listTagCategories": ("tag_categories", "list"),
}

#: Namespace order on the client (and in the generated module), with the tag whose
#: description becomes the class docstring.
NAMESPACES: dict[str, str] = {
    "appointment_book": "Appointment Book",
    "appointments": "Appointment",
    "notes": "Note",
    "rule_outs": "Rule Out",
    "group_appointments": "Group Appointment",
    "cancelled_appointments": "Cancelled Appointment",
    "cancellation_reasons": "Cancellation Reason",
    "reschedule_reasons": "Reschedule Reason",
    "appointment_types": "Appointment Type",
    "appointment_statuses": "Appointment Status",
    "available_appointments": "Available Appointment",
    "available_group_appointments": "Available Group Appointment",
    "businesses": "Business",
    "fee_categories": "Fee Category",
    "items": "Item",
    "item_groups": "Item Group",
    "patients": "Patient",
    "patient_accounts": "Patient Account",
    "invoices": "Invoice",
    "payments": "Payment",
    "patient_attachments": "Patient Attachment",
    "patient_attachment_folders": "Patient Attachment",
    "patient_contacts": "Patient Contact",
    "practitioners": "Practitioner",
    "professions": "Profession",
    "pronouns": "Pronoun",
    "sexes": "Sex",
    "resources": "Resource",
    "tag_categories": "Tag Category",
}

#: Hand-written helper methods, added as extra bases: namespace -> "module:ClassName".
MIXINS: dict[str, str] = {
    "appointments": "pracsuite_async.resources._helpers:AppointmentBooking",
    "available_appointments": "pracsuite_async.resources._helpers:AvailabilitySearch",
    "patient_attachments": "pracsuite_async.resources._helpers:AttachmentTransfer",
}

#: Names of inline (unnamed) object schemas: (model, property) -> class name.
#: ``links`` objects default to ``<Model>Links``.
INLINE_NAMES: dict[tuple[str, str], str] = {
    ("Practitioner", "businesses"): "PractitionerBusiness",
    ("Practitioner", "professions"): "PractitionerProfession",
    ("ItemWithFees", "item_fees"): "ItemFee",
    ("AppointmentTypeWithDurations", "appointment_type_durations"): "AppointmentTypeDuration",
    ("AppointmentTypeWithDurations", "practitioner_appointment_type_durations"): (
        "PractitionerAppointmentTypeDuration"
    ),
}

#: One-line class docstrings where the spec's title, description and tag say too little.
MODEL_DOCS: dict[str, str] = {
    "Appointment": "A patient appointment in the appointment book.",
    "GroupAppointmentMember": "A patient booked into a group appointment.",
    "ItemWithFees": "An item with its fee in each fee category.",
    "AppointmentTypeWithDurations": "An appointment type with its default durations and widths.",
    "PatientAttachment": "Metadata of a file attached to a patient.",
    "AvailableGroupAppointment": "An existing group appointment with spare places.",
    "PresignedDownload": "A time-limited URL to download an attachment.",
}

#: The id attribute of list elements where it is not ``<snake_case model>_id``; ``None``: no id.
ID_FIELDS: dict[str, str | None] = {
    "AppointmentBookEntry": "appointment_id",
    "Note": "appointment_id",
    "RuleOut": "appointment_id",
    "GroupAppointment": "appointment_id",
    "GroupAppointmentMember": "appointment_client_id",
    "CancelledAppointment": "appointment_id",
    "CancellationReason": "appointment_cancellation_reason_id",
    "RescheduleReason": "appointment_reschedule_reason_id",
    "AvailableAppointment": None,
    "AvailableGroupAppointment": "appointment_id",
    "FeeCategory": "fee_cat_id",
    "Patient": "client_id",
    "PatientAccount": None,
    "PatientAttachment": "attachment_client_id",
    "PatientAttachmentFolder": "attachment_client_folder_id",
    "ItemWithFees": "item_id",
    "AppointmentTypeWithDurations": "appointment_type_id",
    "AppointmentLite": "appointment_id",
    "PresignedPost": None,
    "PresignedDownload": None,
}

#: Patient data: fields left out of ``repr`` (and marked ``metadata={"phi": True}``).
#: ``"*"`` applies to every model except those in ``PHI_EXEMPT``.
PHI: dict[str, frozenset[str]] = {
    "*": frozenset(
        {
            "title", "first_name", "middle_name", "surname", "preferred_name", "date_of_birth",
            "email", "gender", "sex", "pronouns", "address_1", "address_2", "address_3", "address_4",
            "suburb", "address_state", "postcode", "country", "home_phone", "work_phone", "mobile",
            "phone", "fax", "file_no", "patient_notes", "patient_warnings", "medical_warnings",
            "reminders_notifications", "family_notes", "notes", "health_fund", "health_fund_member_no",
            "health_fund_card_issue_no", "health_fund_patient_id", "pension_no", "pension_expiry",
            "worksafe_claim_no", "occupation", "medicare_no", "medicare_irn", "medicare_expiry",
            "medicare_claimants", "dva_no", "dva_type", "ndis_number", "referrer", "referrer_email",
            "referrer_organisation", "referrer_source", "referral_date", "gp_name", "deceased",
            "covid_vaccination_status", "covid_vaccination_date", "relationship", "time_zone",
            "timezone", "telehealth_patient_link", "telehealth_practitioner_link", "billing_name",
            "contact_name", "acc_no", "claim_number", "employer_name", "injury", "date_of_injury",
            "hospital", "client_no", "custom_field_value", "file_name", "reason", "invoice_notes",
            "practice_notes",
        }
    ),
    "Appointment": frozenset({"description"}),
    "AppointmentBookEntry": frozenset({"description"}),
    "GroupAppointment": frozenset({"description"}),
    "CancelledAppointment": frozenset({"description"}),
    "Note": frozenset({"description"}),
    "NoteCreate": frozenset({"description"}),
    "PatientAttachment": frozenset({"description", "file_type"}),
    "PatientAttachmentFolder": frozenset({"description"}),
    "PresignedPost": frozenset({"fields"}),
    "PresignedDownload": frozenset({"url"}),
}
#: Models about the clinic itself, whose contact fields are not patient data.
PHI_EXEMPT: frozenset[str] = frozenset({"Business"})

_ITEM_XOR = '_v.exclusive("item_id", "item_group_id")'
_WINDOW = '_v.date_span("from_", "to", 7)'
_CLIENT_WITH_ACCOUNT = '_v.required_with("client_id", "account_id")'

#: Hand-written request rules the spec cannot express, in one place (the appointment-write
#: revisions come from the schemas' ``oneOf`` + ``x-pracsuite-revisions``):
#: (request model or "*", field) -> extra field validators; (request model, None) -> model rules.
#: Generic rules come from the spec (types, maxLength, enum, min/max/multipleOf, patterns,
#: valid time zones) and from names (``*_id`` and ``*_ids`` items are ids >= 1).
RULES: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("*", "column_number"): ("_v.at_least(1)",),
    ("*", "column"): ("_v.at_least(1)",),
    ("*", "width"): ("_v.at_least(1)",),
    ("AppointmentCreate", None): (_ITEM_XOR,),
    ("AppointmentFinalise", None): (_ITEM_XOR,),
    ("AppointmentEdit", None): (_ITEM_XOR,),
    ("GroupAppointmentMemberAdd", None): (_ITEM_XOR,),
    ("ListAvailableAppointmentsQuery", None): (_WINDOW, _CLIENT_WITH_ACCOUNT),
    ("GetNextAvailableAppointmentQuery", None): (_WINDOW, _CLIENT_WITH_ACCOUNT),
    ("ListAvailableGroupAppointmentsQuery", None): (_WINDOW,),
    ("GetNextAvailableGroupAppointmentQuery", None): (_WINDOW,),
}

#: Request fields that may be sent as ``null`` (the spec says "null/absent").
NULLABLE_REQUEST_FIELDS: frozenset[str] = frozenset({"item_id", "item_group_id"})

#: How a ``pattern`` is described in errors, by component schema name.
PATTERN_LABELS: dict[str, str] = {"HexColour": "a colour written #RRGGBB"}
