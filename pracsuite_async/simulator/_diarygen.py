"""Bulk generation of the diary: appointments (invoiced, paid), classes, notes, rule outs, cancellations.

The appointment loop is the hot path of :func:`generate_dataset`: every choice
is a slice of one ``getrandbits`` call and every string comes from a table.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from pracsuite_async.simulator._data import TENANT_ID, Record, day_string, epoch_of_ordinal, fmt_timestamp
from pracsuite_async.simulator._rules import business_hours, practitioner_profession, type_duration

Tables = dict[str, dict[int, Record]]

_PAY_TYPES = (("EFTPOS", "Debit"), ("Credit Card", "Visa"), ("Cash", ""), ("Health Fund", ""))
_NOTE_TEXT = ("Call patient back", "Team meeting", "Equipment service", "Reports due", "Student observing")
_COLOURS = ("#FFD700", "#87CEEB", "#90EE90", "#FFB6C1")
_APPT_NOTES = ("", "", "", "", "", "Prefers afternoon", "Bring imaging", "Running late")
_CANCELLED_BY = ("Reception", "Online booking", "Practitioner")
_SLOTS = tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(0, 1440 + 15, 15))
_PAST_SPAN, _FUTURE_SPAN = 300, 65


class _Chair:
    """One practitioner at one business, with what they can book there."""

    __slots__ = ("business_id", "close", "columns", "open", "practitioner_id", "types")

    def __init__(self, prac: Record, link: Record, business: Record, types: list[tuple[Any, ...]]) -> None:
        self.practitioner_id: int = prac["practitioner_id"]
        self.business_id: int = link["business_id"]
        self.columns: int = link["app_book_columns"]
        self.open, self.close = business_hours(business)
        self.types = types


def _chairs(tables: Tables, *, group: bool) -> list[_Chair]:
    chairs = []
    for prac in tables["practitioners"].values():
        if prac["archive"]:
            continue
        kinds = []
        for t in tables["appointment_types"].values():
            if t["archived"] or t["group_appointment"] != group:
                continue
            prof = practitioner_profession(prac, t)
            if prof is None:
                continue
            for link in prac["businesses"]:
                dur, _ = type_duration(
                    t,
                    practitioner_id=prac["practitioner_id"],
                    business_id=link["business_id"],
                    profession_id=prof,
                )
                kinds.append((link["business_id"], t["appointment_type_id"], prof, dur, t))
        for link in prac["businesses"]:
            mine = [k[1:] for k in kinds if k[0] == link["business_id"]]
            if mine:
                chairs.append(_Chair(prac, link, tables["businesses"][link["business_id"]], mine))
    return chairs


def build_diary(tables: Tables, rng: random.Random, records: int, today: date) -> None:
    """Fill ``diary``, ``group_members``, ``cancelled``, ``invoices`` and ``payments``."""
    base = today.toordinal()
    workdays = [d for d in range(base - _PAST_SPAN, base + _FUTURE_SPAN) if date.fromordinal(d).weekday() < 5]
    soon = [d for d in workdays if base <= d < base + 14]
    next_id = _appointments(tables, rng, records, base, workdays)
    next_id = _groups(
        tables, rng, count=max(3, records // 100), base=base, workdays=workdays, soon=soon, next_id=next_id
    )
    next_id = _blocks(tables, rng, records=records, workdays=workdays, next_id=next_id)
    _cancelled(tables, rng, count=max(2, records // 20), base=base, workdays=workdays, next_id=next_id)


def _stamp_before(day: int, bits: int) -> tuple[str, str]:
    created = epoch_of_ordinal(day) - (1 + bits % 60) * 86_400 + (bits >> 6) % 86_400
    modified = created + (bits >> 23) % 200_000
    return fmt_timestamp(created, (bits >> 7) % 1_000_000), fmt_timestamp(modified, (bits >> 13) % 1_000_000)


def _appointments(tables: Tables, rng: random.Random, records: int, base: int, workdays: list[int]) -> int:
    diary, invoices, payments = tables["diary"], tables["invoices"], tables["payments"]
    patients, accounts, items = tables["patients"], tables["accounts"], tables["items"]
    chairs = _chairs(tables, group=False)
    npat, ndays, nchairs = len(patients), len(workdays), len(chairs)
    getrandbits = rng.getrandbits
    for aid in range(1, records + 1):
        bits = getrandbits(128)
        chair = chairs[bits % nchairs]
        type_id, prof, dur, t = chair.types[(bits >> 12) % len(chair.types)]
        day = workdays[(bits >> 18) % ndays]
        nslots = (chair.close - chair.open - dur) // 15 + 1
        start = chair.open + 15 * ((bits >> 30) % nslots)
        cid = 1 + (bits >> 38) % npat
        patient = patients[cid]
        account_id = patient["default_account_id"]
        past = day < base
        roll = (bits >> 60) % 100
        status = (4 if roll < 85 else 5 if roll < 92 else 3) if past else (1 if roll < 70 else 2)
        created, modified = _stamp_before(day, bits >> 66)
        dstr = day_string(day)
        rec: Record = {
            "tenant_id": TENANT_ID,
            "appointment_id": aid,
            "client_id": cid,
            "app_time": f"{dstr}T{_SLOTS[start // 15]}",
            "description": t["description"],
            "appointment_type_id": type_id,
            "appointment_status_id": status,
            "category": "Appointment",
            "duration": dur,
            "notes": _APPT_NOTES[(bits >> 100) % 8],
            "practitioner_id": chair.practitioner_id,
            "business_id": chair.business_id,
            "profession_id": prof,
        }
        item_id = t["_item_id"]
        if item_id is not None:
            rec["item_id"] = item_id
        rec["account_id"] = account_id
        rec["created"], rec["modified"] = created, modified
        if t["_item_group_id"] is not None:
            rec["item_group_id"] = t["_item_group_id"]
        if t["telehealth"]:
            rec["telehealth_patient_link"] = f"https://telehealth.example.com/a/{aid}"
            rec["telehealth_practitioner_link"] = f"https://telehealth.example.com/host/{aid}"
        rec["resource_ids"] = list(t["_resource_ids"])
        rec["column_number"] = 1 + (bits >> 104) % chair.columns if (bits >> 110) % 4 == 0 else 1
        rec["width"] = 1
        rec["_kind"] = "appointment"
        diary[aid] = rec
        if past and aid % 4 == 0 and item_id is not None:
            fee_cat = accounts[account_id]["fee_cat_id"]
            price = items[item_id]["_detail"]["item_fees"][min(fee_cat, 4) - 1]["charge"]
            _bill(
                invoices,
                payments,
                rec,
                item=items[item_id],
                price=price,
                fee_cat=fee_cat,
                bits=bits >> 112,
                day=day,
            )
    return records + 1


def _bill(
    invoices: dict[int, Record],
    payments: dict[int, Record],
    appt: Record,
    *,
    item: Record,
    price: float,
    fee_cat: int,
    bits: int,
    day: int,
) -> None:
    item_id, desc = item["item_id"], item["description"]
    iid = len(invoices) + 1
    paid = bits % 100 < 85
    pay_id = len(payments) + 1 if paid else None
    issued = fmt_timestamp(epoch_of_ordinal(day) + 30_000 + bits % 3_000, iid % 1_000_000)
    alloc_time = fmt_timestamp(epoch_of_ordinal(day) + 40_000 + bits % 5_000, (iid * 7) % 1_000_000)
    end = (
        appt["app_time"][:11]
        + _SLOTS[(int(appt["app_time"][11:13]) * 60 + int(appt["app_time"][14:16]) + appt["duration"]) // 15]
    )
    owing = 0.0 if paid else price
    line: Record = {
        "invoice_item_id": iid,
        "item_time": appt["app_time"],
        "item_id": item_id,
        "description": desc,
        "debit": price,
        "paid": price - owing,
        "discount": 0.0,
        "write_off": 0.0,
        "owing": owing,
        "gst": 0.0,
        "fee_cat_id": fee_cat,
        "practitioner_id": appt["practitioner_id"],
        "quantity": 1,
        "appointment_id": appt["appointment_id"],
        "unit_price": price,
        "unit_discount": 0.0,
        "unit_gst": 0.0,
        "payment_items": []
        if pay_id is None
        else [
            {"payment_item_id": pay_id, "payment_id": pay_id, "amount": price, "allocated_time": alloc_time}
        ],
    }
    invoices[iid] = {
        "tenant_id": TENANT_ID,
        "invoice_id": iid,
        "client_id": appt["client_id"],
        "account_id": appt["account_id"],
        "invoice_date": day_string(day),
        "issued": issued,
        "due_date": day_string(day + 14),
        "invoice_number": 10_000 + iid,
        "invoice_notes": "",
        "practice_notes": "",
        "business_id": appt["business_id"],
        "created": issued,
        "updated": alloc_time if paid else issued,
        "created_by_user_id": 1 + bits % 5,
        "updated_by_user_id": 1 + bits % 5,
        "invoice_items": [line],
        "_owing": owing,
        "_appointment_ids": (appt["appointment_id"],),
        "_payment_ids": () if pay_id is None else (pay_id,),
    }
    if pay_id is None:
        return
    extra = 20.0 if bits % 20 == 0 else 0.0
    pay_type, card = _PAY_TYPES[(bits >> 8) % 4]
    payments[pay_id] = {
        "tenant_id": TENANT_ID,
        "payment_id": pay_id,
        "client_id": appt["client_id"],
        "account_id": appt["account_id"],
        "payment_time": end,
        "payment_type": pay_type,
        "total": price + extra,
        "allocated": price,
        "business_id": appt["business_id"],
        "user_id": 1 + bits % 5,
        "card_type": card,
        "notes": "",
        "created": alloc_time,
        "updated": alloc_time,
        "created_by_user_id": 1 + bits % 5,
        "updated_by_user_id": 1 + bits % 5,
        "payment_items": [
            {
                "invoice_id": iid,
                "invoice_item_id": iid,
                "allocated_time": alloc_time,
                "amount": price,
                "gst": 0.0,
            }
        ],
        "_unallocated": extra,
        "_invoice_item_ids": (iid,),
        "_payment_date": end[:10],
    }


def _groups(
    tables: Tables,
    rng: random.Random,
    *,
    count: int,
    base: int,
    workdays: list[int],
    soon: list[int],
    next_id: int,
) -> int:
    diary, members, patients = tables["diary"], tables["group_members"], tables["patients"]
    chairs = _chairs(tables, group=True)
    if not chairs:
        return next_id
    for n in range(count):
        bits = rng.getrandbits(96)
        chair = chairs[bits % len(chairs)]
        type_id, prof, dur, t = chair.types[(bits >> 8) % len(chair.types)]
        # A third of the classes fall in the next two weeks so availability searches find some.
        day = (
            soon[(bits >> 12) % len(soon)] if n % 3 == 0 and soon else workdays[(bits >> 12) % len(workdays)]
        )
        start = chair.open + 60 * ((bits >> 24) % max(1, (chair.close - chair.open - dur) // 60 + 1))
        created, modified = _stamp_before(day, bits >> 32)
        aid = next_id
        next_id += 1
        diary[aid] = {
            "tenant_id": TENANT_ID,
            "appointment_id": aid,
            "app_time": f"{day_string(day)}T{_SLOTS[start // 15]}",
            "description": t["description"],
            "appointment_type_id": type_id,
            "appointment_status_id": 4 if day < base else 1,
            "category": "Group",
            "duration": dur,
            "notes": "",
            "practitioner_id": chair.practitioner_id,
            "business_id": chair.business_id,
            "profession_id": prof,
            "created": created,
            "modified": modified,
            "item_group_id": t["_item_group_id"],
            "resource_ids": list(t["_resource_ids"]),
            "column_number": 1,
            "width": 1,
            "_kind": "group",
            "_max_size": t["group_max_size"],
        }
        size = 1 + (bits >> 80) % t["group_max_size"]
        for cid in rng.sample(range(1, len(patients) + 1), min(size, len(patients))):
            mid = len(members) + 1
            members[mid] = {
                "tenant_id": TENANT_ID,
                "appointment_client_id": mid,
                "client_id": cid,
                "appointment_id": aid,
                "appointment_status_id": 4 if day < base else 1,
                "notes": "",
                "created": created,
                "modified": modified,
                "item_group_id": t["_item_group_id"],
                "_account_id": patients[cid]["default_account_id"],
            }
    return next_id


def _blocks(tables: Tables, rng: random.Random, *, records: int, workdays: list[int], next_id: int) -> int:
    diary = tables["diary"]
    chairs = _chairs(tables, group=False)
    for n in range(max(2, records // 20) + max(2, records // 40)):
        bits = rng.getrandbits(96)
        chair = chairs[bits % len(chairs)]
        day = workdays[(bits >> 8) % len(workdays)]
        created, modified = _stamp_before(day, bits >> 24)
        aid = next_id
        next_id += 1
        if n % 3 == 2:  # rule outs: a lunch break
            diary[aid] = {
                "appointment_id": aid,
                "app_time": f"{day_string(day)}T12:00:00",
                "practitioner_id": chair.practitioner_id,
                "business_id": chair.business_id,
                "duration": 60,
                "column_number": 1,
                "width": 1,
                "category": "Rule Out",
                "created": created,
                "modified": modified,
                "_kind": "rule_out",
            }
            continue
        start = chair.open + 15 * ((bits >> 20) % ((chair.close - chair.open - 30) // 15 + 1))
        diary[aid] = {
            "appointment_id": aid,
            "app_time": f"{day_string(day)}T{_SLOTS[start // 15]}",
            "practitioner_id": chair.practitioner_id,
            "business_id": chair.business_id,
            "duration": 15 + 15 * (n % 2),
            "column_number": chair.columns,
            "width": 1,
            "category": "Note",
            "description": _NOTE_TEXT[(bits >> 60) % len(_NOTE_TEXT)],
            "notes": "",
            "created": created,
            "modified": modified,
            "font_colour": "#000000",
            "bg_colour": _COLOURS[(bits >> 64) % 4],
            "resource_ids": [1 + n % 4] if n % 5 == 0 else [],
            "_kind": "note",
        }
    return next_id


def _cancelled(
    tables: Tables, rng: random.Random, *, count: int, base: int, workdays: list[int], next_id: int
) -> None:
    cancelled, patients, statuses = tables["cancelled"], tables["patients"], tables["appointment_statuses"]
    items, reasons = tables["items"], tables["cancellation_reasons"]
    chairs = _chairs(tables, group=False)
    for n in range(count):
        bits = rng.getrandbits(128)
        chair = chairs[bits % len(chairs)]
        type_id, prof, dur, t = chair.types[(bits >> 8) % len(chair.types)]
        day = workdays[(bits >> 16) % len(workdays)]
        cid = 1 + (bits >> 28) % len(patients)
        reason_id = 1 + (bits >> 48) % len(reasons)
        created, modified = _stamp_before(day, bits >> 56)
        aid = next_id + n
        cancelled[aid] = {
            "tenant_id": TENANT_ID,
            "appointment_id": aid,
            "client_id": cid,
            "app_time": f"{day_string(day)}T{_SLOTS[(chair.open + 60 * ((bits >> 40) % 6)) // 15]}",
            "description": t["description"],
            "appointment_type": t["description"],
            "appointment_status": statuses[1]["status_description"],
            "category": "Appointment",
            "duration": dur,
            "notes": "",
            "practitioner_id": chair.practitioner_id,
            "business_id": chair.business_id,
            "profession_id": prof,
            "item_code": items[t["_item_id"]]["item_code"] if t["_item_id"] else "",
            "account_id": patients[cid]["default_account_id"],
            "cancellation_time": modified,
            "cancelled_by": _CANCELLED_BY[(bits >> 90) % 3],
            "cancellation": (bits >> 94) % 5 != 0,
            "reason": reasons[reason_id]["reason"],
            "appointment_cancellation_reason_id": reason_id,
            "_created": created,
            "_updated": modified,
            "_appointment_type_id": type_id,
            "_appointment_status_id": 1,
        }
