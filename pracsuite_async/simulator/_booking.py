"""Appointment writes: create, reserve (hold), finalise, edit and cancel (removeAppointment).

Both revisions of the write bodies are accepted (README "Two revisions"): the
current ``practitioner_id`` + ``business_id`` + ``column_number`` and the older
``practitioner_business_id`` + ``column``; a body mixing them is a 422.
"""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from pracsuite_async.simulator._data import Record
from pracsuite_async.simulator._handlers import render_one
from pracsuite_async.simulator._http import json_value
from pracsuite_async.simulator._rules import format_local, parse_local, practitioner_profession
from pracsuite_async.simulator._state import SimState, state
from pracsuite_async.simulator._store import DELETE
from pracsuite_async.simulator._validate import Checker, conflict, find, must, path_int, read_body
from pracsuite_async.simulator._views import LINKS

FLAGS = (
    "sms_reminder",
    "email_reminder",
    "sms_confirmation",
    "email_confirmation",
    "sms_follow_up",
    "email_follow_up",
    "hourly_billing",
)
_OLD_KEYS = ("practitioner_business_id", "column")
_NEW_KEYS = ("practitioner_id", "business_id", "column_number")


@attrs.define
class Place:
    """Where an entry sits in the appointment book, and which body revision named it."""

    practitioner: Record
    business_id: int
    column: int
    width: int
    columns: int
    old_revision: bool
    pb_id: int


def place(chk: Checker, st: SimState, *, current: Record | None = None) -> Place | None:
    """Read practitioner/business/column/width in either revision; ``current`` makes them optional."""
    body = chk.body
    old = any(k in body for k in _OLD_KEYS)
    if old and any(k in body for k in _NEW_KEYS):
        chk.add(
            "practitioner_business_id",
            "Send either practitioner_business_id and column (older revision) "
            "or practitioner_id, business_id and column_number, not both.",
        )
        return None
    tables = st.dataset.tables
    required = current is None
    if old:
        pb = chk.ref("practitioner_business_id", tables["practitioner_businesses"], required=required)
        pid = pb["practitioner_id"] if pb else current["practitioner_id"] if current else None
        bid = pb["business_id"] if pb else current["business_id"] if current else None
        column_field = "column"
    else:
        prac_rec = chk.ref("practitioner_id", tables["practitioners"], required=required)
        biz = chk.ref("business_id", tables["businesses"], required=required)
        pid = prac_rec["practitioner_id"] if prac_rec else current["practitioner_id"] if current else None
        bid = biz["business_id"] if biz else current["business_id"] if current else None
        column_field = "column_number"
    column = chk.integer(column_field, minimum=1, maximum=10_000)
    width = chk.integer("width", minimum=1, maximum=100)
    if pid is None or bid is None:
        return None
    prac = tables["practitioners"][pid]
    link = next((b for b in prac["businesses"] if b["business_id"] == bid), None)
    if link is None:
        chk.add("business_id", "The practitioner does not work at this business.")
        return None
    if column is None:
        column = current["column_number"] if current and column_field not in body else 1
    if column > link["app_book_columns"]:
        chk.add(
            column_field,
            f"The {column_field} must not exceed the practitioner's "
            f"{link['app_book_columns']} appointment-book column(s).",
        )
        return None
    if width is None:
        width = current["width"] if current else 1
    return Place(prac, bid, column, width, link["app_book_columns"], old, link["practitioner_business_id"])


