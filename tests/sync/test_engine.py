"""The sync engine against the simulator: incremental runs, changes during a walk, deletions, resume."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from pracsuite_async import ConflictError, PracSuiteClient
from pracsuite_async._transport import AiohttpTransport, RawResponse
from pracsuite_async.simulator import Simulator
from pracsuite_async.sync import RESOURCES, Checkpoint, SqliteSink, sync
from tests.sync.conftest import WallClock, dump, make_client, served_appointments

OVERLAP = timedelta(seconds=60)


class _KilledError(Exception):
    """Stands for the process dying in the middle of a walk."""


class HookTransport:
    """Forwards to aiohttp, calling ``before(path, params)`` first (to mutate or fail mid-walk)."""

    def __init__(self, base_url: str, before: Callable[[str, dict[str, str]], Awaitable[None]]) -> None:
        self._inner = AiohttpTransport(base_url)
        self._before = before

    async def send(
        self, method: str, path: str, *, params: list[tuple[str, str]], headers: Mapping[str, str],
        body: bytes | None, timeout: float | None,
    ) -> RawResponse:
        await self._before(path, dict(params))
        return await self._inner.send(method, path, params=params, headers=headers, body=body, timeout=timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _server_state(client: PracSuiteClient) -> dict[int, str]:
    """Every appointment as the API lists it now, in the mirror's JSON form."""
    from pracsuite_async.sync._engine import make_row

    appts = await client.appointments.list(sort_by=["appointment_id"]).collect()
    rows = [make_row(a, RESOURCES["appointments"]) for a in appts]
    return {r.id: r.data for r in rows}


async def _change_status(client: PracSuiteClient, candidates: list[int]) -> int:
    """Change the status of the first candidate the simulator lets us edit; return its id."""
    statuses = [s.appointment_status_id for s in await client.appointment_statuses.list().collect()]
    for appointment_id in candidates:
        current = await client.appointments.get(appointment_id)
        other = next(s for s in statuses if s is not None and s != current.appointment_status_id)
        try:
            await client.appointments.update(appointment_id, appointment_status_id=other)
        except ConflictError:  # generated diaries have clashes; any edit of those is refused
            continue
        return appointment_id
    msg = "no editable appointment"
    raise AssertionError(msg)


async def test_first_run_mirrors_everything_second_writes_nothing(
    sim: Simulator, client: PracSuiteClient, wall: WallClock, tmp_path: Path
) -> None:
    """A second run over unchanged data sends one request per walk and inserts, updates and deletes nothing."""
    db = tmp_path / "m.sqlite"
    first = await sync(client, ["appointments", "patients"], SqliteSink(db), clock=wall.utc)
    assert first.complete
    assert set(dump(db, "appointments")) == served_appointments(sim)
    assert first.inserted == len(served_appointments(sim)) + len(dump(db, "patients"))
    wall.advance(300)
    second = await sync(client, ["appointments", "patients"], SqliteSink(db), clock=wall.utc)
    assert (second.inserted, second.updated, second.deleted, second.fetched) == (0, 0, 0, 0)
    # appointments: changes + deletion feed; patients: changes. One page each.
    assert second.requests == 3


async def test_overlap_is_refetched_but_not_rewritten(
    sim: Simulator, client: PracSuiteClient, wall: WallClock, tmp_path: Path
) -> None:
    """A change inside the overlap window is fetched again by the next run and counted unchanged."""
    db = tmp_path / "m.sqlite"
    await sync(client, ["appointments"], SqliteSink(db), clock=wall.utc, overlap=OVERLAP)
    wall.advance(10)
    await _change_status(client, sorted(served_appointments(sim)))
    wall.advance(OVERLAP.total_seconds() + 1)
    run = await sync(client, ["appointments"], SqliteSink(db), clock=wall.utc, overlap=OVERLAP)
    assert (run.fetched, run.updated, run.inserted) == (1, 1, 0)
    wall.advance(1)
    again = await sync(client, ["appointments"], SqliteSink(db), clock=wall.utc, overlap=OVERLAP)
    assert (again.fetched, again.resources[0].unchanged, again.updated) == (1, 1, 0)
    assert dump(db, "appointments") == await _server_state(client)


