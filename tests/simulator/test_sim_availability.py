"""Free-slot search: rules, roster flags, busy time, and the group-class variants."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.simulator.conftest import Api

SEARCH = {"from": "2026-01-05", "to": "2026-01-09", "appointment_type_id": "2"}


async def _slots(api: Api, params: Any, path: str = "/available_appointments") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        reply = await api.get(
            path,
            params=[
                *list(params.items() if isinstance(params, dict) else params),
                ("page", str(page)),
                ("page_size", "100"),
            ],
        )
        assert reply.status == 200, reply
        out += reply.json["available_times"]
        if "next" not in reply.json["links"]:
            return out
        page += 1


def _interval(app_time: str, minutes: int) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(app_time)
    return start, start + timedelta(minutes=minutes)


async def test_slots_avoid_busy_time(api: Api) -> None:
    """No offered slot overlaps an appointment, class or rule out in its practitioner's column."""
    slots = await _slots(api, SEARCH)
    assert slots
    blocking = [r for r in api.sim.dataset.tables["diary"].values() if r["_kind"] != "note"]
    for slot in slots:
        s0, s1 = _interval(slot["app_time"], slot["duration"])
        assert date.fromisoformat(slot["app_time"][:10]).weekday() < 5
        for r in blocking:
            if (r["practitioner_id"], r["business_id"], r["column_number"]) != (
                slot["practitioner_id"],
                slot["business_id"],
                slot["column_number"],
            ):
                continue
            r0, r1 = _interval(r["app_time"], r["duration"])
            assert not (s0 < r1 and r0 < s1), (slot, r)
    assert [s["app_time"] for s in slots] == sorted(s["app_time"] for s in slots)


async def test_reserved_slot_disappears(api: Api) -> None:
    """A held slot is no longer offered (in that column)."""
    first = (await _slots(api, SEARCH))[0]
    where = ("app_time", "practitioner_id", "business_id", "duration", "column_number")
    assert (await api.post("/reserve_appointment", {k: first[k] for k in where})).status == 201
    after = await _slots(api, SEARCH)
    assert not any(all(s[k] == first[k] for k in where) for s in after)


async def test_filters_and_both_array_styles(api: Api) -> None:
    """business_ids/practitioner_ids narrow the search, as repeated, [] or comma-separated parameters."""
    repeated = await _slots(api, [*SEARCH.items(), ("business_ids", "1"), ("business_ids", "2")])
    brackets = await _slots(api, [*SEARCH.items(), ("business_ids[]", "1"), ("business_ids[]", "2")])
    comma = await _slots(api, [*SEARCH.items(), ("business_ids", "1,2")])
    assert repeated == brackets == comma
    assert repeated
    assert {s["business_id"] for s in repeated} <= {1, 2}
    one = await _slots(api, [*SEARCH.items(), ("practitioner_ids", "1"), ("profession_ids", "1")])
    assert {s["practitioner_id"] for s in one} == {1}
    assert await _slots(api, [*SEARCH.items(), ("resource_ids", "5")]) == []


async def test_roster_flags(api: Api) -> None:
    """online=true offers only online-bookable rosters; no flags means manual times (all rosters)."""
    pbs = api.sim.dataset.tables["practitioner_businesses"]
    manual = await _slots(api, SEARCH)
    online = await _slots(api, {**SEARCH, "online": "true"})
    assert {pbs[s["practitioner_business_id"]]["online"] for s in online} == {True}
    assert len(online) < len(manual)
    assert await _slots(api, {**SEARCH, "manual": "true"}) == manual


async def test_fee_category_duration(api: Api) -> None:
    """client_id + account_id select fee-category-specific durations (DVA initial consults run longer)."""
    accounts = api.sim.dataset.tables["accounts"]
    account_id, acc = next((i, a) for i, a in accounts.items() if a["fee_cat_id"] == 3)
    params = {
        **SEARCH,
        "appointment_type_id": "1",
        "client_id": str(acc["client_id"]),
        "account_id": str(account_id),
    }
    dva = await _slots(api, params)
    plain = await _slots(api, {**SEARCH, "appointment_type_id": "1"})
    assert {s["duration"] for s in dva} == {75}
    assert {s["duration"] for s in plain} == {60}


async def test_next_available_is_the_first_slot(api: Api) -> None:
    """next_available_appointment returns the earliest slot with links.self only."""
    reply = await api.get("/next_available_appointment", params=SEARCH)
    first = (await _slots(api, SEARCH))[0]
    assert reply.json["available_times"] == [first]
    assert reply.json["total_entries"] == 1
    assert set(reply.json["links"]) == {"self"}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-01-05", "to": "2026-01-13", "appointment_type_id": "2"},  # 8 days apart
        {"from": "2026-01-04", "to": "2026-01-06", "appointment_type_id": "2"},  # in the past
        {"from": "2026-01-07", "to": "2026-01-06", "appointment_type_id": "2"},  # reversed
        {"from": "2026-01-05", "to": "2026-01-06"},  # no type
        {"from": "2026-1-5", "to": "2026-01-06", "appointment_type_id": "2"},  # malformed date
        {"from": "2026-01-05", "to": "2026-01-06", "appointment_type_id": "999"},  # unknown type
        {
            "from": "2026-01-05",
            "to": "2026-01-06",
            "appointment_type_id": "2",
            "account_id": "1",
        },  # no client
        {"from": "2026-01-05", "to": "2026-01-06", "appointment_type_id": "2", "online": "maybe"},
        {"from": "2026-01-05", "to": "2026-01-06", "appointment_type_id": "2", "business_ids": "x"},
    ],
)
async def test_invalid_searches_are_400(api: Api, params: dict[str, str]) -> None:
    """Window, date, type, account and flag rules are enforced with INVALID_PARAMS."""
    reply = await api.get("/available_appointments", params=params)
    assert reply.status == 400, reply


async def test_two_types_are_400(api: Api) -> None:
    """Exactly one appointment_type_id is allowed."""
    params = [
        ("from", "2026-01-05"),
        ("to", "2026-01-06"),
        ("appointment_type_id", "1"),
        ("appointment_type_id", "2"),
    ]
    assert (await api.get("/available_appointments", params=params)).status == 400


async def test_group_classes_with_space(api: Api) -> None:
    """Available group appointments are the type's classes in the window with free places."""
    t = api.sim.dataset.tables
    params = {"from": "2026-01-05", "to": "2026-01-12", "appointment_type_id": "16"}
    found = await _slots(api, params, "/available_group_appointments")
    expected = []
    for aid, r in t["diary"].items():
        size = sum(1 for m in t["group_members"].values() if m["appointment_id"] == aid)
        if (
            r["_kind"] == "group"
            and r["appointment_type_id"] == 16
            and "2026-01-05" <= r["app_time"][:10] <= "2026-01-12"
            and size < r["_max_size"]
        ):
            expected.append(aid)
    assert sorted(s["appointment_id"] for s in found) == sorted(expected)
    assert expected
    for s in found:
        assert s["current_class_size"] < s["max_class_size"]
    nxt = await api.get("/next_available_group_appointment", params=params)
    assert nxt.json["available_times"] == found[:1]