def details(
    chk: Checker,
    st: SimState,
    *,
    client: Record | None,
    appt_type: Record | None,
    practitioner: Record | None,
    partial: bool = False,
) -> dict[str, Any]:
    """Validated optional booking fields; defaults come from the appointment type unless ``partial``."""
    tables = st.dataset.tables
    out: dict[str, Any] = {}
    if appt_type is not None:
        if appt_type["archived"] or appt_type["group_appointment"]:
            chk.add("appointment_type_id", "The appointment type is archived or is a group appointment type.")
        elif practitioner is not None and practitioner_profession(practitioner, appt_type) is None:
            chk.add(
                "appointment_type_id", "The practitioner's professions cannot deliver this appointment type."
            )
    account = chk.ref("account_id", tables["accounts"])
    if account is not None and client is not None and account["client_id"] != client["client_id"]:
        chk.add("account_id", "The account does not belong to this patient.")
    elif account is not None:
        out["account_id"] = chk.body["account_id"]
    elif client is not None and not partial:
        out["account_id"] = client["default_account_id"]
    profession = chk.ref("profession_id", tables["professions"])
    if (
        profession is not None
        and practitioner is not None
        and profession["profession_id"] not in practitioner["_profession_ids"]
    ):
        chk.add("profession_id", "The practitioner does not practise this profession.")
    elif profession is not None:
        out["profession_id"] = profession["profession_id"]
    elif not partial and practitioner is not None:
        found = practitioner_profession(practitioner, appt_type) if appt_type else None
        out["profession_id"] = found or practitioner["_profession_ids"][0]
    status = chk.ref("appointment_status_id", tables["appointment_statuses"])
    if status is not None:
        out["appointment_status_id"] = status["appointment_status_id"]
    elif not partial:
        out["appointment_status_id"] = 1
    item = chk.ref("item_id", tables["items"])
    group = chk.ref("item_group_id", tables["item_groups"])
    if item is not None and group is not None:
        chk.add("item_group_id", "The item_id and item_group_id fields are mutually exclusive.")
    elif item is not None or group is not None:
        out["item_id"] = item["item_id"] if item else None
        out["item_group_id"] = group["item_group_id"] if group else None
    elif not partial and appt_type is not None:
        out["item_id"], out["item_group_id"] = appt_type["_item_id"], appt_type["_item_group_id"]
    resources = chk.refs("resource_ids", tables["resources"])
    if resources is not None:
        out["resource_ids"] = resources
    elif not partial:
        out["resource_ids"] = list(appt_type["_resource_ids"]) if appt_type else []
    flags = {f: v for f in FLAGS if (v := chk.boolean(f)) is not None}
    if flags:
        out["_flags"] = flags
    return out


def appointment_record(
    st: SimState,
    aid: int,
    *,
    client_id: int,
    appt_type: Record,
    start: int,
    duration: int,
    where: Place,
    extra: dict[str, Any],
) -> Record:
    """A new patient appointment in the same field order as generated ones."""
    now = st.now()
    rec: Record = {
        "tenant_id": st.dataset.tenant_id,
        "appointment_id": aid,
        "client_id": client_id,
        "app_time": format_local(start),
        "description": appt_type["description"],
        "appointment_type_id": appt_type["appointment_type_id"],
        "appointment_status_id": extra["appointment_status_id"],
        "category": "Appointment",
        "duration": duration,
        "notes": "",
        "practitioner_id": where.practitioner["practitioner_id"],
        "business_id": where.business_id,
        "profession_id": extra["profession_id"],
        "account_id": extra["account_id"],
        "created": now,
        "modified": now,
        "resource_ids": extra["resource_ids"],
        "column_number": where.column,
        "width": where.width,
        "_kind": "appointment",
        "_flags": extra.get("_flags", {}),
    }
    _set_item(rec, extra)
    if appt_type["telehealth"]:
        rec["telehealth_patient_link"] = f"https://telehealth.example.com/a/{aid}"
        rec["telehealth_practitioner_link"] = f"https://telehealth.example.com/host/{aid}"
    return rec


def _set_item(rec: Record, extra: dict[str, Any]) -> None:
    # Optional integers are omitted rather than null: the Appointment schema does not allow null.
    for key in ("item_id", "item_group_id"):
        if key in extra:
            rec.pop(key, None)
            if extra[key] is not None:
                rec[key] = extra[key]


def _check_free(st: SimState, where: Place, start: int, duration: int, exclude: int | None = None) -> None:
    clash = st.store.find_conflict(
        practitioner_id=where.practitioner["practitioner_id"],
        business_id=where.business_id,
        start=start,
        duration=duration,
        column=where.column,
        width=where.width,
        exclude=exclude,
    )
    if clash is not None:
        raise conflict()


