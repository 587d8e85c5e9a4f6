"""Appointment writes: create, reserve/finalise with 15-minute holds, edit, cancel, notes, group members."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.conftest import Api, MakeApi, ManualClock

SEARCH = {"from": "2026-01-05", "to": "2026-01-12", "appointment_type_id": "2"}
PLACE = ("app_time", "practitioner_id", "business_id", "duration", "column_number")


async def _free_slot(api: Api, n: int = 0, **where: Any) -> dict[str, Any]:
    slots = (await api.get("/available_appointments", params={**SEARCH, "page_size": "100"})).json[
        "available_times"
    ]
    slots = [s for s in slots if all(s[k] == v for k, v in where.items())]
    return {k: slots[n][k] for k in PLACE}


def _fields(reply: Any) -> set[str]:
    return {v["field"] for v in reply.json["error"]["validation"]}


class TestCreate:
    async def test_create_then_clash(self, api: Api) -> None:
        """A booking succeeds once; the same slot again is a 409 RESERVE_APPOINTMENT_CONFLICT."""
        slot = await _free_slot(api)
        body = {**slot, "client_id": 3, "appointment_type_id": 2}
        created = await api.post("/appointment", body)
        assert created.status == 201
        rec = created.json
        assert rec["links"]["self"] == f"{api.sim.base_url}/appointment/{rec['appointment_id']}"
        assert rec["account_id"] == api.sim.dataset.tables["patients"][3]["default_account_id"]
        assert rec["item_id"] == 2
        assert rec["profession_id"] == 1
        again = await api.post("/appointment", {**body, "client_id": 4})
        assert again.status == 409
        assert again.json["error"]["code"] == "RESERVE_APPOINTMENT_CONFLICT"
        got = await api.get(f"/appointment/{rec['appointment_id']}")
        assert got.json == rec

    async def test_overlap_is_a_clash_but_adjacent_is_not(self, api: Api) -> None:
        """An overlapping start clashes; one starting exactly at the end does not."""
        slot = await _free_slot(api)
        assert (
            await api.post("/appointment", {**slot, "client_id": 1, "appointment_type_id": 2})
        ).status == 201
        hh, mm = int(slot["app_time"][11:13]), int(slot["app_time"][14:16]) + 5
        overlapping = {**slot, "app_time": f"{slot['app_time'][:11]}{hh:02d}:{mm:02d}:00"}
        assert (
            await api.post("/appointment", {**overlapping, "client_id": 1, "appointment_type_id": 2})
        ).status == 409

    async def test_other_column_does_not_clash(self, api: Api) -> None:
        """The same time in another of the practitioner's columns is free."""
        pbs = api.sim.dataset.tables["practitioner_businesses"]
        pb = next(
            p for p in pbs.values() if p["app_book_columns"] >= 2 and p["practitioner_id"] in (1, 4, 6, 7)
        )
        slot = await _free_slot(api, practitioner_id=pb["practitioner_id"], business_id=pb["business_id"])
        base = {**slot, "client_id": 1, "appointment_type_id": 2}
        assert (await api.post("/appointment", base)).status == 201
        assert (await api.post("/appointment", {**base, "column_number": 2})).status == 201
        assert (await api.post("/appointment", {**base, "column_number": 2})).status == 409

    @pytest.mark.parametrize(
        ("change", "fields"),
        [
            ({"duration": 7}, {"duration"}),
            ({"duration": 1445}, {"duration"}),
            ({"duration": "30"}, {"duration"}),
            ({"app_time": "2026-01-06 10:00"}, {"app_time"}),
            ({"client_id": 999999}, {"client_id"}),
            ({"appointment_type_id": 16}, {"appointment_type_id"}),
            ({"item_id": 1, "item_group_id": 1}, {"item_group_id"}),
            ({"column_number": 9}, {"column_number"}),
            ({"business_id": 99}, {"business_id"}),
            ({"resource_ids": [1, 99]}, {"resource_ids"}),
            ({"account_id": 999999}, {"account_id"}),
            ({"practitioner_business_id": 1}, {"practitioner_business_id"}),
        ],
    )
    async def test_invalid_bodies_are_422(self, api: Api, change: dict[str, Any], fields: set[str]) -> None:
        """Each documented rule violation is an INVALID_BODY naming the field."""
        slot = await _free_slot(api)
        reply = await api.post("/appointment", {**slot, "client_id": 1, "appointment_type_id": 2, **change})
        assert reply.status == 422
        assert reply.json["error"]["code"] == "INVALID_BODY"
        assert fields <= _fields(reply)

    async def test_missing_required_fields(self, api: Api) -> None:
        """Every missing required field is reported at once."""
        reply = await api.post("/appointment", {})
        assert _fields(reply) == {
            "app_time",
            "practitioner_id",
            "business_id",
            "duration",
            "client_id",
            "appointment_type_id",
        }
        empty = await api.call("POST", "/appointment")
        assert empty.status == 422
        async with api.session.post(
            api.sim.base_url + "/appointment",
            data=b"{not json",
            headers={"x-api-key": "sim-vendor-key", "A-api-key": "sim-account-key"},
        ) as resp:
            assert resp.status == 422
            assert (await resp.json())["error"]["validation"][0]["field"] == "body"

    async def test_older_revision_body(self, api: Api) -> None:
        """practitioner_business_id + column (older revision) books the same way."""
        slot = await _free_slot(api)
        link = next(
            p
            for p in api.sim.dataset.tables["practitioner_businesses"].values()
            if (p["practitioner_id"], p["business_id"]) == (slot["practitioner_id"], slot["business_id"])
        )
        body = {
            "app_time": slot["app_time"],
            "duration": slot["duration"],
            "practitioner_business_id": link["practitioner_business_id"],
            "column": 1,
            "client_id": 2,
            "appointment_type_id": 2,
            "hourly_billing": False,
            "sms_reminder": True,
        }
        reply = await api.post("/appointment", body)
        assert reply.status == 201
        assert (reply.json["practitioner_id"], reply.json["business_id"]) == (
            slot["practitioner_id"],
            slot["business_id"],
        )


