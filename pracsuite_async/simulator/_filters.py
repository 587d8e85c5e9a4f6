"""Filter tables (one per operation family, mirroring the spec's ``x-pracsuite-filters``) and sortable fields.

A filter whose name is not a record field reads a private key: ``updated`` ->
``modified`` on diary entries, ``archived`` -> ``_archived_at``, ``phone`` ->
``_phones`` (any of the numbers)...
"""

from __future__ import annotations

from collections.abc import Mapping

from pracsuite_async.simulator._query import FilterDef


def _ts(key: str = "") -> FilterDef:
    return FilterDef("timestamp", key)


def _int(key: str = "", choices: tuple[int, ...] = ()) -> FilterDef:
    return FilterDef("integer", key, ("=",) if choices else (), choices)


def _str(key: str = "") -> FilterDef:
    return FilterDef("string", key)


def without(filters: Mapping[str, FilterDef], *names: str) -> dict[str, FilterDef]:
    return {k: v for k, v in filters.items() if k not in names}


APPT = {
    "created": _ts(),
    "updated": _ts("modified"),
    "app_time": FilterDef("datetime"),
    "profession_id": _int(),
    "business_id": _int(),
    "client_id": _int(),
    "appointment_type_id": _int(),
    "practitioner_id": _int(),
}
BOOK = {
    "created": _ts(),
    "updated": _ts("modified"),
    "app_time": FilterDef("datetime"),
    "appointment_id": _int(),
    **without(APPT, "created", "updated", "app_time"),
}
BLOCK = {
    "created": _ts(),
    "updated": _ts("modified"),
    "app_time": FilterDef("datetime"),
    "appointment_id": _int(),
    "business_id": _int(),
    "practitioner_id": _int(),
}
CANCELLED = {
    "created": _ts("_created"),
    "updated": _ts("_updated"),
    "cancellation_time": _ts(),
    "app_time": FilterDef("datetime"),
    "profession_id": _int(),
    "business_id": _int(),
    "client_id": _int(),
    "appointment_type_id": _int("_appointment_type_id"),
    "practitioner_id": _int(),
}
META = {"created": _ts("_created"), "archived": _ts("_archived_at"), "updated": _ts("_updated")}
PRACT = {
    "created": _ts(),
    "archived": _ts("_archived_at"),
    "updated": _ts("_updated"),
    "profession_id": _int("_profession_ids"),
    "business_id": _int("_business_ids"),
}
ITEM = {"item_code": _str(), "description": _str()}
PATIENT = {
    "first_name": _str(),
    "surname": _str(),
    "file_created": _ts(),
    "date_of_birth": FilterDef("date"),
    "preferred_name": _str(),
    "email": _str(),
    "archived": _ts("_archived_at"),
    "updated": _ts("_updated"),
    "home_phone": _str(),
    "work_phone": _str(),
    "mobile": _str(),
    "phone": _str("_phones"),
    "status": _int("_status", (1, 2, 3, 4, 5, 6)),
    "email_marketing_type": _int("_email_marketing_type", (1, 2, 3, 4)),
    "sms_marketing_type": _int("_sms_marketing_type", (1, 2, 3, 4)),
}
ACCOUNT = {
    "created": _ts("_created"),
    "updated": _ts("_updated"),
    "email": _str(),
    "phone": _str(),
    "short_description": _str(),
}
INVOICE = {
    "payer_id": _int(),
    "owing": FilterDef("double", "_owing"),
    "appointment_id": _int("_appointment_ids"),
    "payment_id": _int("_payment_ids"),
    "created": _ts(),
    "updated": _ts(),
    "invoice_date": FilterDef("date"),
    "invoice_number": _int(),
}
PAYMENT = {
    "total": FilterDef("double"),
    "unallocated": FilterDef("double", "_unallocated"),
    "invoice_item_id": _int("_invoice_item_ids"),
    "created": _ts(),
    "updated": _ts(),
    "payment_date": FilterDef("date", "_payment_date"),
}
CONTACT = {
    "client_id": _int(),
    "first_name": _str(),
    "surname": _str(),
    "email": _str(),
    "home_phone": _str(),
    "work_phone": _str(),
    "mobile": _str(),
    "fax": _str(),
    "phone": _str("_phones"),
    "archive": FilterDef("boolean"),
}

