"""Every list walk and an export against a simulator that disagrees with the client like a real server might.

Each mode (``SimulatorConfig`` options: record order, ``sort_by`` ignored or JSON-only, ``app_time``
with ``Z``, optional fields absent, unknown fields, ``page`` ignored) is compared with a default
simulator over the same data: every record must come back exactly once, or, where the server makes
that impossible (``page`` ignored), the walk must fail with :class:`PaginationError`.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pracsuite_async import OPERATIONS, PaginationError, PracSuiteClient
from pracsuite_async._endpoints import Endpoint
from pracsuite_async.cli._app import app
from pracsuite_async.simulator import Simulator
from tests.integration.conftest import ACCOUNT_KEY, VENDOR_KEY, MakeClient, MakeSim

RECORDS = 150
PAGE_SIZE = 20

#: Lists served by the generic list handler, i.e. every walk over stored records. The two
#: availability searches compute slots on the fly and take required query arguments.
WALKS = sorted(
    op
    for op, e in OPERATIONS.items()
    if e.paginated and op not in {"listAvailableAppointments", "listAvailableGroupAppointments"}
)

MODES = {
    "descending": {"order": "descending"},
    "shuffled": {"order": "shuffled"},
    "sort-ignored": {"order": "shuffled", "ignore_sort": True},
    "json-sort-only": {"order": "descending", "sort_wire": "json"},
    "app-time-z": {"app_time_z": True},
    "optional-absent": {"omit_optional": True},
    "unknown-fields": {"unknown_fields": True},
}
SORT_MODES = {"sort-ignored", "json-sort-only"}
MODE_PARAMS = [
    pytest.param(name) for name in MODES
]


def _most_common(values: Any) -> Any:
    return Counter(values).most_common(1)[0][0]


def path_args(op_id: str, tables: dict[str, dict[int, dict[str, Any]]]) -> dict[str, int]:
    """Path arguments for ``op_id`` that select a well-populated list in the simulated clinic."""
    diary = [r for r in tables["diary"].values() if r["_kind"] == "appointment"]
    by_kind = {
        "listResourcesByNote": "note",
        "listResourcesByGroupAppointment": "group",
        "listResourcesByAppointment": "appointment",
    }
    args: dict[str, int] = {}
    for name in OPERATIONS[op_id].path_params:
        if name == "appointment_id" and op_id == "listGroupAppointmentMembers":
            args[name] = _most_common(r["appointment_id"] for r in tables["group_members"].values())
        elif name == "appointment_id":
            kind = by_kind[op_id]
            args[name] = next(
                i for i, r in tables["diary"].items() if r["_kind"] == kind and r.get("resource_ids")
            )
        elif name == "resource_id":
            args[name] = _most_common(i for r in diary for i in r.get("resource_ids") or ())
        elif name == "account_id" or (name == "client_id" and "account_id" in OPERATIONS[op_id].path_params):
            client, account = _most_common((r["client_id"], r["account_id"]) for r in tables["invoices"].values())
            args |= {"client_id": client, "account_id": account}
        elif name == "attachment_client_folder_id":
            args[name] = _most_common(r["_folder_id"] for r in tables["attachments"].values() if r["_folder_id"])
        elif name == "item_group_id":
            args[name] = next(i for i, r in tables["item_groups"].items() if r["item_ids"])
        else:
            args[name] = _most_common(r[name] for r in diary if r.get(name))
    return args


def identity(endpoint: Endpoint[Any], item: Any) -> object:
    """What makes a record itself: its id, or (for id-less models) the server's ``row_num`` for it."""
    name = endpoint.id_field or "row_num"
    value = getattr(item, name)
    assert value is not None, name
    return value


async def walk(client: PracSuiteClient, sim: Simulator, op_id: str, **kwargs: Any) -> list[object]:
    """Every record of one list operation, walked through the public resource method."""
    endpoint = OPERATIONS[op_id]
    method = getattr(getattr(client, endpoint.namespace), endpoint.method_name)
    args = path_args(op_id, sim.dataset.tables)
    kwargs.setdefault("page_size", PAGE_SIZE)
    pager = method(*args.values(), **kwargs)
    return [identity(endpoint, item) async for item in pager]


def sort_variants(op_id: str) -> list[dict[str, Any]]:
    """No sort, and (for sortable lists) a sort on the first documented field."""
    endpoint = OPERATIONS[op_id]
    return [{}, {"sort_by": [endpoint.sort_fields[0]]}] if endpoint.sortable else [{}]