async def test_changes_during_the_walk_are_caught_by_the_next_run(
    sim: Simulator, client: PracSuiteClient, wall: WallClock, tmp_path: Path
) -> None:
    """Records edited and removed between pages of a walk end up right in the mirror after the next run."""
    db = tmp_path / "m.sqlite"
    done = False
    removed = -1

    async def mutate(path: str, params: dict[str, str]) -> None:
        nonlocal done, removed
        if path == "/appointment" and params.get("page") == "3" and not done:
            done = True
            mirrored = sorted(dump(db, "appointments"))  # pages 1 and 2, committed
            pending = sorted(served_appointments(sim) - set(mirrored))
            await _change_status(client, mirrored[5:])  # leaves the window: later pages shift
            await _change_status(client, pending[::-1])
            removed = mirrored[50]
            await client.appointments.cancel(removed)

    transport = HookTransport(sim.base_url, mutate)
    async with make_client(sim, transport=transport, page_window=1) as walker:
        first = await sync(walker, ["appointments"], SqliteSink(db), clock=wall.utc, overlap=OVERLAP)
        assert done
        assert first.complete  # the shifted walk restarted from its last consistent page
        wall.advance(OVERLAP.total_seconds() + 1)
        second = await sync(walker, ["appointments"], SqliteSink(db), clock=wall.utc, overlap=OVERLAP)
    assert second.complete
    assert (second.deleted, second.updated, second.inserted) == (1, 1, 1)
    assert dump(db, "appointments") == await _server_state(client)
    assert removed not in dump(db, "appointments")


async def test_a_failed_run_resumes_from_its_last_committed_page(
    sim: Simulator, wall: WallClock, tmp_path: Path
) -> None:
    """A run that dies after some pages resumes from their checkpoint and ends identical to a clean run."""
    fail_at = {"page": "4"}

    async def explode(path: str, params: dict[str, str]) -> None:
        if path == "/appointment" and params.get("page") == fail_at.get("page"):
            raise _KilledError

    db, clean = tmp_path / "m.sqlite", tmp_path / "clean.sqlite"
    async with make_client(sim, transport=HookTransport(sim.base_url, explode), page_window=1) as c:
        with pytest.raises(_KilledError):
            await sync(c, ["appointments"], SqliteSink(db), clock=wall.utc)
        stored = await _checkpoint(db)
        assert stored.since is not None  # three pages committed with their checkpoint
        assert len(dump(db, "appointments")) == 300
        fail_at.clear()
        resumed = await sync(c, ["appointments"], SqliteSink(db), clock=wall.utc)
        await sync(c, ["appointments"], SqliteSink(clean), clock=wall.utc)
    assert resumed.inserted == len(served_appointments(sim)) - 300
    assert dump(db, "appointments") == dump(clean, "appointments")


async def _checkpoint(db: Path) -> Checkpoint:
    sink = SqliteSink(db)
    await sink.open()
    try:
        return await sink.checkpoint("default", RESOURCES["appointments"])
    finally:
        await sink.aclose()


async def test_every_table_row_syncs_against_the_simulator(
    client: PracSuiteClient, wall: WallClock, tmp_path: Path
) -> None:
    """Every row of RESOURCES syncs completely and a second run changes nothing."""
    db = tmp_path / "m.sqlite"
    first = await sync(client, list(RESOURCES), SqliteSink(db), clock=wall.utc)
    assert first.complete
    assert all(r.inserted == r.fetched for r in first.resources)
    second = await sync(client, list(RESOURCES), SqliteSink(db), clock=wall.utc)
    assert second.inserted == second.updated == second.deleted == 0


async def test_unknown_resource_is_rejected(client: PracSuiteClient, tmp_path: Path) -> None:
    """A name outside RESOURCES is a ValueError naming the choices, before anything is sent."""
    with pytest.raises(ValueError, match="appointments"):
        await sync(client, ["nonsense"], SqliteSink(tmp_path / "m.sqlite"))
    assert client.stats.requests_sent == 0


def test_rows_name_real_operations() -> None:
    """Every row's operation is a paginated list with an id, and incremental rows can filter by their marker."""
    for row in RESOURCES.values():
        endpoint = row.endpoint
        assert endpoint.paginated, row.name
        assert endpoint.sortable, row.name
        assert endpoint.id_field, row.name
        if row.mode == "incremental":
            assert row.marker_filter in endpoint.filters, row.name
        if row.deletions is not None:
            assert json.dumps(dict(row.deletions.args))  # plain values only
