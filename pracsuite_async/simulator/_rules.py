"""Clinic rules shared by generation, booking and availability: local times, durations, hours."""

from __future__ import annotations

import re
from datetime import date, datetime

from pracsuite_async.simulator._data import Record, day_string

LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_HOURS = (9 * 60, 17 * 60)
#: Entry kinds that occupy appointment-book columns (notes are annotations).
BLOCKING_KINDS = frozenset({"appointment", "group", "rule_out"})


def parse_local(text: str) -> int | None:
    """Seconds since day 0 of a tenant-local ``YYYY-MM-DDTHH:MM:SS``, or ``None`` if malformed."""
    if not LOCAL_DATETIME.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text[:10] + "T" + text[11:])
    except ValueError:
        return None
    return moment.toordinal() * 86_400 + moment.hour * 3_600 + moment.minute * 60 + moment.second


def format_local(seconds: int) -> str:
    """Inverse of :func:`parse_local`."""
    day, rem = divmod(seconds, 86_400)
    return f"{day_string(day)}T{rem // 3_600:02d}:{rem // 60 % 60:02d}:{rem % 60:02d}"


def parse_date(text: str) -> date | None:
    """A strict ``YYYY-MM-DD`` date, or ``None``."""
    if not DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def business_hours(business: Record) -> tuple[int, int]:
    """Opening and closing minute of a business day (the business's appointment start/end times)."""
    start, end = business.get("appointment_start_time"), business.get("appointment_end_time")
    if not start or not end:
        return DEFAULT_HOURS
    return int(start[:2]) * 60 + int(start[3:5]), int(end[:2]) * 60 + int(end[3:5])


def practitioner_profession(practitioner: Record, appointment_type: Record) -> int | None:
    """The practitioner's profession that can deliver the type (default profession first)."""
    allowed = appointment_type["_profession_ids"]
    for prof in practitioner["_profession_ids"]:
        if prof in allowed:
            return int(prof)
    return None


def type_duration(
    appointment_type: Record,
    *,
    practitioner_id: int,
    business_id: int,
    profession_id: int,
    fee_cat_id: int | None = None,
) -> tuple[int, int]:
    """Default ``(duration, width)`` of a type for one practitioner/business/profession/fee category.

    Practitioner-specific rows beat type rows; within each, a row for the exact
    fee category beats an ``all_fee_cats`` row (GET /appointment_type/{id}).
    """
    detail = appointment_type["_detail"]
    candidates = (
        [
            r
            for r in detail["practitioner_appointment_type_durations"]
            if r["practitioner_id"] == practitioner_id
            and r["business_id"] == business_id
            and r["profession_id"] == profession_id
        ],
        [r for r in detail["appointment_type_durations"] if r["profession_id"] == profession_id],
    )
    for rows in candidates:
        exact = [r for r in rows if fee_cat_id is not None and r["fee_cat_id"] == fee_cat_id]
        general = [r for r in rows if r["all_fee_cats"]]
        for row in exact + general:
            return int(row["duration"]), int(row["width"])
    return 30, 1


def columns_overlap(col_a: int, width_a: int, col_b: int, width_b: int) -> bool:
    """Whether two column ranges ``[col, col + width)`` intersect."""
    return col_a < col_b + width_b and col_b < col_a + width_a