async def create_appointment(request: web.Request) -> web.StreamResponse:
    """POST /appointment (createAppointment): book a fixed time directly."""
    st = state(request)
    chk = Checker(await read_body(request))
    tables = st.dataset.tables
    where = place(chk, st)
    start = chk.local_datetime("app_time", required=True)
    duration = chk.duration(required=True)
    client = chk.ref("client_id", tables["patients"], required=True)
    appt_type = chk.ref("appointment_type_id", tables["appointment_types"], required=True)
    extra = details(
        chk, st, client=client, appt_type=appt_type, practitioner=where.practitioner if where else None
    )
    chk.check()
    where, start, duration = must(where), must(start), must(duration)
    client, appt_type = must(client), must(appt_type)
    _check_free(st, where, start, duration)
    aid = st.dataset.new_id("diary")
    rec = appointment_record(
        st,
        aid,
        client_id=client["client_id"],
        appt_type=appt_type,
        start=start,
        duration=duration,
        where=where,
        extra=extra,
    )
    st.store.diary_add(rec)
    return render_one(request, st, st.store.table("diary"), aid, LINKS["appointment"], status=201)


async def reserve_appointment(request: web.Request) -> web.StreamResponse:
    """POST /reserve_appointment (reserveAppointment): hold a slot for 15 minutes, or add a rule out."""
    st = state(request)
    chk = Checker(await read_body(request))
    where = place(chk, st)
    start = chk.local_datetime("app_time", required=True)
    duration = chk.duration(required=True)
    rule_out = chk.boolean("rule_out")
    chk.check()
    where, start, duration = must(where), must(start), must(duration)
    _check_free(st, where, start, duration)
    aid = st.dataset.new_id("diary")
    pid = where.practitioner["practitioner_id"]
    lite: Record = {
        "appointment_id": aid,
        "app_time": format_local(start),
        "practitioner_id": pid,
        "business_id": where.business_id,
        "duration": duration,
        "column_number": where.column,
        "width": where.width,
        "category": "Rule Out" if rule_out else "Reserved",
    }
    if rule_out:
        now = st.now()
        st.store.diary_add({**lite, "created": now, "modified": now, "_kind": "rule_out"})
    else:
        st.store.holds[aid] = {
            **lite,
            "_start": start,
            "_expires": st.config.clock() + st.config.hold_seconds,
            "_old_revision": where.old_revision,
        }
    if where.old_revision:
        # The older revision's response carries its own names and an integer category (0 Reserved, 4 Ruleout).
        lite |= {
            "practitioner_business_id": where.pb_id,
            "column": where.column,
            "category": 4 if rule_out else 0,
        }
    return json_value(lite, 201)


async def finalise_appointment(request: web.Request) -> web.StreamResponse:
    """POST /appointment/{appointment_id} (finaliseAppointment): turn a live hold into a booking."""
    st = state(request)
    aid = path_int(request.match_info, "appointment_id")
    hold = find(st.store.live_holds(), aid, "reserved appointment")
    chk = Checker(await read_body(request))
    tables = st.dataset.tables
    client = chk.ref("client_id", tables["patients"], required=True)
    appt_type = chk.ref("appointment_type_id", tables["appointment_types"], required=True)
    prac = tables["practitioners"][hold["practitioner_id"]]
    extra = details(chk, st, client=client, appt_type=appt_type, practitioner=prac)
    chk.check()
    client, appt_type = must(client), must(appt_type)
    link = next(b for b in prac["businesses"] if b["business_id"] == hold["business_id"])
    where = Place(
        prac,
        hold["business_id"],
        hold["column_number"],
        hold["width"],
        link["app_book_columns"],
        hold["_old_revision"],
        link["practitioner_business_id"],
    )
    del st.store.holds[aid]
    rec = appointment_record(
        st,
        aid,
        client_id=client["client_id"],
        appt_type=appt_type,
        start=hold["_start"],
        duration=hold["duration"],
        where=where,
        extra=extra,
    )
    st.store.diary_add(rec)
    return render_one(request, st, st.store.table("diary"), aid, LINKS["appointment"], status=201)


