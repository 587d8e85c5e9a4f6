"""Every operation of the spec, exercised against a running simulator with response validation."""

from __future__ import annotations

from typing import Any

from pracsuite_async.simulator import ROUTES, SimulatorConfig, generate_dataset
from tests.simulator.conftest import Api

TODAY = SimulatorConfig().today.isoformat()
WEEK = "2026-01-12"


def _first(rows: dict[int, dict[str, Any]], **match: Any) -> int:
    return next(i for i, r in rows.items() if all(r.get(k) == v for k, v in match.items()))


def _spec_operations(spec: dict[str, Any]) -> set[tuple[str, str, str]]:
    found = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                found.add((op["operationId"], method.upper(), path))
    return found


class TestOperationTable:
    def test_table_matches_spec(self, spec: dict[str, Any]) -> None:
        """The simulator routes exactly the spec's 80 operations, with the same methods and paths."""
        assert set(ROUTES) == _spec_operations(spec)
        assert len(ROUTES) == 80


async def _reads(api: Api) -> None:
    t = api.sim.dataset.tables
    appt = next(i for i, r in t["diary"].items() if r["_kind"] == "appointment" and r["resource_ids"])
    note = next(i for i, r in t["diary"].items() if r["_kind"] == "note" and r["resource_ids"])
    group = next(i for i, r in t["diary"].items() if r["_kind"] == "group")
    invoice = t["invoices"][1]
    client, account = invoice["client_id"], invoice["account_id"]
    payment = next(iter(t["payments"]))
    folder = next(r["_folder_id"] for r in t["attachments"].values() if r["_folder_id"])
    attachment = next(iter(t["attachments"]))
    for path in (
        "/appointment_book",
        "/appointment",
        f"/appointment/{appt}",
        "/appointment_type/1/appointment",
        "/business/1/appointment",
        "/profession/1/appointment",
        f"/patient/{client}/appointment",
        "/practitioner/1/appointment",
        "/resource/1/appointment",
        "/note",
        f"/note/{note}",
        f"/note/{note}/resource",
        "/rule_out",
        f"/group_appointment/{group}",
        f"/group_appointment/{group}/resource",
        f"/group_appointment/{group}/appointment_client",
        "/cancelled_appointment",
        f"/cancelled_appointment/{next(iter(t['cancelled']))}",
        "/cancellation_reason",
        "/reschedule_reason",
        "/appointment_type",
        "/appointment_type/2",
        "/profession/1/appointment_type",
        "/appointment_status",
        "/business",
        "/business/3",
        "/fee_category",
        "/item",
        "/item/1",
        "/item_group/1/item",
        "/item_group",
        "/item_group/1",
        "/patient",
        f"/patient/{client}",
        f"/patient/{client}/account",
        f"/patient/{client}/account/{account}",
        f"/patient/{client}/account/{account}/invoice",
        f"/invoice/{invoice['invoice_id']}",
        f"/patient/{client}/invoice",
        f"/patient/{client}/account/{account}/payment",
        f"/payment/{payment}",
        f"/patient/{client}/patient_attachment",
        f"/patient_attachment/{attachment}",
        f"/patient_attachment/{attachment}/presign_url",
        f"/patient/{client}/patient_attachment_folder",
        f"/patient_attachment_folder/{folder}",
        f"/patient_attachment_folder/{folder}/patient_attachment",
        "/patient_contact",
        "/patient_contact/1",
        f"/patient/{t['contacts'][1]['client_id']}/patient_contact",
        "/practitioner",
        "/practitioner/1",
        "/business/1/practitioner",
        "/profession/1/practitioner",
        "/profession",
        "/profession/1",
        "/practitioner/1/profession",
        "/pronoun",
        "/sex",
        "/resource",
        "/resource/1",
        f"/appointment/{appt}/resource",
        "/appointment_type/1/resource",
        "/tag_category",
    ):
        reply = await api.get(path)
        assert reply.status == 200, (path, reply)
    reply = await api.get(f"/patient_attachment/{attachment}/content")
    assert reply.status == 307
    search = {"from": TODAY, "to": WEEK, "appointment_type_id": "16"}
    for path in ("/available_group_appointments", "/next_available_group_appointment"):
        reply = await api.get(path, params=search)
        assert reply.status == 200, path
        assert reply.json["available_times"], path
    search["appointment_type_id"] = "2"
    for path in ("/available_appointments", "/next_available_appointment"):
        reply = await api.get(path, params=search)
        assert reply.status == 200, path
        assert reply.json["available_times"], path


