"""Declarations: every list and get operation as data (table, list key, filters, parents, links)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from pracsuite_async.simulator._data import Record
from pracsuite_async.simulator._filters import (
    ACCOUNT,
    APPT,
    BLOCK,
    BOOK,
    CANCELLED,
    CONTACT,
    FIELDS,
    INVOICE,
    ITEM,
    ITEM_GROUP,
    META,
    PATIENT,
    PAYMENT,
    PRACT,
    without,
)
from pracsuite_async.simulator._query import FilterDef

#: Renders a record's ``links`` object as JSON text: ``bind(base)(id, record)``. Binding the base
#: URL once per request leaves one ``str.join`` per record on the hot path.
BoundLinks = Callable[[int, Record], str]
LinkFn = Callable[[str], BoundLinks]


def _links(*parts: tuple[str, str]) -> LinkFn:
    """A link builder from ``(name, path template)`` pairs; ``{i}`` in a template is the record id."""

    def bind(base: str) -> BoundLinks:
        segments = ("{" + ",".join(f'"{name}":"{base}{tpl}"' for name, tpl in parts) + "}").split("{i}")

        def render(rid: int, _rec: Record) -> str:
            return str(rid).join(segments)

        return render

    return bind


def _account_links(base: str) -> BoundLinks:
    def render(rid: int, rec: Record) -> str:
        return f'{{"self":"{base}/patient/{rec["client_id"]}/account/{rid}"}}'

    return render


LINKS: dict[str, LinkFn] = {
    "appointment": _links(("self", "/appointment/{i}"), ("resources", "/appointment/{i}/resource")),
    "note": _links(("self", "/note/{i}"), ("resources", "/note/{i}/resource")),
    "group": _links(
        ("self", "/group_appointment/{i}"),
        ("resources", "/group_appointment/{i}/resource"),
        ("appointment_clients", "/group_appointment/{i}/appointment_client"),
    ),
    # There is no GET /rule_out/{id}; the rule-out "self" link is the filtered list.
    "rule_out": _links(("self", "/rule_out?q%5B%5D=appointment_id%3A%3D{i}")),
    "cancelled": _links(("self", "/cancelled_appointment/{i}")),
    "patient": _links(
        ("self", "/patient/{i}"),
        ("accounts", "/patient/{i}/account"),
        ("appointments", "/patient/{i}/appointment"),
        ("invoices", "/patient/{i}/invoice"),
        ("patient_attachments", "/patient/{i}/patient_attachment"),
        ("patient_contacts", "/patient/{i}/patient_contact"),
    ),
    "account": _account_links,
    "practitioner": _links(("self", "/practitioner/{i}"), ("appointments", "/practitioner/{i}/appointment")),
    "business": _links(("self", "/business/{i}"), ("appointments", "/business/{i}/appointment")),
    "profession": _links(
        ("self", "/profession/{i}"),
        ("appointment", "/profession/{i}/appointment"),
        ("appointment_type", "/profession/{i}/appointment_type"),
    ),
    "item": _links(("self", "/item/{i}")),
    "item_group": _links(("self", "/item_group/{i}"), ("items", "/item_group/{i}/item")),
    "appointment_type": _links(
        ("self", "/appointment_type/{i}"),
        ("appointments", "/appointment_type/{i}/appointment"),
        ("resources", "/appointment_type/{i}/resource"),
    ),
    "invoice": _links(("self", "/invoice/{i}")),
    "payment": _links(("self", "/payment/{i}")),
    "attachment": _links(
        ("self", "/patient_attachment/{i}"),
        ("content", "/patient_attachment/{i}/content"),
        ("presign_url", "/patient_attachment/{i}/presign_url"),
    ),
    "folder": _links(
        ("self", "/patient_attachment_folder/{i}"),
        ("patient_attachments", "/patient_attachment_folder/{i}/patient_attachment"),
    ),
    "contact": _links(("self", "/patient_contact/{i}")),
}


def book_links(base: str) -> BoundLinks:
    """Appointment-book entries link to their kind-specific resource."""
    bound = {kind: LINKS[kind](base) for kind in ("appointment", "note", "group", "rule_out")}

    def render(rid: int, rec: Record) -> str:
        return bound[rec["_kind"]](rid, rec)

    return render


@attrs.frozen
class Parent:
    """A path parameter naming a parent record that must exist (404 otherwise) and scopes the list."""

    param: str
    table: str
    label: str
    kind: str | None = None
    child_field: str | None = None
    ids_field: str | None = None
    owner: tuple[str, str] | None = None


@attrs.frozen
class ListView:
    """One list operation."""

    op: str
    table: str
    list_key: str
    filters: Mapping[str, FilterDef] = attrs.field(factory=dict)
    scope: tuple[tuple[str, object], ...] = ()
    parents: tuple[Parent, ...] = ()
    links: LinkFn | None = None

    def sortable(self) -> frozenset[str]:
        """Field names ``sort_by`` accepts: the table's scalar fields plus the filter names."""
        return frozenset(FIELDS[self.table]) | frozenset(self.filters)

    def sort_keys(self) -> dict[str, str]:
        """Record key per sortable name where they differ (filter aliases)."""
        return {name: spec.key for name, spec in self.filters.items() if spec.key}


