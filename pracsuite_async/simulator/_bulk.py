"""Bulk generation of people: patients with accounts, contacts, attachment folders and attachments.

Hot path of :func:`generate_dataset` (10k patients for 100k appointments), so choices
come from slices of one ``getrandbits`` call and strings from precomputed tables.
"""

from __future__ import annotations

import random
from datetime import date

from pracsuite_async.simulator._data import TENANT_ID, Record, day_string, epoch_of_ordinal, fmt_timestamp
from pracsuite_async.simulator._reference import FIRST_NAMES, SURNAMES

Tables = dict[str, dict[int, Record]]

_MARKETING = ("Soft Opt-In", "Opt-In", "Soft Opt-Out", "Opt-Out")
_TIMEZONES = ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Pacific/Auckland", None)
_FUNDS = ("Medibank", "Bupa", "HCF", "NIB", "", "")
_SUBURBS = (("Bondi", "2026"), ("Newtown", "2042"), ("Manly", "2095"), ("Ryde", "2112"), ("Penrith", "2750"))
_STREETS = ("George St", "King St", "Oxford St", "Victoria Rd", "Military Rd", "Beach Rd")
_RELATIONSHIPS = ("Mother", "Father", "Partner", "Guardian", "Next of kin")


def _stamp(seconds: int, micros: int) -> str:
    return fmt_timestamp(seconds, micros)