async def edit_appointment(request: web.Request) -> web.StreamResponse:
    """PATCH /appointment/{appointment_id} (editAppointment): partial update or reschedule."""
    st = state(request)
    aid = path_int(request.match_info, "appointment_id")
    current = find(st.store.table("diary").rows, aid, "appointment", "appointment")
    chk = Checker(await read_body(request))
    tables = st.dataset.tables
    where = place(chk, st, current=current)
    start = chk.local_datetime("app_time")
    duration = chk.duration()
    appt_type = chk.ref("appointment_type_id", tables["appointment_types"])
    client = tables["patients"].get(current["client_id"])
    extra = details(
        chk,
        st,
        client=client,
        appt_type=appt_type,
        practitioner=where.practitioner if where else None,
        partial=True,
    )
    chk.ref("appointment_reschedule_reason_id", tables["reschedule_reasons"])
    chk.string("reason")
    chk.check()
    where = must(where)
    new_start = start if start is not None else _start_of(current)
    new_duration = duration or current["duration"]
    _check_free(st, where, new_start, new_duration, exclude=aid)
    changes: Record = {
        "app_time": format_local(new_start),
        "duration": new_duration,
        "practitioner_id": where.practitioner["practitioner_id"],
        "business_id": where.business_id,
        "column_number": where.column,
        "width": where.width,
        "modified": st.now(),
    }
    if appt_type is not None:
        changes |= {
            "appointment_type_id": appt_type["appointment_type_id"],
            "description": appt_type["description"],
        }
    for key in ("account_id", "profession_id", "appointment_status_id", "resource_ids"):
        if key in extra:
            changes[key] = extra[key]
    if "_flags" in extra:
        changes["_flags"] = current.get("_flags", {}) | extra["_flags"]
    if "item_id" in extra:
        for key in ("item_id", "item_group_id"):
            changes[key] = DELETE if extra[key] is None else extra[key]
    st.store.diary_update(aid, changes)
    return render_one(request, st, st.store.table("diary"), aid, LINKS["appointment"])


def _start_of(rec: Record) -> int:
    return must(parse_local(rec["app_time"]))


async def remove_appointment(request: web.Request) -> web.StreamResponse:
    """POST /appointment/{appointment_id}/cancel (removeAppointment): remove, optionally as a cancellation."""
    st = state(request)
    aid = path_int(request.match_info, "appointment_id")
    if aid in st.store.holds:
        # Removing a reserved (not yet finalised) slot releases the hold; the docs
        # do not say how a hold is freed early, and this is the client's only way.
        del st.store.holds[aid]
        return web.Response(status=204)
    find(st.store.table("diary").rows, aid, "appointment", "appointment")
    chk = Checker(await read_body(request))
    tables = st.dataset.tables
    reason = chk.ref("appointment_cancellation_reason_id", tables["cancellation_reasons"])
    recorded = chk.boolean("record_as_cancelled")
    text = chk.string("reason")
    chk.check()
    rec = st.store.diary_remove(aid)
    appt_type = tables["appointment_types"][rec["appointment_type_id"]]
    item = tables["items"].get(rec.get("item_id") or 0)
    now = st.now()
    st.store.table("cancelled").add(
        aid,
        {
            "tenant_id": rec["tenant_id"],
            "appointment_id": aid,
            "client_id": rec["client_id"],
            "app_time": rec["app_time"],
            "description": rec["description"],
            "appointment_type": appt_type["description"],
            "appointment_status": tables["appointment_statuses"][rec["appointment_status_id"]][
                "status_description"
            ],
            "category": rec["category"],
            "duration": rec["duration"],
            "notes": rec["notes"],
            "practitioner_id": rec["practitioner_id"],
            "business_id": rec["business_id"],
            "profession_id": rec["profession_id"],
            "item_code": item["item_code"] if item else "",
            "account_id": rec["account_id"],
            "cancellation_time": now,
            "cancelled_by": "API",
            # record_as_cancelled defaults to true: the operation is called "cancel".
            "cancellation": recorded is not False,
            "reason": text if text is not None else reason["reason"] if reason else "",
            "appointment_cancellation_reason_id": reason["appointment_cancellation_reason_id"]
            if reason
            else 0,
            "_created": rec["created"],
            "_updated": now,
            "_appointment_type_id": rec["appointment_type_id"],
        },
    )
    return web.Response(status=204)
