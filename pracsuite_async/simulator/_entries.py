"""Other diary writes: notes (createNote) and group appointment members (add/remove)."""

from __future__ import annotations

from aiohttp import web

from pracsuite_async.simulator._booking import FLAGS, place
from pracsuite_async.simulator._handlers import render_one
from pracsuite_async.simulator._http import json_value
from pracsuite_async.simulator._rules import format_local
from pracsuite_async.simulator._state import state
from pracsuite_async.simulator._validate import Checker, find, must, path_int, read_body
from pracsuite_async.simulator._views import LINKS


async def create_note(request: web.Request) -> web.StreamResponse:
    """POST /note (createNote): a coloured block in the appointment book (notes never clash)."""
    st = state(request)
    chk = Checker(await read_body(request))
    where = place(chk, st)
    start = chk.local_datetime("app_time", required=True)
    duration = chk.duration(required=True)
    description = chk.string("description", required=True)
    font, background = chk.colour("font_colour"), chk.colour("bg_colour")
    notes = chk.string("notes")
    resources = chk.refs("resource_ids", st.dataset.tables["resources"])
    chk.check()
    where, start, duration = must(where), must(start), must(duration)
    aid = st.dataset.new_id("diary")
    now = st.now()
    st.store.diary_add(
        {
            "appointment_id": aid,
            "app_time": format_local(start),
            "practitioner_id": where.practitioner["practitioner_id"],
            "business_id": where.business_id,
            "duration": duration,
            "column_number": where.column,
            "width": where.width,
            "category": "Note",
            "description": description,
            "notes": notes or "",
            "created": now,
            "modified": now,
            "font_colour": font or "#000000",
            "bg_colour": background or "#FFD700",
            "resource_ids": resources or [],
            "_kind": "note",
        }
    )
    return render_one(request, st, st.store.table("diary"), aid, LINKS["note"], status=201)


async def add_group_member(request: web.Request) -> web.StreamResponse:
    """POST /group_appointment/{id}/add_group_member (addGroupAppointmentMember)."""
    st = state(request)
    aid = path_int(request.match_info, "appointment_id")
    group = find(st.store.table("diary").rows, aid, "group appointment", "group")
    chk = Checker(await read_body(request))
    tables = st.dataset.tables
    members = st.store.table("group_members")
    client = chk.ref("client_id", tables["patients"], required=True)
    account = chk.ref("account_id", tables["accounts"])
    status = chk.ref("appointment_status_id", tables["appointment_statuses"])
    item, item_group = chk.ref("item_id", tables["items"]), chk.ref("item_group_id", tables["item_groups"])
    for flag in FLAGS:
        chk.boolean(flag)
    current = [members.rows[m] for m in members.index("appointment_id").get(aid, {})]
    if client is not None and any(m["client_id"] == client["client_id"] for m in current):
        chk.add("client_id", "The patient is already a member of this group appointment.")
    elif len(current) >= group["_max_size"]:
        chk.add("client_id", "The group appointment is full.")
    if account is not None and client is not None and account["client_id"] != client["client_id"]:
        chk.add("account_id", "The account does not belong to this patient.")
    if item is not None and item_group is not None:
        chk.add("item_group_id", "The item_id and item_group_id fields are mutually exclusive.")
    chk.check()
    client = must(client)
    mid = st.dataset.new_id("group_members")
    now = st.now()
    rec = {
        "tenant_id": st.dataset.tenant_id,
        "appointment_client_id": mid,
        "client_id": client["client_id"],
        "appointment_id": aid,
        "appointment_status_id": status["appointment_status_id"] if status else 1,
        "notes": "",
        "created": now,
        "modified": now,
        "_account_id": chk.body["account_id"] if account else client["default_account_id"],
    }
    if item is not None:
        rec["item_id"] = item["item_id"]
    elif item_group is not None or group.get("item_group_id") is not None:
        rec["item_group_id"] = item_group["item_group_id"] if item_group else group["item_group_id"]
    members.add(mid, rec)
    return json_value({k: v for k, v in rec.items() if k[0] != "_"}, 201)


async def remove_group_member(request: web.Request) -> web.StreamResponse:
    """POST /group_appointment/{id}/remove_group_member (removeGroupAppointmentMember)."""
    st = state(request)
    aid = path_int(request.match_info, "appointment_id")
    find(st.store.table("diary").rows, aid, "group appointment", "group")
    chk = Checker(await read_body(request))
    members = st.store.table("group_members")
    client_id = chk.integer("client_id", required=True)
    chk.ref("appointment_cancellation_reason_id", st.dataset.tables["cancellation_reasons"])
    chk.boolean("record_as_cancelled")
    chk.string("reason")
    mid = next(
        (
            m
            for m in members.index("appointment_id").get(aid, {})
            if members.rows[m]["client_id"] == client_id
        ),
        None,
    )
    if client_id is not None and mid is None:
        chk.add("client_id", "The patient is not a member of this group appointment.")
    chk.check()
    mid = must(mid)
    members.remove(mid)
    return web.Response(status=204)