ITEM_GROUP = {"description": _str(), "archived": FilterDef("boolean")}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Public scalar fields per table: the spec schema's scalar properties plus the extra ones the
#: simulator sends (column_number/width on every diary entry, created/modified on rule outs).
FIELDS: dict[str, tuple[str, ...]] = {
    "diary": _words(
        "tenant_id appointment_id client_id app_time description appointment_type_id "
        "appointment_status_id category duration notes practitioner_id business_id profession_id "
        "item_id account_id created modified item_group_id telehealth_patient_link "
        "telehealth_practitioner_link column_number width font_colour bg_colour"
    ),
    "patients": _words(
        "client_id tenant_id title first_name middle_name surname preferred_name date_of_birth email "
        "gender address_1 address_2 address_3 address_4 suburb address_state postcode country "
        "home_phone work_phone mobile fax file_no patient_notes patient_warnings fee_category "
        "health_fund health_fund_member_no health_fund_card_issue_no health_fund_patient_id "
        "pension_no pension_expiry worksafe_claim_no archive occupation default_account_id "
        "medicare_no medicare_irn medicare_expiry medicare_claimant medicare_claimants dva_no "
        "dva_type file_created default_business default_practitioner referrer referrer_email "
        "referrer_organisation referrer_source referral_date medical_warnings reminders_notifications "
        "gp_name deceased family_notes covid_vaccination_status covid_vaccination_date ndis_number "
        "email_marketing sms_marketing sex pronouns default_phone_reminder default_sms_reminder "
        "default_email_reminder default_sms_confirmation default_email_confirmation "
        "default_sms_follow_up default_email_follow_up accepted_privacy_policy time_zone"
    ),
    "accounts": _words(
        "tenant_id client_id archive bill_3rd_party short_description billing_name email contact_name "
        "acc_no claim_number employer_name injury date_of_injury hospital fee_cat_id client_no "
        "address_1 address_2 address_3 address_4 suburb address_state postcode country phone fax "
        "notes payer_id payer_contact_id custom_field_name custom_field_value bill_family"
    ),
    "practitioners": _words(
        "tenant_id practitioner_id title first_name surname short_description professional_title "
        "qualifications archive email about_me telehealth_patient_link telehealth_practitioner_link "
        "created"
    ),
    "businesses": _words(
        "tenant_id business_id business_name display_name address_1 address_2 address_3 address_4 "
        "suburb address_state postcode country archive phone fax email website appointment_start_time "
        "appointment_end_time registration_number registration_type short_description "
        "ndis_registration_number"
    ),
    "professions": _words("tenant_id profession_id description default_title archived"),
    "pronouns": _words(
        "tenant_id pronoun_id description nominative objective possessive possessive_determiner reflexive"
    ),
    "sexes": _words("tenant_id sex_id description"),
    "fee_categories": _words("tenant_id fee_cat_id description active"),
    "cancellation_reasons": _words("tenant_id appointment_cancellation_reason_id reason"),
    "reschedule_reasons": _words("tenant_id appointment_reschedule_reason_id reason"),
    "appointment_statuses": _words("tenant_id appointment_status_id status_description archived"),
    "resources": _words("tenant_id resource_id description resource_rank archived"),
    "items": _words("tenant_id item_id item_code description gst archived print_code"),
    "item_groups": _words("tenant_id item_group_id description archived"),
    "appointment_types": _words(
        "tenant_id appointment_type_id description short_description archived group_appointment "
        "group_max_size telehealth"
    ),
    "group_members": _words(
        "tenant_id appointment_client_id client_id appointment_id appointment_status_id notes item_id "
        "created modified item_group_id"
    ),
    "cancelled": _words(
        "tenant_id appointment_id client_id app_time description appointment_type appointment_status "
        "category duration notes practitioner_id business_id profession_id item_code account_id "
        "cancellation_time cancelled_by cancellation reason appointment_cancellation_reason_id"
    ),
    "payments": _words(
        "tenant_id payment_id client_id account_id payment_time payment_type total allocated "
        "business_id user_id card_type notes payer_id created updated created_by_user_id "
        "updated_by_user_id"
    ),
    "invoices": _words(
        "tenant_id invoice_id client_id account_id invoice_date issued due_date invoice_number "
        "invoice_notes practice_notes business_id payer_id created updated created_by_user_id "
        "updated_by_user_id"
    ),
    "attachments": _words(
        "tenant_id attachment_client_id client_id user_id file_date description file_type file_size"
    ),
    "attachment_folders": _words("tenant_id attachment_client_folder_id client_id description"),
    "contacts": _words(
        "tenant_id patient_contact_id client_id relationship title first_name surname address_1 "
        "address_2 address_3 address_4 suburb address_state postcode country home_phone work_phone "
        "mobile email notes fax linked_client_id linked_referrer_id linked_payer_id account_id "
        "preferred_phone archive"
    ),
    "tag_categories": _words("tag_category_id tenant_id description"),
}