class TestReserveFinalise:
    async def test_hold_blocks_then_finalises(self, api: Api) -> None:
        """A hold returns AppointmentLite, blocks the slot for others, and finalises into a booking."""
        slot = await _free_slot(api)
        held = await api.post("/reserve_appointment", slot)
        assert held.status == 201
        assert held.json["category"] == "Reserved"
        assert held.json["app_time"] == slot["app_time"]
        assert (await api.post("/reserve_appointment", slot)).status == 409
        assert (
            await api.post("/appointment", {**slot, "client_id": 1, "appointment_type_id": 2})
        ).status == 409
        aid = held.json["appointment_id"]
        final = await api.post(f"/appointment/{aid}", {"client_id": 5, "appointment_type_id": 2})
        assert final.status == 201
        assert final.json["appointment_id"] == aid
        assert final.json["client_id"] == 5
        assert (
            await api.post(f"/appointment/{aid}", {"client_id": 5, "appointment_type_id": 2})
        ).status == 404

    async def test_hold_expires_after_15_minutes(self, make_api: MakeApi, sim_clock: ManualClock) -> None:
        """After 900 s on the injected clock a hold is gone: finalise is a 404 and the slot is free again."""
        api = await make_api(clock=sim_clock)
        slot = await _free_slot(api)
        held = await api.post("/reserve_appointment", slot)
        sim_clock.advance(899)
        assert (await api.post("/reserve_appointment", slot)).status == 409
        sim_clock.advance(2)
        reply = await api.post(
            f"/appointment/{held.json['appointment_id']}", {"client_id": 1, "appointment_type_id": 2}
        )
        assert reply.status == 404
        assert (await api.post("/reserve_appointment", slot)).status == 201

    async def test_finalise_validation(self, api: Api) -> None:
        """Finalise requires client_id and appointment_type_id and checks item xor item group."""
        held = await api.post("/reserve_appointment", await _free_slot(api))
        aid = held.json["appointment_id"]
        missing = await api.post(f"/appointment/{aid}", {})
        assert _fields(missing) == {"client_id", "appointment_type_id"}
        both = await api.post(
            f"/appointment/{aid}",
            {"client_id": 1, "appointment_type_id": 2, "item_id": 1, "item_group_id": 2},
        )
        assert _fields(both) == {"item_group_id"}

    async def test_older_revision_reserve_response(self, api: Api) -> None:
        """An older-revision reserve answers with practitioner_business_id, column and an integer category."""
        slot = await _free_slot(api)
        link = next(
            p
            for p in api.sim.dataset.tables["practitioner_businesses"].values()
            if (p["practitioner_id"], p["business_id"]) == (slot["practitioner_id"], slot["business_id"])
        )
        body = {
            "app_time": slot["app_time"],
            "duration": slot["duration"],
            "practitioner_business_id": link["practitioner_business_id"],
            "column": 1,
            "width": 1,
        }
        reply = await api.post("/reserve_appointment", body)
        assert reply.status == 201
        assert reply.json["category"] == 0
        assert reply.json["column"] == 1
        assert reply.json["practitioner_business_id"] == link["practitioner_business_id"]

    async def test_mixed_revisions_are_422(self, api: Api) -> None:
        """A body using both revisions' names is rejected."""
        slot = await _free_slot(api)
        reply = await api.post("/reserve_appointment", {**slot, "practitioner_business_id": 1})
        assert reply.status == 422
        assert "practitioner_business_id" in _fields(reply)

    async def test_rule_out_reservation(self, api: Api) -> None:
        """rule_out=true creates a rule out that lists under /rule_out and blocks the slot."""
        slot = await _free_slot(api)
        reply = await api.post("/reserve_appointment", {**slot, "rule_out": True})
        assert reply.status == 201
        assert reply.json["category"] == "Rule Out"
        listed = await api.get(
            "/rule_out", params=[("q[]", f"appointment_id:={reply.json['appointment_id']}")]
        )
        assert listed.json["total_entries"] == 1
        assert (await api.post("/reserve_appointment", slot)).status == 409


