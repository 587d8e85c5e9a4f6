"""Free-slot search: available_appointments, next_available_appointment and their group variants.

Rosters: every active practitioner works Monday to Friday at each of their
businesses, from the business's ``appointment_start_time`` to its
``appointment_end_time``. Slots start at opening time and step by the type's
duration; a slot is offered in the lowest free column. Busy time is every
appointment, class, rule out and live hold (notes do not block).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from pracsuite_async.simulator._data import Record
from pracsuite_async.simulator._handlers import page_links
from pracsuite_async.simulator._http import bad_params, dumps, json_text
from pracsuite_async.simulator._query import page_params
from pracsuite_async.simulator._rules import (
    business_hours,
    columns_overlap,
    format_local,
    parse_date,
    practitioner_profession,
    type_duration,
)
from pracsuite_async.simulator._state import SimState, state

MAX_SPAN_DAYS = 7
_IDS = ("business_ids", "practitioner_ids", "profession_ids", "resource_ids")


def _ints(query: MultiMapping[str], name: str) -> frozenset[int] | None:
    """An id-list parameter in any common serialisation: repeated, ``name[]=``, or comma-separated."""
    raw = query.getall(name, []) + query.getall(f"{name}[]", [])
    if not raw:
        return None
    values: set[int] = set()
    for item in raw:
        for part in item.split(","):
            text = part.strip()
            if not text.isdigit():
                msg = f"{name} must be a list of integers"
                raise bad_params(msg)
            values.add(int(text))
    return frozenset(values)


def _flag(query: MultiMapping[str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false", "1", "0"):
        msg = f"{name} must be true or false"
        raise bad_params(msg)
    return raw.lower() in ("true", "1")


def _search(
    st: SimState, query: MultiMapping[str], *, group: bool
) -> tuple[Record, list[date], dict[str, Any]]:
    """Validate the shared parameters (README "Availability"); returns the type, the days and the filters."""
    start, end = query.get("from"), query.get("to")
    if start is None or end is None:
        msg = "from and to are required dates yyyy-MM-dd"
        raise bad_params(msg)
    first, last = parse_date(start), parse_date(end)
    if first is None or last is None:
        msg = "from and to must be dates yyyy-MM-dd"
        raise bad_params(msg)
    if first < st.config.today or last < st.config.today:
        msg = "from and to must not be in the past"
        raise bad_params(msg)
    if last < first:
        msg = "to must not be before from"
        raise bad_params(msg)
    if (last - first).days > MAX_SPAN_DAYS:
        msg = f"from and to must be at most {MAX_SPAN_DAYS} days apart"
        raise bad_params(msg)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    type_ids = query.getall("appointment_type_id", []) + query.getall("appointment_type_id[]", [])
    if len(type_ids) != 1 or not type_ids[0].isdigit():
        msg = "exactly one integer appointment_type_id is required"
        raise bad_params(msg)
    appt_type = st.dataset.tables["appointment_types"].get(int(type_ids[0]))
    if appt_type is None:
        msg = f"appointment_type_id {type_ids[0]} does not exist"
        raise bad_params(msg)
    found: dict[str, Any] = {name: _ints(query, name) for name in _IDS[: 3 if group else 4]}
    found["fee_cat_id"] = None if group else _fee_category(st, query)
    for flag in ("manual", "online", "waiting_list"):
        found[flag] = None if group else _flag(query, flag)
    return appt_type, days, found


def _fee_category(st: SimState, query: MultiMapping[str]) -> int | None:
    client, account = query.get("client_id"), query.get("account_id")
    if client is not None and (not client.isdigit() or int(client) not in st.dataset.tables["patients"]):
        msg = "client_id must name an existing patient"
        raise bad_params(msg)
    if account is None:
        return None
    if client is None:
        msg = "client_id is required when account_id is given"
        raise bad_params(msg)
    rec = st.dataset.tables["accounts"].get(int(account)) if account.isdigit() else None
    if rec is None or rec["client_id"] != int(client):
        msg = "account_id must name an account of client_id"
        raise bad_params(msg)
    return int(rec["fee_cat_id"])


def _roster_open(pb: Record, flags: dict[str, Any]) -> bool:
    """None of the roster flags sent means manual-booking times only (everything is open to staff)."""
    manual, online, waiting = flags["manual"], flags["online"], flags["waiting_list"]
    if manual is None and online is None and waiting is None:
        return True
    return bool(manual) or (bool(online) and pb["online"]) or (bool(waiting) and pb["waiting_list"])


def free_slots(st: SimState, appt_type: Record, days: list[date], flags: dict[str, Any]) -> list[Record]:
    """Every bookable slot for the search, ordered by time, practitioner and business."""
    tables = st.dataset.tables
    out: list[tuple[str, int, int, Record]] = []
    resources = list(appt_type["_resource_ids"])
    wanted_resources = flags.get("resource_ids")
    if wanted_resources is not None and not wanted_resources & set(resources):
        return []
    if appt_type["archived"] or appt_type["group_appointment"]:
        return []
    for prac in tables["practitioners"].values():
        pid = prac["practitioner_id"]
        prof = practitioner_profession(prac, appt_type)
        if (
            prac["archive"]
            or prof is None
            or not _allowed(flags["practitioner_ids"], pid)
            or not _allowed(flags["profession_ids"], prof)
        ):
            continue
        for link in prac["businesses"]:
            bid = link["business_id"]
            pb = tables["practitioner_businesses"][link["practitioner_business_id"]]
            if not _allowed(flags["business_ids"], bid) or not _roster_open(pb, flags):
                continue
            duration, width = type_duration(
                appt_type,
                practitioner_id=pid,
                business_id=bid,
                profession_id=prof,
                fee_cat_id=flags["fee_cat_id"],
            )
            opening, closing = business_hours(tables["businesses"][bid])
            template = {
                "appointment_type_id": appt_type["appointment_type_id"],
                "practitioner_business_id": pb["practitioner_business_id"],
                "practitioner_id": pid,
                "business_id": bid,
                "profession_id": prof,
                "width": width,
                "duration": duration,
                "resource_ids": resources,
                "practitioner_name": prac["short_description"],
            }
            if appt_type["_item_id"] is not None:
                template |= {"item_id": appt_type["_item_id"], "item_group_id": None}
            else:
                template["item_group_id"] = appt_type["_item_group_id"]
            for day in days:
                if day.weekday() >= 5:
                    continue
                ordinal = day.toordinal()
                busy = st.store.busy(pid, bid, ordinal)
                for minute in range(opening, closing - duration + 1, duration):
                    start = ordinal * 86_400 + minute * 60
                    column = _free_column(busy, start, start + duration * 60, width, link["app_book_columns"])
                    if column is not None:
                        app_time = format_local(start)
                        slot = {"app_time": app_time, "column_number": column} | template
                        out.append((app_time, pid, bid, slot))
    out.sort(key=lambda row: row[:3])
    return [row[3] for row in out]


def _allowed(wanted: frozenset[int] | None, value: int) -> bool:
    return wanted is None or value in wanted


def _free_column(
    busy: list[tuple[int, int, int, int, int]], start: int, end: int, width: int, columns: int
) -> int | None:
    for column in range(1, columns - width + 2):
        if not any(s < end and start < e and columns_overlap(c, w, column, width) for s, e, c, w, _ in busy):
            return column
    return None


def free_classes(st: SimState, appt_type: Record, days: list[date], flags: dict[str, Any]) -> list[Record]:
    """Existing group appointments of the type, within the days, with spare places."""
    diary = st.store.table("diary")
    members = st.store.table("group_members").index("appointment_id")
    wanted_days = {d.isoformat() for d in days}
    out = []
    for aid in sorted(diary.index("_kind").get("group", {})):
        rec = diary.rows[aid]
        size = len(members.get(aid, {}))
        if (
            rec["appointment_type_id"] != appt_type["appointment_type_id"]
            or rec["app_time"][:10] not in wanted_days
            or size >= rec["_max_size"]
            or not _allowed(flags["practitioner_ids"], rec["practitioner_id"])
            or not _allowed(flags["business_ids"], rec["business_id"])
            or not _allowed(flags["profession_ids"], rec["profession_id"])
        ):
            continue
        prac = st.dataset.tables["practitioners"][rec["practitioner_id"]]
        slot = {
            "appointment_id": aid,
            "current_class_size": size,
            "max_class_size": rec["_max_size"],
            "app_time": rec["app_time"],
            "column_number": rec["column_number"],
        }
        slot |= {k: rec[k] for k in ("item_id", "item_group_id") if rec.get(k) is not None}
        slot |= {
            k: rec[k]
            for k in (
                "appointment_type_id",
                "practitioner_id",
                "business_id",
                "profession_id",
                "width",
                "duration",
                "resource_ids",
            )
        }
        out.append(slot | {"practitioner_name": prac["short_description"]})
    out.sort(key=lambda s: (s["app_time"], s["practitioner_id"], s["appointment_id"]))
    return out


def _answer(request: web.Request, slots: list[Record], *, paged: bool) -> web.Response:
    if not paged:
        first = slots[:1]
        return json_text(
            dumps(
                {"available_times": first, "total_entries": len(first), "links": {"self": str(request.url)}}
            )
        )
    page, size = page_params(request.query)
    chunk = slots[(page - 1) * size : page * size]
    body = {
        "available_times": chunk,
        "total_entries": len(slots),
        "links": page_links(request, page, size, len(slots)),
    }
    return json_text(dumps(body))


async def list_available(request: web.Request) -> web.StreamResponse:
    """GET /available_appointments (listAvailableAppointments)."""
    st = state(request)
    page_params(request.query)
    appt_type, days, flags = _search(st, request.query, group=False)
    return _answer(request, free_slots(st, appt_type, days, flags), paged=True)


async def next_available(request: web.Request) -> web.StreamResponse:
    """GET /next_available_appointment (getNextAvailableAppointment): the earliest slot, if any."""
    st = state(request)
    appt_type, days, flags = _search(st, request.query, group=False)
    return _answer(request, free_slots(st, appt_type, days, flags), paged=False)


async def list_available_groups(request: web.Request) -> web.StreamResponse:
    """GET /available_group_appointments (listAvailableGroupAppointments)."""
    st = state(request)
    page_params(request.query)
    appt_type, days, flags = _search(st, request.query, group=True)
    return _answer(request, free_classes(st, appt_type, days, flags), paged=True)


async def next_available_group(request: web.Request) -> web.StreamResponse:
    """GET /next_available_group_appointment (getNextAvailableGroupAppointment)."""
    st = state(request)
    appt_type, days, flags = _search(st, request.query, group=True)
    return _answer(request, free_classes(st, appt_type, days, flags), paged=False)