def build_people(tables: Tables, rng: random.Random, records: int, today: date) -> None:
    """Patients with accounts, contacts, attachment folders and attachments."""
    first, surnames = FIRST_NAMES, SURNAMES
    base = today.toordinal()
    npat = max(20, records // 10)
    fees = tables["fee_categories"]
    practitioners = [p for p in tables["practitioners"].values() if not p["archive"]]
    businesses = tables["businesses"]
    patients, accounts, contacts = tables["patients"], tables["accounts"], tables["contacts"]
    folders, attachments = tables["attachment_folders"], tables["attachments"]
    dob_lo, dob_span = date(1940, 1, 1).toordinal(), 80 * 365
    for cid in range(1, npat + 1):
        bits = rng.getrandbits(128)
        fn, sn = first[bits % len(first)], surnames[(bits >> 8) % len(surnames)]
        fee_cat = 1 + (bits >> 16) % 4
        prac = practitioners[(bits >> 20) % len(practitioners)]
        suburb, postcode = _SUBURBS[(bits >> 28) % len(_SUBURBS)]
        dob = dob_lo + (bits >> 32) % dob_span
        deceased = (bits >> 48) % 100 == 0
        archived = deceased or (bits >> 56) % 20 == 0
        email_m, sms_m = 1 + (bits >> 60) % 4, 1 + (bits >> 64) % 4
        sex_id, pronoun_id = 1 + (bits >> 68) % 4, 1 + (bits >> 72) % 4
        fund = _FUNDS[(bits >> 76) % len(_FUNDS)]
        created = epoch_of_ordinal(base - 30 - (bits >> 80) % 1500) + (bits >> 92) % 86_400
        updated = created + (bits >> 110) % (20 * 86_400)
        mobile = f"04{(bits >> 20) % 100:02d} {(bits >> 40) % 1000:03d} {cid % 1000:03d}"
        home = f"02 9{(bits >> 30) % 1000:03d} {cid % 10000:04d}" if bits & 1 else ""
        email = f"{fn}.{sn}{cid}@example.com".lower().replace("'", "")
        account_id = len(accounts) + 1
        rec: Record = {
            "tenant_id": TENANT_ID,
            "client_id": cid,
            "title": ("Mr", "Ms", "Mrs", "Dr", "")[(bits >> 2) % 5],
            "first_name": fn,
            "middle_name": first[(bits >> 12) % len(first)] if bits & 2 else "",
            "surname": sn,
            "preferred_name": fn[:3] if (bits >> 3) % 9 == 0 else "",
            "date_of_birth": day_string(dob),
            "email": email,
            "gender": ("Male", "Female", "Non-binary", "")[(bits >> 4) % 4],
            "address_1": f"{1 + cid % 200} {_STREETS[cid % len(_STREETS)]}",
            "address_2": "",
            "address_3": "",
            "address_4": "",
            "suburb": suburb,
            "address_state": "NSW",
            "postcode": postcode,
            "country": "Australia",
            "home_phone": home,
            "work_phone": "",
            "mobile": mobile,
            "fax": "",
            "file_no": str(cid),
            "patient_notes": "",
            "patient_warnings": "Falls risk" if cid % 50 == 0 else "",
            "fee_category": fees[fee_cat]["description"],
            "health_fund": fund,
            "health_fund_member_no": f"{cid * 7919 % 10**8:08d}" if fund else "",
            "health_fund_card_issue_no": "1" if fund else "",
            "health_fund_patient_id": 1 if fund else 0,
            "pension_no": "",
            "worksafe_claim_no": "",
            "archive": archived,
            "occupation": ("Teacher", "Nurse", "Retired", "Student", "Engineer", "")[cid % 6],
            "default_account_id": account_id,
            "medicare_no": f"2{cid * 104729 % 10**9:09d}",
            "medicare_irn": str(1 + cid % 5),
            "medicare_expiry": day_string(base + 200 + cid % 700),
            "medicare_claimant": False,
            "medicare_claimants": "[]",
            "dva_no": "",
            "dva_type": "",
            "file_created": _stamp(created, cid * 7 % 1_000_000),
            "default_business": businesses[prac["_business_ids"][0]]["business_name"],
            "default_practitioner": prac["short_description"],
            "referrer": "",
            "referrer_organisation": "",
            "referrer_source": ("GP", "Google", "Friend", "Walk-in")[cid % 4],
            "medical_warnings": "<p>Latex allergy</p>" if cid % 40 == 0 else "",
            "reminders_notifications": "",
            "gp_name": "Dr A. Gupta" if bits & 4 else "",
            "deceased": deceased,
            "family_notes": "",
            "covid_vaccination_status": "",
            "ndis_number": "",
            "email_marketing": _MARKETING[email_m - 1],
            "sms_marketing": _MARKETING[sms_m - 1],
            "sex": ("Male", "Female", "Intersex", "Not stated")[sex_id - 1],
            "pronouns": ("He/Him", "She/Her", "They/Them", "Ze/Hir")[pronoun_id - 1],
            "default_phone_reminder": False,
            "default_sms_reminder": True,
            "default_email_reminder": bool(bits & 8),
            "default_sms_confirmation": True,
            "default_email_confirmation": False,
            "default_sms_follow_up": False,
            "default_email_follow_up": bool(bits & 16),
            "accepted_privacy_policy": (None, True, True, False)[(bits >> 5) % 4],
            "time_zone": _TIMEZONES[(bits >> 6) % len(_TIMEZONES)],
            "_updated": _stamp(updated, cid % 1_000_000),
            "_archived_at": _stamp(updated, 0) if archived else None,
            "_phones": tuple(p for p in (home, mobile) if p),
            "_email_marketing_type": email_m,
            "_sms_marketing_type": sms_m,
            "_status": (2, 3, 6) if deceased else (2, 3, 4, 5) if archived else (1, 3, 5),
            "_fee_cat_id": fee_cat,
            "_sex_id": sex_id,
            "_pronoun_id": pronoun_id,
            "_default_practitioner_id": prac["practitioner_id"],
            "_preferred_phone": 3,
        }
        if cid % 7 == 0:
            rec["referrer"], rec["referrer_email"] = "Dr B. Okafor", "referrals@gp.example.com"
            rec["referral_date"] = day_string(base - cid % 300)
        patients[cid] = rec
        accounts[account_id] = _account(rec, account_id, fee_cat, created)
        if cid % 10 == 3:
            second = account_id + 1
            accounts[second] = _account(rec, second, 1, created, workers_comp=True)
        if cid % 3 == 0:
            _contact(contacts, rng, cid, account_id=account_id, pools=(first, surnames), npat=npat)
        if cid % 5 == 0:
            for desc in ("Referrals", "Imaging")[: 1 + (cid % 10 == 0)]:
                fid = len(folders) + 1
                folders[fid] = {
                    "tenant_id": TENANT_ID,
                    "attachment_client_folder_id": fid,
                    "client_id": cid,
                    "description": desc,
                }
        if cid % 2 == 0:
            aid = len(attachments) + 1
            folder = len(folders) if cid % 5 == 0 else None
            name = f"referral-letter-{cid}.pdf" if cid % 4 else f"scan-{cid}.png"
            attachments[aid] = {
                "tenant_id": TENANT_ID,
                "attachment_client_id": aid,
                "client_id": cid,
                "user_id": 1 + cid % 5,
                "file_date": day_string(base - cid % 400),
                "description": name,
                "file_type": "application/pdf" if cid % 4 else "image/png",
                "file_size": 512 + (cid * 37) % 20_000,
                "_folder_id": folder,
                "_file_name": name,
                "_content": None,
            }


def _account(
    patient: Record, account_id: int, fee_cat: int, created: int, *, workers_comp: bool = False
) -> Record:
    cid, fn, sn = patient["client_id"], patient["first_name"], patient["surname"]
    rec: Record = {
        "tenant_id": TENANT_ID,
        "client_id": cid,
        "archive": False,
        "bill_3rd_party": workers_comp,
        "short_description": "Workers Compensation" if workers_comp else "Private",
        "billing_name": f"{fn} {sn}",
        "email": patient["email"],
        "contact_name": "" if not workers_comp else "Claims Officer",
        "acc_no": f"A{account_id:06d}",
        "claim_number": f"WC{cid:06d}" if workers_comp else "",
        "employer_name": "Acme Pty Ltd" if workers_comp else "",
        "injury": "Lower back" if workers_comp else "",
        "hospital": "",
        "fee_cat_id": fee_cat,
        "client_no": str(cid),
        "address_1": "",
        "address_2": "",
        "address_3": "",
        "address_4": "",
        "suburb": patient["suburb"],
        "address_state": "NSW",
        "postcode": patient["postcode"],
        "country": "Australia",
        "phone": patient["mobile"],
        "fax": "",
        "notes": "",
        "custom_field_name": "Custom",
        "custom_field_value": "",
        "bill_family": False,
        "_created": _stamp(created, account_id % 1_000_000),
        "_updated": _stamp(created + 3_600, 0),
    }
    if workers_comp:
        rec["date_of_injury"] = day_string(date(2025, 6, 1).toordinal() + cid % 150)
        rec["payer_id"], rec["payer_contact_id"] = 1 + cid % 3, 1
    return rec


def _contact(
    contacts: dict[int, Record],
    rng: random.Random,
    cid: int,
    *,
    account_id: int,
    pools: tuple[tuple[str, ...], tuple[str, ...]],
    npat: int,
) -> None:
    first, surnames = pools
    pid = len(contacts) + 1
    bits = rng.getrandbits(32)
    rec: Record = {
        "tenant_id": TENANT_ID,
        "patient_contact_id": pid,
        "client_id": cid,
        "relationship": _RELATIONSHIPS[bits % len(_RELATIONSHIPS)],
        "title": "",
        "first_name": first[(bits >> 4) % len(first)],
        "surname": surnames[(bits >> 10) % len(surnames)],
        "address_1": "",
        "address_2": "",
        "address_3": "",
        "address_4": "",
        "suburb": "",
        "address_state": "NSW",
        "postcode": "",
        "country": "Australia",
        "home_phone": "",
        "work_phone": "",
        "mobile": f"0411 {bits % 1000:03d} {pid % 1000:03d}",
        "email": f"contact{pid}@example.com",
        "notes": "",
        "fax": "",
        "account_id": account_id,
        "preferred_phone": "mobile",
        "archive": bits % 11 == 0,
        "_phones": (f"0411 {bits % 1000:03d} {pid % 1000:03d}",),
    }
    if bits % 4 == 0:
        rec["linked_client_id"] = 1 + (cid * 31) % npat
    contacts[pid] = rec
