"""Full walks against a small hostile server: deletions apply only when the listing held still."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from pracsuite_async import PracSuiteClient
from pracsuite_async.sync import RESOURCES, SqliteSink, sync
from tests.sync.conftest import WallClock, dump


@attrs.define
class Lookup:
    """The server's state: the sexes it lists, and whether page 2 reports a different count."""

    ids: list[int] = attrs.field(factory=lambda: list(range(1, 151)))
    shifting: bool = False
    requests: list[dict[str, str]] = attrs.field(factory=list)


@pytest_asyncio.fixture
async def lookup() -> AsyncIterator[tuple[Lookup, str]]:
    """A loopback server listing ``/v1/sex`` by page, sorted by id only when asked to."""
    state = Lookup()

    async def handler(request: web.Request) -> web.Response:
        params = dict(request.query)
        state.requests.append(params)
        page, size = int(params.get("page", "1")), int(params.get("page_size", "50"))
        ids = sorted(state.ids) if "sex_id" in params.get("sort_by", "") else state.ids[::-1]
        chunk = ids[(page - 1) * size : page * size]
        total = len(ids) + (1 if state.shifting and page > 1 else 0)
        body: dict[str, Any] = {
            "sexes": [{"sex_id": i, "description": f"s{i}", "row_num": n} for n, i in enumerate(chunk)],
            "total_entries": total,
            "links": {},
        }
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/v1/sex", handler)
    async with TestServer(app, host="127.0.0.1") as server:
        yield state, str(server.make_url("/v1"))


async def _run(base_url: str, db: Path, wall: WallClock) -> Any:
    async with PracSuiteClient("k", "a", base_url=base_url, rate_limit=10_000.0) as client:
        return await sync(client, ["sexes"], SqliteSink(db), clock=wall.utc, max_restarts=1)


async def test_full_walk_deletes_what_the_server_stopped_listing(
    lookup: tuple[Lookup, str], wall: WallClock, tmp_path: Path
) -> None:
    """A lookup row gone from a stable listing is deleted; an unchanged listing writes nothing."""
    state, url = lookup
    db = tmp_path / "m.sqlite"
    first = await _run(url, db, wall)
    assert first.inserted == 150
    assert all(r.get("sort_by") for r in state.requests)  # the order was asked for, never assumed
    state.ids.remove(42)
    second = await _run(url, db, wall)
    assert (second.deleted, second.inserted, second.updated) == (1, 0, 0)
    assert sorted(dump(db, "sexes")) == sorted(state.ids)


async def test_a_shifting_count_deletes_nothing(lookup: tuple[Lookup, str], wall: WallClock, tmp_path: Path) -> None:
    """When total_entries changes between pages, nothing is deleted and the resource is reported partial."""
    state, url = lookup
    db = tmp_path / "m.sqlite"
    await _run(url, db, wall)
    state.ids.remove(7)
    state.shifting = True
    run = await _run(url, db, wall)
    assert run.deleted == 0
    assert run.resources[0].status == "partial"
    assert 7 in dump(db, "sexes")


async def test_reconcile_runs_when_due(
    sim_config: Any, sim: Any, wall: WallClock, tmp_path: Path
) -> None:
    """An incremental resource gets its full walk once reconcile_every has passed, not before."""
    from tests.sync.conftest import make_client

    db = tmp_path / "m.sqlite"
    async with make_client(sim) as client:
        first = await sync(client, ["patients"], SqliteSink(db), clock=wall.utc)
        wall.advance(3600)
        early = await sync(client, ["patients"], SqliteSink(db), clock=wall.utc, reconcile_every=timedelta(hours=2))
        wall.advance(3601)
        due = await sync(client, ["patients"], SqliteSink(db), clock=wall.utc, reconcile_every=timedelta(hours=2))
    assert not first.resources[0].reconciled
    assert not early.resources[0].reconciled
    assert due.resources[0].reconciled
    assert due.inserted == due.updated == due.deleted == 0
    assert RESOURCES["patients"].mode == "incremental"
