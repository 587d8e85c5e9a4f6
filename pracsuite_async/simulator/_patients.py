"""Patient writes: createPatient and editPatient, with the documented validation.

Write names differ from read names (README "Patient"): ``timezone`` -> ``time_zone``,
``*_marketing_type`` (1..4) -> ``*_marketing`` strings, ``sex_id``/``pronoun_id`` ->
descriptions, ``fee_cat_id``/``default_*_id`` -> names.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pracsuite_async.simulator._data import Record
from pracsuite_async.simulator._handlers import render_one
from pracsuite_async.simulator._rules import parse_date
from pracsuite_async.simulator._state import SimState, state
from pracsuite_async.simulator._timezones import VALID_TIMEZONES
from pracsuite_async.simulator._validate import Checker, find, path_int, read_body
from pracsuite_async.simulator._views import LINKS

MARKETING = ("Soft Opt-In", "Opt-In", "Soft Opt-Out", "Opt-Out")
_TEXT_LIMITS = {
    "first_name": 40,
    "surname": 40,
    "address_1": 100,
    "suburb": 100,
    "address_state": 100,
    "postcode": 10,
    "country": 100,
    "gender": 20,
    "home_phone": 20,
    "mobile": 20,
}
_DEFAULT_FLAGS = (
    "default_sms_reminder",
    "default_email_reminder",
    "default_sms_confirmation",
    "default_email_confirmation",
    "default_sms_follow_up",
    "default_email_follow_up",
)


def _read(chk: Checker, st: SimState, *, create: bool) -> dict[str, Any]:
    """Validate a PatientCreate/PatientEdit body into read-side field values."""
    tables = st.dataset.tables
    out: dict[str, Any] = {}
    for field, limit in _TEXT_LIMITS.items():
        value = chk.string(field, required=create and field in ("first_name", "surname"), max_length=limit)
        if value is not None:
            if field in ("first_name", "surname") and not value.strip():
                chk.add(field, f"The {field} field must not be blank.")
            out[field] = value
    email = chk.email("email", max_length=100)
    if email is not None:
        out["email"] = email
    dob = chk.date("date_of_birth")
    if dob is not None:
        when = parse_date(dob)
        if when is not None and when > st.config.today:
            chk.add("date_of_birth", "The date_of_birth must not be in the future.")
        out["date_of_birth"] = dob
    phone = chk.integer("preferred_phone", choices=(1, 3))
    if phone is not None:
        out["_preferred_phone"] = phone
    fee = chk.ref("fee_cat_id", tables["fee_categories"])
    if fee is not None:
        out["fee_category"], out["_fee_cat_id"] = fee["description"], fee["fee_cat_id"]
    business = chk.ref("default_business_id", tables["businesses"])
    if business is not None:
        out["default_business"] = business["business_name"]
    prac = chk.ref("default_practitioner_id", tables["practitioners"])
    if prac is not None:
        out["default_practitioner"], out["_default_practitioner_id"] = (
            prac["short_description"],
            prac["practitioner_id"],
        )
    for flag in _DEFAULT_FLAGS:
        setting = chk.boolean(flag)
        if setting is not None:
            out[flag] = setting
    for channel in ("sms", "email"):
        kind = chk.integer(f"{channel}_marketing_type", choices=(1, 2, 3, 4))
        if kind is not None:
            out[f"{channel}_marketing"], out[f"_{channel}_marketing_type"] = MARKETING[kind - 1], kind
    zone = chk.string("timezone")
    if zone is not None and zone not in VALID_TIMEZONES:
        chk.add("timezone", "The timezone must be one of the time zones listed in the Timezones guide.")
    elif zone is not None or ("timezone" in chk.body and not create):
        out["time_zone"] = zone
    sex = chk.ref("sex_id", tables["sexes"])
    if sex is not None:
        out["sex"], out["_sex_id"] = sex["description"], sex["sex_id"]
    pronoun = chk.ref("pronoun_id", tables["pronouns"])
    if pronoun is not None:
        out["pronouns"], out["_pronoun_id"] = pronoun["description"], pronoun["pronoun_id"]
    return out


def _blank(st: SimState, cid: int, account_id: int) -> Record:
    """A new patient with every read field at its empty default, in the generated field order."""
    prac = next(p for p in st.dataset.tables["practitioners"].values() if not p["archive"])
    business = st.dataset.tables["businesses"][prac["_business_ids"][0]]
    now = st.now()
    text = dict.fromkeys(["title", "first_name", "middle_name", "surname", "preferred_name"], "")
    rec: Record = {"tenant_id": st.dataset.tenant_id, "client_id": cid, **text}
    rec |= dict.fromkeys(
        [
            "gender",
            "address_1",
            "address_2",
            "address_3",
            "address_4",
            "suburb",
            "address_state",
            "postcode",
            "country",
            "home_phone",
            "work_phone",
            "mobile",
            "fax",
        ],
        "",
    )
    rec |= {
        "file_no": str(cid),
        "patient_notes": "",
        "patient_warnings": "",
        "fee_category": "Standard",
        "health_fund": "",
        "health_fund_member_no": "",
        "health_fund_card_issue_no": "",
        "health_fund_patient_id": 0,
        "pension_no": "",
        "worksafe_claim_no": "",
        "archive": False,
        "occupation": "",
        "default_account_id": account_id,
        "medicare_no": "",
        "medicare_irn": "",
        "medicare_claimant": False,
        "medicare_claimants": "[]",
        "dva_no": "",
        "dva_type": "",
        "file_created": now,
        "default_business": business["business_name"],
        "default_practitioner": prac["short_description"],
        "referrer": "",
        "referrer_organisation": "",
        "referrer_source": "",
        "medical_warnings": "",
        "reminders_notifications": "",
        "gp_name": "",
        "deceased": False,
        "family_notes": "",
        "covid_vaccination_status": "",
        "ndis_number": "",
        "email_marketing": "Soft Opt-In",
        "sms_marketing": "Soft Opt-In",
        "sex": "Not stated",
        "pronouns": "They/Them",
        "default_phone_reminder": False,
        **dict.fromkeys(_DEFAULT_FLAGS, False),
        "accepted_privacy_policy": None,
        "time_zone": None,
        "_updated": now,
        "_archived_at": None,
        "_phones": (),
        "_email_marketing_type": 1,
        "_sms_marketing_type": 1,
        "_status": (1, 3, 5),
        "_fee_cat_id": 1,
        "_sex_id": 4,
        "_pronoun_id": 3,
        "_default_practitioner_id": prac["practitioner_id"],
        "_preferred_phone": 3,
    }
    return rec


def _derived(rec: Record, changes: dict[str, Any]) -> dict[str, Any]:
    merged = rec | changes
    phones = tuple(p for p in (merged.get("home_phone"), merged.get("work_phone"), merged.get("mobile")) if p)
    return changes | {"_phones": phones}


async def create_patient(request: web.Request) -> web.StreamResponse:
    """POST /patient (createPatient); also opens the patient's default ("Private") account."""
    st = state(request)
    chk = Checker(await read_body(request))
    values = _read(chk, st, create=True)
    chk.check()
    cid = st.dataset.new_id("patients")
    account_id = st.dataset.new_id("accounts")
    rec = _blank(st, cid, account_id)
    rec.update(_derived(rec, values))
    st.store.table("patients").add(cid, rec)
    fee_cat = rec["_fee_cat_id"]
    st.store.table("accounts").add(
        account_id,
        {
            "tenant_id": st.dataset.tenant_id,
            "client_id": cid,
            "archive": False,
            "bill_3rd_party": False,
            "short_description": "Private",
            "billing_name": f"{rec['first_name']} {rec['surname']}",
            "contact_name": "",
            "acc_no": f"A{account_id:06d}",
            "claim_number": "",
            "fee_cat_id": fee_cat,
            "client_no": str(cid),
            "phone": rec["mobile"] or rec["home_phone"],
            "notes": "",
            "bill_family": False,
            "_created": rec["file_created"],
            "_updated": rec["file_created"],
        }
        | ({"email": rec["email"]} if "email" in rec else {}),
    )
    return render_one(request, st, st.store.table("patients"), cid, LINKS["patient"], status=201)


async def edit_patient(request: web.Request) -> web.StreamResponse:
    """PATCH /patient/{client_id} (editPatient): partial update."""
    st = state(request)
    cid = path_int(request.match_info, "client_id")
    table = st.store.table("patients")
    rec = find(table.rows, cid, "patient")
    chk = Checker(await read_body(request))
    values = _read(chk, st, create=False)
    chk.check()
    table.update(cid, _derived(rec, values) | {"_updated": st.now()})
    return render_one(request, st, table, cid, LINKS["patient"])