@pytest.mark.parametrize("mode", MODE_PARAMS)
async def test_every_list_walk_yields_every_record_once(
    make_sim: MakeSim, make_client: MakeClient, mode: str
) -> None:
    """Under each disagreeing mode every list walk returns exactly the records of an agreeing server, once each."""
    agreeing = await make_sim(records=RECORDS)
    disagreeing = await make_sim(records=RECORDS, **MODES[mode])
    plain, other = make_client(agreeing), make_client(disagreeing)
    walked = 0
    for op_id in WALKS:
        expected = await walk(plain, agreeing, op_id)
        assert len(expected) == len(set(map(str, expected))), op_id
        # Sorted walks too where the mode is about sorting; the order modes cover plain walks.
        for kwargs in sort_variants(op_id) if mode in SORT_MODES else [{}]:
            got = await walk(other, disagreeing, op_id, **kwargs)
            assert sorted(map(str, got)) == sorted(map(str, expected)), (op_id, kwargs)
            walked += len(got)
    assert walked > 2 * RECORDS


async def test_orders_really_differ(make_sim: MakeSim, make_client: MakeClient) -> None:
    """The order modes change what the server sends, so the walks above are not trivially ordered."""
    orders = {}
    for order in ("id", "descending", "shuffled"):
        sim = await make_sim(records=RECORDS, order=order)
        orders[order] = await walk(make_client(sim), sim, "listAppointments")
    assert orders["id"] == sorted(orders["id"])  # type: ignore[type-var]
    assert orders["descending"] == orders["id"][::-1]
    assert orders["shuffled"] not in (orders["id"], orders["descending"])
    assert sorted(orders["shuffled"]) == orders["id"]  # type: ignore[type-var]


async def test_sort_is_honoured_unless_ignored(make_sim: MakeSim, make_client: MakeClient) -> None:
    """A JSON-only server sorts by the client's JSON-array sort_by; an ignoring one does not."""
    json_only = await make_sim(records=RECORDS, order="shuffled", sort_wire="json")
    ignoring = await make_sim(records=RECORDS, order="shuffled", ignore_sort=True)
    client = make_client(json_only)
    times = [a.app_time async for a in client.appointments.list(sort_by=["app_time"])]
    assert times == sorted(times)  # type: ignore[type-var]
    ids = [a.appointment_id async for a in make_client(ignoring).appointments.list(sort_by=["appointment_id"])]
    assert ids != sorted(ids)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("op_id", ["listAppointments", "listPatients", "listAppointmentBook"])
async def test_page_ignored_raises_pagination_error(
    make_sim: MakeSim, make_client: MakeClient, op_id: str
) -> None:
    """A server that answers every page with page 1 makes the walk raise, not return one page as the whole."""
    sim = await make_sim(records=RECORDS, ignore_page=True)
    with pytest.raises(PaginationError) as info:
        await walk(make_client(sim), sim, op_id, page_size=5)
    assert info.value.page == 2


def _export(sim: Simulator, out: Path) -> Any:
    runner = CliRunner(env={"PRACSUITE_VENDOR_KEY": VENDOR_KEY, "PRACSUITE_ACCOUNT_KEY": ACCOUNT_KEY})
    args = ["export", "appointments", "--out", str(out), "--base-url", sim.base_url, "--quiet"]
    args += ["--page-size", "9", "--rate", "10000"]
    return runner.invoke(app, args)


@pytest.mark.parametrize("mode", [*MODE_PARAMS, pytest.param("page-ignored")])
async def test_export_under_each_mode(make_sim: MakeSim, mode: str, tmp_path: Path) -> None:
    """``pracsuite export appointments`` writes every appointment once in each mode; page-ignored fails loudly."""
    options = {"ignore_page": True} if mode == "page-ignored" else MODES[mode]
    sim = await make_sim(records=RECORDS, **options)
    out = tmp_path / "appointments.jsonl"
    # The CLI runs its own event loop (asyncio.run), so it runs in a thread while this loop serves.
    result = await asyncio.to_thread(_export, sim, out)
    if mode == "page-ignored":
        assert result.exit_code == 1
        assert "PaginationError" in result.stderr
        assert not out.exists()
        return
    assert result.exit_code == 0, result.stderr
    ids = [json.loads(line)["appointment_id"] for line in out.read_text().splitlines()]
    diary = sim.dataset.tables["diary"]
    assert sorted(ids) == sorted(i for i, r in diary.items() if r["_kind"] == "appointment")