@attrs.frozen
class GetView:
    """One get-by-id operation."""

    op: str
    table: str
    param: str
    label: str
    kind: str | None = None
    links: LinkFn | None = None
    detail: bool = False
    owner: tuple[str, str] | None = None


_P = Parent
_PATIENT_P = _P("client_id", "patients", "patient")
_ACCOUNT_P = _P(
    "account_id", "accounts", "account", owner=("client_id", "client_id"), child_field="account_id"
)
_APPTS = ("_kind", "appointment")


def _by(op: str, param: str, table: str, label: str, field: str, *drop: str) -> ListView:
    return ListView(
        op,
        "diary",
        "appointments",
        without(APPT, *drop),
        (_APPTS,),
        (_P(param, table, label, child_field=field),),
        LINKS["appointment"],
    )


LIST_VIEWS: tuple[ListView, ...] = (
    ListView("listAppointmentBook", "diary", "data", BOOK, links=book_links),
    ListView("listAppointments", "diary", "appointments", APPT, (_APPTS,), links=LINKS["appointment"]),
    _by(
        "listAppointmentsByAppointmentType",
        "appointment_type_id",
        "appointment_types",
        "appointment type",
        "appointment_type_id",
        "appointment_type_id",
    ),
    _by("listAppointmentsByBusiness", "business_id", "businesses", "business", "business_id", "business_id"),
    _by(
        "listAppointmentsByProfession",
        "profession_id",
        "professions",
        "profession",
        "profession_id",
        "profession_id",
    ),
    _by("listAppointmentsByPatient", "client_id", "patients", "patient", "client_id", "client_id"),
    _by(
        "listAppointmentsByPractitioner",
        "practitioner_id",
        "practitioners",
        "practitioner",
        "practitioner_id",
        "practitioner_id",
        "appointment_type_id",
    ),
    _by(
        "listAppointmentsByResource",
        "resource_id",
        "resources",
        "resource",
        "resource_ids",
        "appointment_type_id",
    ),
    ListView("listNotes", "diary", "notes", BLOCK, (("_kind", "note"),), links=LINKS["note"]),
    ListView(
        "listResourcesByNote",
        "resources",
        "resources",
        parents=(_P("appointment_id", "diary", "note", kind="note", ids_field="resource_ids"),),
    ),
    ListView("listRuleOuts", "diary", "rule_outs", BLOCK, (("_kind", "rule_out"),)),
    ListView(
        "listResourcesByGroupAppointment",
        "resources",
        "resources",
        parents=(_P("appointment_id", "diary", "group appointment", kind="group", ids_field="resource_ids"),),
    ),
    ListView(
        "listGroupAppointmentMembers",
        "group_members",
        "appointment_clients",
        parents=(
            _P("appointment_id", "diary", "group appointment", kind="group", child_field="appointment_id"),
        ),
    ),
    ListView(
        "listCancelledAppointments",
        "cancelled",
        "cancelled_appointments",
        CANCELLED,
        links=LINKS["cancelled"],
    ),
    ListView("listCancellationReasons", "cancellation_reasons", "appointment_cancellation_reasons"),
    ListView("listRescheduleReasons", "reschedule_reasons", "appointment_reschedule_reasons"),
    ListView(
        "listAppointmentTypes",
        "appointment_types",
        "appointment_types",
        META,
        links=LINKS["appointment_type"],
    ),
    ListView(
        "listAppointmentTypesByProfession",
        "appointment_types",
        "appointment_types",
        META,
        parents=(_P("profession_id", "professions", "profession", child_field="_profession_ids"),),
        links=LINKS["appointment_type"],
    ),
    ListView("listAppointmentStatuses", "appointment_statuses", "appointment_statuses"),
    ListView("listBusinesses", "businesses", "businesses", META, links=LINKS["business"]),
    ListView("listFeeCategories", "fee_categories", "fee_categories"),
    ListView("listItems", "items", "items", ITEM, links=LINKS["item"]),
    ListView(
        "listItemsByItemGroup",
        "items",
        "items",
        ITEM,
        parents=(_P("item_group_id", "item_groups", "item group", ids_field="item_ids"),),
        links=LINKS["item"],
    ),
    ListView(
        "listItemGroups",
        "item_groups",
        "item_groups",
        ITEM_GROUP,
        links=LINKS["item_group"],
    ),
    ListView("listPatients", "patients", "clients", PATIENT, links=LINKS["patient"]),
    ListView(
        "listPatientAccounts",
        "accounts",
        "accounts",
        ACCOUNT,
        parents=(_P("client_id", "patients", "patient", child_field="client_id"),),
        links=LINKS["account"],
    ),
    ListView(
        "listInvoicesByPatientAccount",
        "invoices",
        "invoices",
        INVOICE,
        parents=(_PATIENT_P, _ACCOUNT_P),
        links=LINKS["invoice"],
    ),
    ListView(
        "listInvoicesByPatient",
        "invoices",
        "invoices",
        parents=(_P("client_id", "patients", "patient", child_field="client_id"),),
        links=LINKS["invoice"],
    ),
    ListView(
        "listPaymentsByPatientAccount",
        "payments",
        "payments",
        PAYMENT,
        parents=(_PATIENT_P, _ACCOUNT_P),
        links=LINKS["payment"],
    ),
    ListView(
        "listPatientAttachmentsByPatient",
        "attachments",
        "patient_attachments",
        parents=(_P("client_id", "patients", "patient", child_field="client_id"),),
        links=LINKS["attachment"],
    ),
    ListView(
        "listPatientAttachmentFoldersByPatient",
        "attachment_folders",
        "attachment_client_folders",
        parents=(_P("client_id", "patients", "patient", child_field="client_id"),),
        links=LINKS["folder"],
    ),
    ListView(
        "listPatientAttachmentsByFolder",
        "attachments",
        "patient_attachments",
        parents=(
            _P(
                "attachment_client_folder_id",
                "attachment_folders",
                "patient attachment folder",
                child_field="_folder_id",
            ),
        ),
        links=LINKS["attachment"],
    ),
    ListView("listPatientContacts", "contacts", "patient_contacts", CONTACT, links=LINKS["contact"]),
    ListView(
        "listPatientContactsByPatient",
        "contacts",
        "patient_contacts",
        parents=(_P("client_id", "patients", "patient", child_field="client_id"),),
        links=LINKS["contact"],
    ),
    ListView("listPractitioners", "practitioners", "practitioners", PRACT, links=LINKS["practitioner"]),
    ListView(
        "listPractitionersByBusiness",
        "practitioners",
        "practitioners",
        without(PRACT, "business_id"),
        parents=(_P("business_id", "businesses", "business", child_field="_business_ids"),),
        links=LINKS["practitioner"],
    ),
    ListView(
        "listPractitionersByProfession",
        "practitioners",
        "practitioners",
        without(PRACT, "profession_id"),
        parents=(_P("profession_id", "professions", "profession", child_field="_profession_ids"),),
        links=LINKS["practitioner"],
    ),
    ListView("listProfessions", "professions", "professions", META, links=LINKS["profession"]),
    ListView(
        "listProfessionsByPractitioner",
        "professions",
        "professions",
        META,
        parents=(_P("practitioner_id", "practitioners", "practitioner", ids_field="_profession_ids"),),
        links=LINKS["profession"],
    ),
    ListView("listPronouns", "pronouns", "pronouns"),
    ListView("listSexes", "sexes", "sexes"),
    ListView("listResources", "resources", "resources"),
    ListView(
        "listResourcesByAppointment",
        "resources",
        "resources",
        parents=(_P("appointment_id", "diary", "appointment", kind="appointment", ids_field="resource_ids"),),
    ),
    ListView(
        "listResourcesByAppointmentType",
        "resources",
        "resources",
        parents=(
            _P("appointment_type_id", "appointment_types", "appointment type", ids_field="_resource_ids"),
        ),
    ),
    ListView("listTagCategories", "tag_categories", "tag_categories"),
)

