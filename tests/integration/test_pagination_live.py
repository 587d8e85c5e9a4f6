"""List walks over real sockets: completeness, order, unordered mode, early exit and ``max_items``."""

from __future__ import annotations

import asyncio
import math

from pracsuite_async import PracSuiteClient
from pracsuite_async.simulator import Simulator
from tests.integration.conftest import MakeClient, MakeSim


def _page_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("pracsuite-page-") and not t.done()]


async def _settle() -> None:
    """Let asyncio finalise abandoned async generators (their ``aclose`` runs as a task)."""
    for _ in range(100):
        if not _page_tasks():
            return
        await asyncio.sleep(0)


async def test_ordered_walk_yields_every_record_once_in_id_order(
    make_sim: MakeSim, make_client: MakeClient
) -> None:
    """A concurrent walk over many small pages yields every patient exactly once, in id order."""
    sim = await make_sim(records=2000)
    client = make_client(sim)
    pager = client.patients.list(page_size=7)
    ids = [p.client_id async for p in pager]
    assert ids == sorted(sim.dataset.tables["patients"])
    assert pager.total_entries == len(ids) == 200
    assert sim.stats.by_operation["listPatients"] == math.ceil(200 / 7)


async def test_ordered_walk_of_a_large_list(make_sim: MakeSim, make_client: MakeClient) -> None:
    """Walking two thousand appointments gives strictly ascending ids and the server's total."""
    sim = await make_sim(records=2000)
    client = make_client(sim, page_window=4)
    pager = client.appointments.list(page_size=100)
    items = await pager.collect()
    ids = [a.appointment_id for a in items]
    assert ids == sorted(set(ids))
    assert len(ids) == pager.total_entries
    assert pager.pages_fetched == sim.stats.by_operation["listAppointments"] == math.ceil(len(ids) / 100)


async def test_unordered_walk_returns_the_same_set(make_sim: MakeSim, make_client: MakeClient) -> None:
    """``ordered=False`` yields pages as they arrive but the same records, each once."""
    sim = await make_sim(records=1000)
    client = make_client(sim)
    ordered = [a.appointment_id async for a in client.appointment_book.list(page_size=30)]
    unordered = [a.appointment_id async for a in client.appointment_book.list(page_size=30, ordered=False)]
    assert len(unordered) == len(set(unordered)) == len(ordered)
    assert set(unordered) == set(ordered)


async def test_pages_are_full_until_the_last(client: PracSuiteClient) -> None:
    """``pages()`` yields numbered pages, all full except possibly the last, adding up to the total."""
    pager = client.appointments.list(page_size=40)
    pages = [page async for page in pager.pages()]
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    assert all(len(p.items) == 40 for p in pages[:-1])
    assert 0 < len(pages[-1].items) <= 40
    assert sum(len(p.items) for p in pages) == pages[0].total_entries


async def test_break_cancels_prefetched_pages(make_sim: MakeSim, make_client: MakeClient) -> None:
    """Breaking out of ``async for`` cancels the in-flight prefetches, requests no further pages, and the
    client works on."""
    # With 0.2 s of latency the prefetches cannot finish on their own while the walk is being closed.
    sim = await make_sim(latency=0.2)
    client = make_client(sim)
    seen = []
    async for appointment in client.appointments.list(page_size=10):
        seen.append(appointment)
        if len(seen) == 15:
            break
    await _settle()
    assert _page_tasks() == []
    # Admission is counted on arrival, and a request written before the break may arrive
    # after it on a loaded machine: bound every page request, late ones included.
    # Page 1, then at most twice the window held (in flight, or fetched and waiting).
    most = 1 + 2 * client.page_window
    assert sim.stats.accepted <= most
    again = await client.appointments.get(seen[0].appointment_id or 0)
    assert again.appointment_id == seen[0].appointment_id
    assert sim.stats.by_operation["getAppointment"] == 1
    assert sim.stats.by_operation["listAppointments"] <= most


async def test_async_with_closes_deterministically(client: PracSuiteClient) -> None:
    """Leaving an ``async with`` pager block early leaves no page fetch running, with no extra loop turns."""
    pager = client.appointment_book.list(page_size=10)
    first = []
    async with pager as items:
        async for item in items:
            first.append(item)
            if len(first) == 3:
                break
        assert _page_tasks() != [], "prefetches are in flight while the block is open"
    assert len(first) == 3
    assert _page_tasks() == []


async def test_max_items_stops_early(client: PracSuiteClient, sim: Simulator) -> None:
    """``max_items`` returns exactly the first N records and never requests pages it cannot need."""
    everything = await client.appointments.list(page_size=100).collect()
    before = sim.stats.by_operation["listAppointments"]
    capped = await client.appointments.list(page_size=10, max_items=25).collect()
    assert [a.appointment_id for a in capped] == [a.appointment_id for a in everything[:25]]
    assert sim.stats.by_operation["listAppointments"] - before == 3


async def test_max_items_zero_sends_nothing(client: PracSuiteClient, sim: Simulator) -> None:
    """``max_items=0`` yields nothing without a single request."""
    assert await client.appointments.list(max_items=0).collect() == []
    assert sim.stats.total == 0