class TestEditCancel:
    async def test_reschedule_and_clash(self, api: Api) -> None:
        """PATCH resizes and moves an appointment; growing or moving it onto another booking is a 409."""
        first = await _free_slot(api, 0)
        same_chair = {"practitioner_id": first["practitioner_id"], "business_id": first["business_id"]}
        second, third = await _free_slot(api, 1, **same_chair), await _free_slot(api, 2, **same_chair)
        a = (await api.post("/appointment", {**first, "client_id": 1, "appointment_type_id": 2})).json
        b = (await api.post("/appointment", {**second, "client_id": 2, "appointment_type_id": 2})).json
        shrunk = await api.patch(
            f"/appointment/{a['appointment_id']}",
            {"duration": 15, "reason": "Short", "appointment_reschedule_reason_id": 1},
        )
        assert shrunk.status == 200
        assert shrunk.json["duration"] == 15
        assert shrunk.json["modified"] >= a["modified"]
        # The spec lists no 409 for editAppointment; the simulator answers a clash like create/reserve.
        grown = await api.call(
            "PATCH", f"/appointment/{a['appointment_id']}", body={"duration": 60}, validate=False
        )
        assert grown.status == 409
        onto = await api.call(
            "PATCH",
            f"/appointment/{b['appointment_id']}",
            body={"app_time": first["app_time"]},
            validate=False,
        )
        assert onto.status == 409
        moved = await api.patch(f"/appointment/{a['appointment_id']}", {"app_time": third["app_time"]})
        assert moved.status == 200
        assert moved.json["app_time"] == third["app_time"]
        assert (
            await api.patch(f"/appointment/{b['appointment_id']}", {"app_time": first["app_time"]})
        ).status == 200

    async def test_edit_item_and_validation(self, api: Api) -> None:
        """Switching to an item group drops item_id; bad values are 422; unknown ids are 404."""
        slot = await _free_slot(api)
        a = (await api.post("/appointment", {**slot, "client_id": 1, "appointment_type_id": 2})).json
        switched = await api.patch(f"/appointment/{a['appointment_id']}", {"item_group_id": 1})
        assert switched.json["item_group_id"] == 1
        assert "item_id" not in switched.json
        assert (await api.patch(f"/appointment/{a['appointment_id']}", {"duration": 3})).status == 422
        assert (
            await api.patch(f"/appointment/{a['appointment_id']}", {"column": 1, "column_number": 1})
        ).status == 422
        assert (await api.patch("/appointment/99999999", {"duration": 30})).status == 404

    async def test_cancel_recorded_and_silent(self, api: Api) -> None:
        """Cancelled appointments list by default; silent removals only with include_deletions."""
        one, two = await _free_slot(api, 0), await _free_slot(api, 1)
        a = (await api.post("/appointment", {**one, "client_id": 1, "appointment_type_id": 2})).json[
            "appointment_id"
        ]
        b = (await api.post("/appointment", {**two, "client_id": 1, "appointment_type_id": 2})).json[
            "appointment_id"
        ]
        assert (
            await api.post(f"/appointment/{a}/cancel", {"appointment_cancellation_reason_id": 2})
        ).status == 204
        assert (await api.post(f"/appointment/{b}/cancel", {"record_as_cancelled": False})).status == 204
        assert (await api.get(f"/appointment/{a}")).status == 404
        assert (await api.post(f"/appointment/{a}/cancel", {})).status == 404
        got = await api.get(f"/cancelled_appointment/{a}")
        assert got.json["cancellation"] is True
        assert got.json["reason"] == "Work commitments"
        default = await api.get(
            "/cancelled_appointment", params={"page_size": "100", "sort_by": "-cancellation_time"}
        )
        listed = {c["appointment_id"] for c in default.json["cancelled_appointments"]}
        assert a in listed
        assert b not in listed
        every = await api.get(
            "/cancelled_appointment",
            params={"include_deletions": "true", "page_size": "100", "sort_by": "-cancellation_time"},
        )
        assert {a, b} <= {c["appointment_id"] for c in every.json["cancelled_appointments"]}
        assert (await _free_slot(api, 0)) == one
        assert (await api.post(f"/appointment/{a}/cancel", {"record_as_cancelled": "yes"})).status == 404