GET_VIEWS: tuple[GetView, ...] = (
    GetView("getAppointment", "diary", "appointment_id", "appointment", "appointment", LINKS["appointment"]),
    GetView("getNote", "diary", "appointment_id", "note", "note", LINKS["note"]),
    GetView("getGroupAppointment", "diary", "appointment_id", "group appointment", "group", LINKS["group"]),
    GetView(
        "getCancelledAppointment",
        "cancelled",
        "appointment_id",
        "cancelled appointment",
        links=LINKS["cancelled"],
    ),
    GetView(
        "getAppointmentType",
        "appointment_types",
        "appointment_type_id",
        "appointment type",
        links=LINKS["appointment_type"],
        detail=True,
    ),
    GetView("getBusiness", "businesses", "business_id", "business", links=LINKS["business"]),
    GetView("getItem", "items", "item_id", "item", links=LINKS["item"], detail=True),
    GetView("getItemGroup", "item_groups", "item_group_id", "item group", links=LINKS["item_group"]),
    GetView("getPatient", "patients", "client_id", "patient", links=LINKS["patient"]),
    GetView(
        "getPatientAccount",
        "accounts",
        "account_id",
        "account",
        links=LINKS["account"],
        owner=("client_id", "client_id"),
    ),
    GetView("getInvoice", "invoices", "invoice_id", "invoice", links=LINKS["invoice"]),
    GetView("getPayment", "payments", "payment_id", "payment", links=LINKS["payment"]),
    GetView(
        "getPatientAttachment",
        "attachments",
        "patient_attachment_id",
        "patient attachment",
        links=LINKS["attachment"],
    ),
    GetView(
        "getPatientAttachmentFolder",
        "attachment_folders",
        "attachment_client_folder_id",
        "patient attachment folder",
        links=LINKS["folder"],
    ),
    GetView("getPatientContact", "contacts", "patient_contact_id", "patient contact", links=LINKS["contact"]),
    GetView(
        "getPractitioner", "practitioners", "practitioner_id", "practitioner", links=LINKS["practitioner"]
    ),
    GetView("getProfession", "professions", "profession_id", "profession", links=LINKS["profession"]),
    GetView("getResource", "resources", "resource_id", "resource"),
)