async def _writes(api: Api) -> None:
    t = api.sim.dataset.tables
    slots = (
        await api.get(
            "/available_appointments", params={"from": TODAY, "to": WEEK, "appointment_type_id": "2"}
        )
    ).json["available_times"]
    where = {
        k: slots[0][k] for k in ("app_time", "practitioner_id", "business_id", "duration", "column_number")
    }
    created = await api.post("/appointment", {**where, "client_id": 1, "appointment_type_id": 2})
    assert created.status == 201, created
    aid = created.json["appointment_id"]
    held = await api.post("/reserve_appointment", {k: slots[1][k] for k in where})
    assert held.status == 201, held
    final = await api.post(
        f"/appointment/{held.json['appointment_id']}", {"client_id": 2, "appointment_type_id": 2}
    )
    assert final.status == 201, final
    edited = await api.patch(f"/appointment/{aid}", {"appointment_status_id": 2})
    assert edited.status == 200
    assert edited.json["appointment_status_id"] == 2
    removed = await api.call("POST", f"/appointment/{aid}/cancel", body={"record_as_cancelled": True})
    assert removed.status == 204
    note = await api.post("/note", {**where, "description": "Call back"})
    assert note.status == 201, note
    group = next(i for i, r in t["diary"].items() if r["_kind"] == "group" and r["app_time"] >= TODAY)
    members = {m["client_id"] for m in t["group_members"].values() if m["appointment_id"] == group}
    newcomer = next(c for c in t["patients"] if c not in members)
    added = await api.post(f"/group_appointment/{group}/add_group_member", {"client_id": newcomer})
    assert added.status == 201, added
    dropped = await api.post(f"/group_appointment/{group}/remove_group_member", {"client_id": newcomer})
    assert dropped.status == 204
    patient = await api.post("/patient", {"first_name": "Ada", "surname": "Lovelace"})
    assert patient.status == 201, patient
    changed = await api.patch(f"/patient/{patient.json['client_id']}", {"mobile": "0400 000 000"})
    assert changed.status == 200
    assert changed.json["mobile"] == "0400 000 000"
    upload = await api.post(
        f"/patient/{patient.json['client_id']}/patient_attachment", {"file_name": "a.pdf"}
    )
    assert upload.status == 200
    assert upload.json["fields"]["key"].endswith("/a.pdf")


async def test_every_operation_answers_per_spec(api: Api, spec: dict[str, Any]) -> None:
    """All 80 operations answer with a documented status and a body that validates against the spec."""
    await _reads(api)
    await _writes(api)
    seen = set(api.sim.stats.by_operation)
    assert {op for op, _, _ in _spec_operations(spec)} <= seen
    assert api.sim.stats.by_status.keys() <= {200, 201, 204, 307}


async def test_book_entries_of_every_kind_validate(api: Api) -> None:
    """Appointment-book pages holding notes, rule outs and classes validate, with kind-specific links."""
    diary = api.sim.dataset.tables["diary"]
    first_other = min(i for i, r in diary.items() if r["_kind"] != "appointment")
    reply = await api.get(
        "/appointment_book", params=[("q[]", f"appointment_id:>={first_other}"), ("page_size", "100")]
    )
    kinds = {diary[e["appointment_id"]]["_kind"]: e["links"]["self"] for e in reply.json["data"]}
    assert set(kinds) == {"note", "rule_out", "group"}
    assert "/group_appointment/" in kinds["group"]
    assert "/note/" in kinds["note"]
    assert "/rule_out?" in kinds["rule_out"]


def test_list_keys_match_spec(spec: dict[str, Any]) -> None:
    """Each list view uses the list key of its operation's 200 schema."""
    from pracsuite_async.simulator._views import LIST_VIEWS

    by_op = {
        op["operationId"]: op
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
    }
    for view in LIST_VIEWS:
        schema = by_op[view.op]["responses"]["200"]["content"]["application/json"]["schema"]
        array_keys = [k for k, v in schema["properties"].items() if v.get("type") == "array"]
        assert array_keys == [view.list_key], view.op


def test_filters_match_spec(spec: dict[str, Any]) -> None:
    """Each list view accepts exactly the q[] fields, types and operators the spec documents."""
    from pracsuite_async.simulator._query import ORDERED
    from pracsuite_async.simulator._views import LIST_VIEWS

    by_op = {
        op["operationId"]: op
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
    }
    for view in LIST_VIEWS:
        documented = {}
        for param in by_op[view.op].get("parameters", []):
            for f in param.get("x-pracsuite-filters", []):
                documented[f["field"]] = (f["format"], tuple(f.get("operators") or ORDERED))
        mine = {name: (d.kind, d.ops()) for name, d in view.filters.items()}
        assert mine == documented, view.op


def test_generated_records_fit_declared_fields() -> None:
    """Every public scalar field of every generated record is a declared (sortable) field."""
    from pracsuite_async.simulator._views import FIELDS

    ds = generate_dataset(1, 300)
    for table, rows in ds.tables.items():
        if table in ("practitioner_businesses",):
            continue
        for rec in rows.values():
            scalars = {k for k, v in rec.items() if k[0] != "_" and not isinstance(v, list | dict)}
            assert scalars <= set(FIELDS[table]), (table, scalars - set(FIELDS[table]))