class TestNotesAndGroups:
    async def test_notes_do_not_block(self, api: Api) -> None:
        """A note is created (201), lists under /note, and the slot stays bookable."""
        slot = await _free_slot(api)
        note = await api.post("/note", {**slot, "description": "Staff meeting", "bg_colour": "#FF0000"})
        assert note.status == 201
        assert note.json["category"] == "Note"
        assert note.json["bg_colour"] == "#FF0000"
        assert (await api.get(f"/note/{note.json['appointment_id']}")).status == 200
        assert (await api.post("/note", {**slot, "description": "x", "font_colour": "red"})).status == 422
        assert (
            await api.post("/appointment", {**slot, "client_id": 1, "appointment_type_id": 2})
        ).status == 201

    async def test_group_membership(self, api: Api) -> None:
        """Members can be added until the class is full; duplicates and non-members are 422."""
        t = api.sim.dataset.tables
        group = next(i for i, r in t["diary"].items() if r["_kind"] == "group")
        path = f"/group_appointment/{group}"
        current = {m["client_id"] for m in t["group_members"].values() if m["appointment_id"] == group}
        outsiders = [c for c in t["patients"] if c not in current]
        size = t["diary"][group]["_max_size"]
        for client in outsiders[: size - len(current)]:
            added = await api.post(f"{path}/add_group_member", {"client_id": client})
            assert added.status == 201
            assert added.json["appointment_id"] == group
        full = await api.post(f"{path}/add_group_member", {"client_id": outsiders[-1]})
        assert full.status == 422
        dup = await api.post(f"{path}/add_group_member", {"client_id": outsiders[0]})
        assert dup.status == 422
        members = await api.get(f"{path}/appointment_client", params={"page_size": "100"})
        assert members.json["total_entries"] == size
        assert (await api.post(f"{path}/remove_group_member", {"client_id": outsiders[0]})).status == 204
        assert (await api.post(f"{path}/remove_group_member", {"client_id": outsiders[0]})).status == 422
        assert (await api.post("/group_appointment/1/add_group_member", {"client_id": 1})).status == 404
